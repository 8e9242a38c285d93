async def upload(request, path):
    with open(path, "wb") as f:  # expect
        f.write(await request.read())  # expect

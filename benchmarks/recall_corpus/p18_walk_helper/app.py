import os


def disk_usage(root):
    total = 0
    for folder, _dirs, files in os.walk(root):
        total += len(files)
    return total


async def stats(request):
    return {"files": disk_usage("/srv/data")}  # expect

import requests


async def health(url):
    response = await requests.get(url)  # expect
    return response.status_code == 200

from urllib.request import urlopen as fetch


async def ping(url):
    return fetch(url).status  # expect

import urllib.request


class BaseFetcher:
    def download(self, url):
        with urllib.request.urlopen(url) as response:
            return response.read()


class ImageFetcher(BaseFetcher):
    async def thumbnail(self, url):
        data = self.download(url)  # expect
        return data[:1024]

import requests


class GitHub:
    def __init__(self, token):
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    async def repo(self, name):
        response = self.session.get(f"https://api.github.com/repos/{name}")  # expect
        return response.json()

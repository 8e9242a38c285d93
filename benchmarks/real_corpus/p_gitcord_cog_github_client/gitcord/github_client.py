# Reproduces: https://github.com/AOSSIE-Org/Gitcord-GithubDiscordBot/pull/2 — a tasks.loop coroutine in a cog calls a sync GitHub client method built on requests.Session
import requests


class GitHubClient:
    def __init__(self, token):
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get_repo_events(self, repo):
        response = self.session.get(f"https://api.github.com/repos/{repo}/events", timeout=10)
        response.raise_for_status()
        return response.json()

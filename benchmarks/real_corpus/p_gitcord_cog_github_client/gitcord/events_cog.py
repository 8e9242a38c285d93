# Reproduces: https://github.com/AOSSIE-Org/Gitcord-GithubDiscordBot/pull/2 — a tasks.loop coroutine in a cog calls a sync GitHub client method built on requests.Session
from discord.ext import commands, tasks

from .github_client import GitHubClient


class Events(commands.Cog):
    def __init__(self, bot, github_client: GitHubClient, repo: str):
        self.bot = bot
        self.github = github_client
        self.repo = repo
        self.poll_events.start()

    @tasks.loop(minutes=5)
    async def poll_events(self):
        events = self.github.get_repo_events(self.repo)  # expect
        for event in events[:5]:
            await self.bot.get_channel(1234).send(event["type"])

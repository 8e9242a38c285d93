# Reproduces: https://github.com/agno-agi/agno/issues/8185 — an on_message coroutine nested in a sync method downloads attachments with requests.get
import discord
import requests


class DiscordClient:
    def __init__(self, agent):
        self.agent = agent
        self.client = discord.Client(intents=discord.Intents.default())
        self._setup_events()

    def _setup_events(self):
        @self.client.event
        async def on_message(message):
            message_video = None
            message_file = None
            for media in message.attachments:
                media_type = media.content_type or ""
                if media_type.startswith("video/"):
                    req = requests.get(media.url)  # expect
                    message_video = req.content
                elif media_type.startswith("application/"):
                    req = requests.get(media.url)  # expect
                    message_file = req.content
            await self.agent.arun(message.content, video=message_video, file=message_file)

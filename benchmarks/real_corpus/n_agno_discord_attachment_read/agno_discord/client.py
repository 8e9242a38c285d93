# Reproduces: https://github.com/agno-agi/agno/issues/8185 — fixed shape: attachments are downloaded with discord.py's awaitable Attachment.read()
import discord


class DiscordClient:
    def __init__(self, agent):
        self.agent = agent
        self.client = discord.Client(intents=discord.Intents.default())
        self._setup_events()

    def _setup_events(self):
        @self.client.event
        async def on_message(message):
            payload = {}
            for media in message.attachments:
                media_type = media.content_type or ""
                if media_type.startswith(("video/", "application/")):
                    payload[media.filename] = await media.read()
            await self.agent.arun(message.content, files=payload)

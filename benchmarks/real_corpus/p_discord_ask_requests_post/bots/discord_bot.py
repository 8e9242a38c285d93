# Reproduces: https://github.com/param20h/PDF-Assistant-RAG/issues/760 — a decorated discord.py command coroutine calls requests.post to the RAG API
import os

import requests
from discord.ext import commands

API_URL = os.environ.get("RAG_API_URL", "http://localhost:8000")
bot = commands.Bot(command_prefix="!")


@bot.command(name="ask")
async def ask_rag(ctx, *, question: str):
    payload = {"question": question, "user": str(ctx.author.id)}
    headers = {"Authorization": f"Bearer {os.environ['RAG_TOKEN']}"}
    response = requests.post(f"{API_URL}/chat/ask", json=payload, headers=headers, timeout=30)  # expect
    await ctx.send(response.json()["answer"])

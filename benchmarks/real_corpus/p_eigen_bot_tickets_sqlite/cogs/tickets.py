# Reproduces: https://github.com/TheCodeVerseHub/Eigen-Bot/pull/74 — a discord.py cog command coroutine uses plain sqlite3.connect/cursor.execute
import sqlite3

from discord.ext import commands

DATABASE_NAME = "data/tickets.db"


class Tickets(commands.Cog):
    def __init__(self, bot):
        self.bot = bot

    @commands.command(name="clearpartners")
    async def clear_partner_roles(self, ctx):
        conn = sqlite3.connect(DATABASE_NAME, timeout=30.0)  # expect
        cursor = conn.cursor()
        cursor.execute("DELETE FROM ticket_partner_roles WHERE guild_id = ?", (ctx.guild.id,))  # expect
        deleted = cursor.rowcount > 0
        conn.commit()  # expect
        conn.close()
        await ctx.send("cleared" if deleted else "nothing to clear")

# Reproduces: https://github.com/father-bot/chatgpt_telegram_bot/issues/242 — async telegram handlers call a module-level Database object built on a sync pymongo client
from . import database

db = database.Database()


async def register_user_if_not_exists(update, context, user):
    if not db.check_if_user_exists(user.id):  # expect
        db.add_new_user(user.id, update.message.chat_id, user.username)  # expect

# Reproduces: https://github.com/father-bot/chatgpt_telegram_bot/issues/242 — async telegram handlers call a module-level Database object built on a sync pymongo client
import pymongo

MONGODB_URI = "mongodb://mongo:27017"


class Database:
    def __init__(self):
        self.client = pymongo.MongoClient(MONGODB_URI)
        self.db = self.client["chatgpt_telegram_bot"]
        self.user_collection = self.db["user"]

    def check_if_user_exists(self, user_id):
        return self.user_collection.count_documents({"_id": user_id}) > 0

    def add_new_user(self, user_id, chat_id, username):
        self.user_collection.insert_one({"_id": user_id, "chat_id": chat_id, "username": username})

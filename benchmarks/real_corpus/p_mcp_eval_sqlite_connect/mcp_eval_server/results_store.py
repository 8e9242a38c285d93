# Reproduces: https://github.com/IBM/mcp-context-forge/issues/5627 — an async results-store method stores rows with sqlite3.connect in a with block
import json
import sqlite3


class ResultsStore:
    def __init__(self, db_path="results.db"):
        self.db_path = db_path

    async def store_result(self, evaluation_id, result):
        with sqlite3.connect(self.db_path) as conn:  # expect
            conn.execute("INSERT INTO results (id, payload) VALUES (?, ?)", (evaluation_id, json.dumps(result)))  # expect
            conn.commit()  # expect
        return evaluation_id

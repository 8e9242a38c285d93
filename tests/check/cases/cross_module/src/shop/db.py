import sqlite3


class Store:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path)

    def orders(self) -> list[tuple[object, ...]]:
        return self.connection.execute("select * from orders").fetchall()

    def count(self, rows: list[object]) -> int:
        return len(rows)

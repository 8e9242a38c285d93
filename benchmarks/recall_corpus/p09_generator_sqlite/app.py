import sqlite3


def iter_events(db_path):
    conn = sqlite3.connect(db_path)
    yield from conn.execute("select id, payload from events")


async def replay(db_path, bus):
    for event_id, payload in iter_events(db_path):  # expect
        await bus.publish(event_id, payload)

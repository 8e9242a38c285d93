# Reproduces: https://github.com/Yepoleb/python-a2s/issues/9 — a bot coroutine queries a game server with the blocking a2s.info/a2s.players
import a2s

server_address = ("203.0.113.10", 27015)
server_info = None
server_players = None


async def server():
    global server_info, server_players
    try:
        server_info = a2s.info(server_address, 1.0)  # expect
        server_players = a2s.players(server_address)  # expect
        return True
    except OSError:
        return False

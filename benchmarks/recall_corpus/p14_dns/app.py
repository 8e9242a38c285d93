import socket


async def resolve_backend(name):
    infos = socket.getaddrinfo(name, 443)  # expect
    return infos[0][4][0]

from tools import shell


async def probe(upload):
    info = shell.ffprobe(upload.path)  # expect
    return info

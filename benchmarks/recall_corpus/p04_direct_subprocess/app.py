import subprocess


async def git_revision():
    out = subprocess.check_output(["git", "rev-parse", "HEAD"])  # expect
    return out.decode().strip()

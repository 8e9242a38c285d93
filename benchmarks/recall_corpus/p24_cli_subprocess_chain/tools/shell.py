import subprocess


def run(cmd):
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def ffprobe(path):
    return run(["ffprobe", "-show_format", path])

"""Cheap to import: the blocking code only runs as a script."""

import time

VERSION = "1"


def slow() -> None:
    time.sleep(1)


if __name__ == "__main__":
    time.sleep(1)

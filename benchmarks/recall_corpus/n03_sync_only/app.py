import time

import requests


def main():
    while True:
        requests.get("http://127.0.0.1:8000/health", timeout=1)
        time.sleep(5)


if __name__ == "__main__":
    main()

import requests
from fastapi import FastAPI

app = FastAPI()


@app.get("/proxy")
def proxy(url: str):
    return requests.get(url, timeout=5).json()

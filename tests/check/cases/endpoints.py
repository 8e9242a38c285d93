"""Sync FastAPI endpoints run in the framework's thread pool; async ones run on the loop."""

import time

import requests
from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()


@app.get("/sync")
def sync_endpoint() -> dict[str, str]:
    time.sleep(1)
    return {"status": requests.get("https://example.com").text}


@router.post("/sync-too")
def sync_router_endpoint() -> None:
    time.sleep(1)


@app.get("/async")
async def async_endpoint() -> dict[str, str]:
    time.sleep(1)  # UNS101
    return {"status": requests.get("https://example.com").text}  # UNS103


@router.api_route("/both", methods=["GET"])
async def async_router_endpoint() -> None:
    sync_router_endpoint()  # UNS101

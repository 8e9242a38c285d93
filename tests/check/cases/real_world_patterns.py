"""Patterns from real reported stalls: SDK clients, typed iteration, subscripts, session factories."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import a2s
import boto3
import httpx
import openai
import pymongo
from google import genai
from langsmith import Client
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

# -- SDK clients whose constructors build an SSL context or load model files ----------------------

MODULE_CLIENT = openai.AsyncOpenAI(api_key="key")  # built once at import: fine


async def openai_async_client(key: str) -> None:
    client = openai.AsyncOpenAI(api_key=key)  # UNS105
    await client.models.list()


async def openai_sync_client(key: str) -> None:
    openai.OpenAI(api_key=key)  # UNS105


async def openai_sync_completion(prompt: str) -> None:
    MODULE_SYNC.chat.completions.create(model="m", messages=[])  # UNS103


MODULE_SYNC = openai.OpenAI(api_key="key")


async def openai_legacy_api(prompt: str) -> None:
    openai.Completion.create(engine="davinci", prompt=prompt)  # UNS103


async def openai_client_reused(prompt: str) -> None:
    await MODULE_CLIENT.chat.completions.create(model="m", messages=[])


async def httpx_context() -> None:
    httpx.create_ssl_context()  # UNS105


async def genai_client(key: str) -> None:
    genai.Client(api_key=key)  # UNS105


class CognitoAuth:
    def __init__(self, region: str) -> None:
        self.client = boto3.client("cognito-idp", region_name=region)

    def authenticate(self, password: str) -> dict[str, str]:
        return self.client.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", AuthParameters={})

    def presign(self, key: str) -> str:
        return self.client.generate_presigned_url("get_object", Params={"Key": key})


async def boto3_helper_class(region: str, password: str) -> None:
    auth = CognitoAuth(region)  # UNS102
    auth.authenticate(password)  # UNS103
    auth.presign("key")


async def boto3_session_client(path: str) -> None:
    s3 = boto3.Session(region_name="eu-west-1").client("s3")  # UNS102
    s3.upload_file(path, "bucket", "key")  # UNS103
    s3.get_paginator("list_objects_v2")
    s3.meta.region_name.upper()
    s3.close()
    s3.tag = "uploads"
    s3.generate_presigned_url("get_object", Params={})
    await asyncio.to_thread(s3.upload_file, path, "bucket", "key")


async def langsmith_prompt() -> None:
    client = Client()
    client.pull_prompt("planner")  # UNS103


async def a2s_queries(address: tuple[str, int]) -> None:
    a2s.info(address, 1.0)  # UNS103
    a2s.players(address)  # UNS103
    await a2s.ainfo(address)


# -- package data read through importlib.resources -----------------------------------------------


def grills() -> Iterator[str]:
    text = resources.files(__package__).joinpath("grills.json").read_text()
    yield from text.splitlines()


async def resources_through_a_generator() -> list[str]:
    return [name for name in grills()]  # UNS102


async def resources_legacy_api() -> None:
    resources.read_text(__package__, "grills.json")  # UNS102
    resources.open_binary(__package__, "grills.json").read()  # UNS102


async def resources_located_only() -> None:
    resources.files(__package__).joinpath("grills.json")


# -- the home and working folders are paths ----------------------------------------------------


def data_home() -> Path:
    return Path.home() / ".app"


async def home_folder_helper() -> None:
    themes = data_home() / "themes"
    themes.mkdir(parents=True, exist_ok=True)  # UNS102
    if (Path.cwd() / "x.json").exists():  # UNS102
        return
    str(themes / "a.json")


HERE = Path(__file__)


class Templates:
    def __init__(self) -> None:
        self.root = Path(__file__)

    async def render(self) -> None:
        self.root.parent.joinpath("page.html").read_text()  # UNS102


async def module_path_attribute() -> None:
    (HERE.parent / "page.html").read_text()  # UNS102
    HERE.parent.name.upper()


# -- iterating catalog calls types the loop variable ---------------------------------------------


async def loop_over_glob(root: Path) -> None:
    for path in root.glob("*.json"):  # UNS102
        path.read_text()  # UNS102
        path.name.upper()


def load_all(root: Path) -> list[str]:
    found = []
    for entry in root.iterdir():
        if entry.is_file():
            found.append(entry.name)
    return found


async def loop_in_a_helper(root: Path) -> None:
    load_all(root)  # UNS102


async def comprehension_items(root: Path) -> None:
    [path.read_text() for path in root.iterdir()]  # UNS102
    {path.name for path in sorted(root.rglob("*.py"))}  # UNS102
    sizes = (path.stat() for path in list(root.glob("*")))  # UNS102
    str(sizes)


def texts(root: Path) -> list[str]:
    return [path.read_text() for path in sorted(root.glob("*.txt"))]


def find_project(start: Path) -> Path | None:
    for parent in start.parents:
        if (parent / "pyproject.toml").exists():
            return parent
    return None


async def items_of_an_attribute(start: Path) -> None:
    for parent in start.parents:
        parent.name.upper()
        parent.is_dir()  # UNS102
    [folder.exists() for folder in reversed(start.parents)]  # UNS102
    [folder.name for folder in start.parents]
    find_project(start)  # UNS102


async def comprehension_in_a_helper(root: Path) -> None:
    texts(root)  # UNS102


async def comprehension_targets_shadow_outer_names(paths: list[str]) -> None:
    path = Path("x")
    [path.upper() for path in paths]
    [name.upper() for name, path in {"a": "b"}.items()]
    str(path)


async def loop_over_unknown(items: list[Path], names: list[str]) -> None:
    for item in items:
        item.read_text()  # an unannotated element type: not followed (no guess)
    for name in names:
        name.upper()
    for key in os.environ:
        key.lower()


# -- SQLAlchemy session factories and context-manager sessions -----------------------------------

engine = create_engine("postgresql://db/app")
SessionLocal = sessionmaker(bind=engine)
LOCK = threading.Lock()


@contextmanager
def get_db() -> Iterator[object]:
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@contextmanager
def holding_lock() -> Iterator[threading.Lock]:
    yield LOCK  # yields the lock without taking it


def get_user(user_id: int) -> object:
    with get_db() as db:
        return db.query(object).filter_by(id=user_id).first()


async def session_from_a_context_manager(user_id: int) -> None:
    get_user(user_id)  # UNS107


async def session_factory_called() -> None:
    session = SessionLocal()
    session.commit()  # UNS107


async def context_manager_protocol_is_the_generators() -> None:
    with holding_lock() as lock:
        str(lock)
    with get_db():
        pass


# -- subscripts: MongoClient["db"]["collection"] -------------------------------------------------


class Database:
    def __init__(self) -> None:
        self.client = pymongo.MongoClient("mongodb://mongo:27017")
        self.db = self.client["app"]
        self.users = self.db["users"]

    def exists(self, user_id: int) -> bool:
        return self.users.count_documents({"_id": user_id}) > 0


DB = Database()
SETTINGS: dict[str, dict[str, str]] = {}


async def subscripted_collection(user_id: int) -> None:
    if not DB.exists(user_id):  # UNS107
        DB.client["app"]["users"].insert_one({"_id": user_id})  # UNS107


class Store:
    def __init__(self) -> None:
        self.client = pymongo.MongoClient("mongodb://mongo:27017")

    async def by_attribute(self) -> None:
        self.client.app.users.find_one({})  # UNS107
        self.client.app.users.name.upper()
        self.client.app.get_collection("users").name.upper()


MONGO = pymongo.MongoClient("mongodb://mongo:27017")


async def module_client_by_attribute() -> None:
    MONGO.app.users.insert_one({})  # UNS107


async def subscripted_plain_values() -> None:
    SETTINGS["a"].get("b")
    os.environ["HOME"].split("/")


# -- tarfile: archives on disk, or in memory -----------------------------------------------------


async def tar_in_memory(root: Path, data: io.BytesIO) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(root, arcname=".")  # UNS102
    with tarfile.open(fileobj=data, mode="r:*") as archive:
        archive.extractall(root, filter="data")  # UNS102
        archive.getnames()


async def tar_on_disk() -> None:
    tarfile.open("backup.tar")  # UNS102
    tarfile.open("backup.tar", fileobj=None)  # UNS102

# Reproduces: https://github.com/openai/openai-agents-python/issues/4675 — async persist/hydrate of a sandbox workspace call Path.exists/mkdir and tarfile add/extract directly
import io
import tarfile
from pathlib import Path


class UnixLocalSandboxSession:
    def __init__(self, state):
        self.state = state

    async def persist_workspace(self):
        root = Path(self.state.manifest.root)
        if not root.exists():  # expect
            raise FileNotFoundError(root)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(root, arcname=".")  # expect
        buf.seek(0)
        return buf

    async def hydrate_workspace(self, data):
        root = Path(self.state.manifest.root)
        root.mkdir(parents=True, exist_ok=True)  # expect
        with tarfile.open(fileobj=data, mode="r:*") as tar:
            tar.extractall(root, filter="data")  # expect

# Reproduces: https://github.com/AlexxIT/SonoffLAN/issues/1464 — a utils helper hashes the integration's own source files with open(..., 'rb') during async setup
import hashlib
import os


def source_hash() -> str:
    digest = hashlib.md5()
    root = os.path.dirname(os.path.dirname(__file__))
    for name in ("__init__.py", "manifest.json"):
        path = os.path.join(root, name)
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:7]

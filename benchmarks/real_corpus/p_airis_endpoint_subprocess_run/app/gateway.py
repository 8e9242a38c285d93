# Reproduces: https://github.com/agiletec-inc/airis-mcp-gateway/issues/82 — a FastAPI async endpoint runs docker compose with subprocess.run
import subprocess

from fastapi import APIRouter, HTTPException

router = APIRouter()


@router.post("/gateway/restart")
async def restart_gateway():
    result = subprocess.run(["docker", "compose", "restart", "mcp-gateway"], capture_output=True, text=True, timeout=60)  # expect
    if result.returncode != 0:
        raise HTTPException(status_code=500, detail=result.stderr)
    return {"status": "restarted"}

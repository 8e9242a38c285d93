# Reproduces: https://github.com/agiletec-inc/airis-mcp-gateway/issues/82 — fixed shape: docker compose runs through asyncio.create_subprocess_exec
import asyncio

from fastapi import APIRouter, HTTPException

router = APIRouter()


@router.post("/gateway/restart")
async def restart_gateway():
    proc = await asyncio.create_subprocess_exec(
        "docker", "compose", "restart", "mcp-gateway",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    if proc.returncode != 0:
        raise HTTPException(status_code=500, detail=stderr.decode())
    return {"status": "restarted"}

"""Admin routes (only with updates enabled and the bearer token): ``POST /admin/reload``.

Served processes follow store generation swaps by themselves; a reload restarts them (new
processes re-open the store, empty their caches and re-read the named-query library), one by
one so that the server keeps answering.
"""

from __future__ import annotations

import json
import os
import signal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .sparql import check_token

router = APIRouter()


@router.post("/admin/reload", include_in_schema=False)
async def reload(request: Request) -> Response:
    """Restart the web worker processes (supervised) or empty the caches (in-process)."""
    check_token(request)
    if request.app.state.supervised:
        os.kill(os.getppid(), signal.SIGHUP)  # uvicorn's supervisor restarts its processes
        message = "the web worker processes restart one by one"
    else:
        request.app.state.runner.context.clear_caches()
        message = "caches emptied"
    body = {"ok": True, "status": 202, "message": message}
    return Response(json.dumps(body), status_code=202, media_type="application/json")

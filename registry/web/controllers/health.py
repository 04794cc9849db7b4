"""Liveness and readiness probes for load balancers."""

from __future__ import annotations

from litestar import MediaType, Response, get

from registry.services import health


@get(
    "/healthz",
    opt={"public": True},
    media_type=MediaType.JSON,
    sync_to_thread=False,
    include_in_schema=False,
)
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@get("/readyz", opt={"public": True}, media_type=MediaType.JSON, include_in_schema=False)
async def readyz() -> Response[dict[str, str]]:
    """The database answers; 503 otherwise, so the balancer stops sending traffic here."""
    if await health.database_answers():
        return Response({"status": "ready"})
    return Response({"status": "unavailable"}, status_code=503)

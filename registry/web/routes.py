"""Every route the application serves, in one list: the URL map at a glance."""

from pathlib import Path

from litestar.static_files import create_static_files_router

from registry.web.controllers.api import CatalogueApi
from registry.web.controllers.catalogue import CatalogueController
from registry.web.controllers.health import healthz, readyz

STATIC = Path(__file__).resolve().parent / "static"

ROUTE_HANDLERS = [
    CatalogueController,
    CatalogueApi,
    healthz,
    readyz,
    create_static_files_router(
        path="/static", directories=[STATIC], opt={"public": True}, include_in_schema=False
    ),
]

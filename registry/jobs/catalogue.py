"""The catalogue's derived totals, recounted after projects are added (an approval)."""

from __future__ import annotations

from procrastinate import Blueprint

from registry.services import catalogue

tasks = Blueprint()


@tasks.task(name="refresh_totals")
async def refresh_totals() -> None:
    await catalogue.refresh_totals()

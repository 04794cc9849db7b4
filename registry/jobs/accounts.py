"""Account mail that must not be timed: the password-reset lookup and link, after the answer
(registry.services.accounts.ask_password_reset defers it)."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

from registry.domain.accounts import Origin
from registry.jobs.context import settings_of
from registry.services import accounts

tasks = Blueprint()


@tasks.task(name="password_reset", pass_context=True)
async def password_reset(
    context: JobContext, email: str, language: str, client_address: str | None
) -> None:
    await accounts.request_password_reset(
        email, Origin(client_address, language), settings_of(context)
    )

"""What every task gets from the worker that runs it."""

from __future__ import annotations

from procrastinate import JobContext

from registry.settings import Settings

SETTINGS = "settings"


def settings_of(context: JobContext) -> Settings:
    """The worker's settings, handed to it at start (never read again from the environment)."""
    return context.additional_context[SETTINGS]

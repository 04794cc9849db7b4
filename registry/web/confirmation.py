"""One confirmation step for actions that cannot be taken back (withdraw a proposal, publish a
call, remove a role, disable an account), without JavaScript: the action's button posts its
form; without `confirm=yes` the answer is a page that says what will happen, with the same
form (its fields kept, CSRF token renewed) and a danger-styled button that adds `confirm=yes`,
and a way back. Nothing changes until that second post."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from litestar.response import Template

CONFIRMED = "yes"


def confirmed(values: Mapping[str, str]) -> bool:
    return values.get("confirm") == CONFIRMED


def confirmation_page(
    *,
    action: str,
    title: str,
    explanation: str,
    button: str,
    back: str,
    values: Mapping[str, str] | None = None,
    keep: Iterable[str] = (),
) -> Template:
    """The question before `action` is done; `title`, `explanation` and `button` are already
    translated, `keep` names the posted fields to send again (a row version)."""
    posted = values or {}
    return Template(
        "confirm.html",
        context={
            "action": action,
            "title": title,
            "explanation": explanation,
            "button": button,
            "back": back,
            "hidden": {name: posted.get(name, "") for name in keep},
        },
    )

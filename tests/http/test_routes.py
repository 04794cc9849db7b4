"""Every route says who may call it: public, or a guard."""

import pytest

pytestmark = [pytest.mark.http]


def test_every_route_declares_public_or_a_guard(client):
    app = client.app
    undeclared = [
        f"{sorted(handler.http_methods)} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.http_methods != {"OPTIONS"}  # Litestar's own CORS preflight answers
        and not handler.opt.get("public")
        and not handler.resolve_guards()
        and not route.path.startswith("/schema")
    ]
    assert undeclared == []

"""The development outbox lists every mail, reset links included. With DEBUG=true it opens
only on this machine (loopback) and with the token the server printed on its console when it
started; anyone else gets the same 404 as in production."""

from __future__ import annotations

import pytest

from registry.web.auth import DEVELOPMENT_TOKEN

pytestmark = [pytest.mark.http]


def _token(client) -> str:  # type: ignore[no-untyped-def]
    return client.app.state.get(DEVELOPMENT_TOKEN) or "not-printed"


async def test_the_outbox_needs_loopback_and_the_console_token(client, from_address, settings):
    assert settings.debug
    token = _token(client)

    from_address("198.51.100.23")  # anyone on the network
    assert (await client.get("/dev/outbox")).status_code == 404
    assert (await client.get(f"/dev/outbox?token={token}")).status_code == 404

    from_address("127.0.0.1")  # this machine
    assert (await client.get("/dev/outbox")).status_code == 404
    assert (await client.get("/dev/outbox?token=guessed")).status_code == 404
    assert (await client.get(f"/dev/outbox?token={token}x")).status_code == 404
    assert (await client.get(f"/dev/outbox?token={token}")).status_code == 200

    from_address("::1")
    assert (await client.get(f"/dev/outbox?token={token}")).status_code == 200


async def test_the_token_is_new_at_each_start(settings):
    from registry.app import create_app

    first, second = create_app(settings), create_app(settings)
    assert first.state.dev_outbox_token != second.state.dev_outbox_token
    assert len(first.state.dev_outbox_token) >= 20

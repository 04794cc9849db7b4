"""Settings read from the environment: the development address mail links start with."""

from __future__ import annotations

import pytest

from registry.settings import Settings


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"HOST": "localhost", "PORT": "9000"}, "http://localhost:9000"),
        # Listening everywhere: the link names this machine, reachable from itself.
        ({"HOST": "0.0.0.0", "PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"HOST": "::", "PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"HOST": "::1", "PORT": "8080"}, "http://[::1]:8080"),
        # Set explicitly, it wins (production: the address users reach, behind the proxy).
        (
            {"PORT": "8123", "PUBLIC_URL": "https://registry.example.vn/"},
            "https://registry.example.vn",
        ),
    ],
)
def test_mail_links_follow_the_port_the_server_listens_on(
    environ: dict[str, str], expected: str
) -> None:
    assert Settings.from_env(environ).public_url == expected

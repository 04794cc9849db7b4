"""The client address behind a load balancer, as the Procfile's `web:` line serves it (uvicorn
with --proxy-headers): X-Forwarded-For counts only when the request comes from an address in
FORWARDED_ALLOW_IPS. The address is what the sign-in throttle and the audit trail see, so a
forged header from anywhere else must not choose it, and a trusted balancer must not hide it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.factories import free_port, log_tail

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FORGED = "203.0.113.77"


@contextmanager
def procfile_web(database_url: str, data_dir: Path, forwarded_allow_ips: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REGISTRY_DATA_DIR": str(data_dir),
        "SECRET_KEY": "proxy-tests-only-" + "0" * 32,
        "SECURE_COOKIES": "false",  # plain http on 127.0.0.1 in this test
        "FORWARDED_ALLOW_IPS": forwarded_allow_ips,
        "PICCOLO_CONF": "registry.piccolo_conf",
    }
    log = data_dir / f"uvicorn-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "registry.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--proxy-headers"],
            env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn stopped at start:\n{log_tail(log)}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not answer in time:\n{log_tail(log)}")
            time.sleep(0.1)  # polling for the port
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def failed_sign_in(base: str, forwarded_for: str) -> str:
    """A wrong password sent with X-Forwarded-For; returns the typed address (unique)."""
    email = f"proxy-{secrets.token_hex(4)}@example.vn"
    headers = {"X-Forwarded-For": forwarded_for}
    with httpx.Client(base_url=base, headers=headers) as browser:
        browser.get("/login")
        answer = browser.post(
            "/login",
            data={"email": email, "password": "not it at all",
                  "_csrf_token": browser.cookies["csrftoken"]},
        )  # fmt: skip
        assert answer.status_code == 400, answer.text
    return email


async def _client_address_of_last_failure(database_url: str, before: int) -> str | None:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            "SELECT client_address FROM audit.event WHERE seq > $1 AND action = 'login.failed' "
            "ORDER BY seq DESC LIMIT 1",
            before,
        )
    finally:
        await conn.close()


async def _last_seq(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval("SELECT coalesce(max(seq), 0) FROM audit.event")
    finally:
        await conn.close()


async def test_forwarded_for_counts_only_from_a_trusted_proxy(catalogue, database_url, tmp_path):
    # This test's requests come from 127.0.0.1: trusted, it acts as the load balancer.
    with procfile_web(database_url, tmp_path, "127.0.0.1") as base:
        before = await _last_seq(database_url)
        failed_sign_in(base, FORGED)
        assert await _client_address_of_last_failure(database_url, before) == FORGED

    # The balancer is elsewhere: a client's own X-Forwarded-For is ignored.
    with procfile_web(database_url, tmp_path, "192.0.2.10") as base:
        before = await _last_seq(database_url)
        failed_sign_in(base, FORGED)
        assert await _client_address_of_last_failure(database_url, before) == "127.0.0.1"

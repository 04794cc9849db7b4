"""An attachment uploaded through the app is in PostgreSQL, not in the process or a folder: a
storage object made afresh reads it, and the download streams it with its headers."""

from __future__ import annotations

import hashlib
import os
import sys
from urllib.parse import quote

import anyio
import asyncpg
import pytest

from registry.domain.accounts import Grant, Role
from registry.services import proposals
from tests.factories import (
    CSRF_COOKIE,
    ORIGIN,
    csrf_token,
    on_app_loop,
    open_call,
    pdf_bytes,
    service_actor,
    sign_in,
)

pytestmark = [pytest.mark.http]

FILENAME = "thuyết minh đề tài.pdf"
READ = """
import asyncio, sys
from registry.services.storage import PostgresStorage, read_all
stored = asyncio.run(PostgresStorage().open(sys.argv[1]))
sys.stdout.buffer.write(asyncio.run(read_all(stored)))
"""


async def test_an_uploaded_file_is_in_the_database_and_downloads_as_a_stream(
    client, make_person, database_url, settings
):
    conn = await asyncpg.connect(database_url)
    try:
        fund_id = await conn.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
        organisation_id = await conn.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    finally:
        await conn.close()
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    applicant = await make_person(("applicant", "vast"))
    call_id = await on_app_loop(
        client, open_call, service_actor(manager, Grant(Role.FUND_MANAGER, fund_id)), fund_id
    )
    member = service_actor(applicant, Grant(Role.APPLICANT, organisation_id))
    proposal_id = await on_app_loop(
        client, proposals.start, member, call_id, organisation_id, ORIGIN
    )
    await sign_in(client, applicant, next_path=f"/proposals/{proposal_id}")
    await csrf_token(client)
    content = pdf_bytes(f"Tệp lưu trong cơ sở dữ liệu {proposal_id}")

    uploaded = await client.post(
        f"/proposals/{proposal_id}/attachments",
        data={"kind": "description", "_csrf_token": client.cookies[CSRF_COOKIE]},
        files={"file": (FILENAME, content, "application/pdf")},
    )
    assert uploaded.status_code == 303, uploaded.text

    attachment = (await on_app_loop(client, proposals.get, member, proposal_id)).attachments[0]
    # Another process, with a storage object of its own, reads both stored copies.
    env = {**os.environ, "DATABASE_URL": database_url}
    for sha256 in (attachment.sha256, attachment.stripped_sha256):
        other = await anyio.run_process([sys.executable, "-c", READ, sha256], env=env)
        assert hashlib.sha256(other.stdout).hexdigest() == sha256
    assert not (settings.data_dir / "blobs").exists()

    download = await client.get(f"/proposals/{proposal_id}/files/{attachment.sha256}")
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-length"] == str(len(content))
    assert (
        download.headers["content-disposition"] == f"attachment; filename*=utf-8''{quote(FILENAME)}"
    )
    policies = download.headers.get_list("content-security-policy")
    assert "sandbox" in policies
    assert any("frame-ancestors 'none'" in policy for policy in policies)  # the default too

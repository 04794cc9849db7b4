"""Issuing a call's documents as a batch of jobs, run by real procrastinate workers with the
real renderer (WeasyPrint, in recycled child processes) and signer (pyHanko): every approved
outcome gets exactly one document and its applicant one mail with that PDF attached, numbers
stay gap-free with two workers at once, starting again issues nothing twice, and only the
fund's managers start or watch a batch."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from email import policy
from email.parser import BytesParser

import pytest
from pypdf import PdfReader

from registry.domain.accounts import Role
from registry.domain.decision_documents import Signer
from registry.domain.documents import DocumentKind
from registry.domain.errors import InvalidForm, NotFound
from registry.services import document_batches, mail, signing
from registry.services.storage import PostgresStorage, read_all, sha256_of
from registry.settings import Settings
from tests.factories import ORIGIN, approved_call, drain_jobs, person

pytestmark = pytest.mark.integration

STORAGE = PostgresStorage()
SIGNER = Signer(on_behalf="KT. GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC", name="Nguyễn Thị Minh Hằng")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("batch-data"),
        worker_concurrency=2,
    )


async def documents_of(db, call_id: int):  # type: ignore[no-untyped-def]
    return await db.fetch(
        "SELECT id, kind, outcome, number, number_label, sha256, verification_code"
        " FROM decision_document WHERE call = $1 AND replaced_by IS NULL ORDER BY number",
        call_id,
    )


def mails_to(settings: Settings, recipient: str) -> list:  # type: ignore[type-arg]
    parser = BytesParser(policy=policy.default)
    found = []
    for path in sorted(mail.outbox_dir(settings).glob("*.eml")):
        message = parser.parsebytes(path.read_bytes())
        if message["To"] == recipient:
            found.append(message)
    return found


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_a_batch_issues_each_document_once_and_mails_it(db, database_url, settings):  # type: ignore[no-untyped-def]
    call = await approved_call(db, database_url, 4)
    manager = call["manager"]
    batch = await document_batches.start(manager, call["call_id"], SIGNER, ORIGIN)
    # A second click while the jobs wait answers the same batch and queues nothing more.
    assert await document_batches.start(manager, call["call_id"], SIGNER, ORIGIN) == batch
    before = await document_batches.progress(manager, call["call_id"])
    assert (before.total, before.issued, before.running) == (5, 0, True)

    await drain_jobs(settings)

    after = await document_batches.progress(manager, call["call_id"])
    assert (after.issued, after.percent, after.running) == (5, 100, False)
    assert after.finished_at is not None
    issued = await documents_of(db, call["call_id"])
    first = issued[0]["number"]
    assert [d["number"] for d in issued] == list(range(first, first + 5))
    kinds = [DocumentKind(d["kind"]) for d in issued]
    assert kinds.count(DocumentKind.CALL_DECISION) == 1
    assert sorted(d["outcome"] for d in issued if d["outcome"]) == sorted(call["outcomes"])

    for document in issued:
        pdf = await read_all(await STORAGE.open(document["sha256"]))
        validity = await signing.validate(settings, pdf)
        assert validity.valid, document["number_label"]
        text = text_of(pdf)
        assert document["number_label"] in text
        assert "Nguyễn Thị Minh Hằng" in text
        assert "PHÓ GIÁM ĐỐC" in text
        if document["kind"] == DocumentKind.FUNDING:
            assert "đồng" in text
            assert "tháng" in text
        if document["kind"] in (DocumentKind.RESERVE, DocumentKind.REJECTION):
            assert "THÔNG BÁO" in text
            assert "/5" in text  # the official mark of each criterion

    # Each applicant's document went out once, attached, with the link to verify it.
    messages = mails_to(settings, call["applicant"].email)
    assert len(messages) == 4
    attached = set()
    for message in messages:
        [part] = list(message.iter_attachments())
        assert part.get_content_type() == "application/pdf"
        attached.add(sha256_of(part.get_content()))
        assert "/verify/" in message.get_body(("plain",)).get_content()
    assert attached == {d["sha256"] for d in issued if d["outcome"]}

    # Started again: a new batch that finds everything issued; nothing new, nothing re-sent.
    await document_batches.start(manager, call["call_id"], SIGNER, ORIGIN)
    await drain_jobs(settings)
    assert [d["id"] for d in await documents_of(db, call["call_id"])] == [d["id"] for d in issued]
    assert len(mails_to(settings, call["applicant"].email)) == 4
    assert (await document_batches.progress(manager, call["call_id"])).finished_at is not None
    actions = await db.fetch(
        "SELECT action FROM audit.event WHERE object_ref = $1", f"call:{call['call_id']}"
    )
    assert [a["action"] for a in actions].count("documents.batch_started") == 2


#: Runs the jobs due, as `registry worker` does, and stops when none is left.
WORKER = (
    "import asyncio; from registry.jobs import worker; from registry.settings import Settings; "
    "asyncio.run(worker.run(Settings.from_env(), wait=False, signal_handlers=False))"
)


async def test_two_worker_processes_number_without_gaps_and_sign_every_document(  # type: ignore[no-untyped-def]
    db, database_url, settings
):
    call = await approved_call(db, database_url, 19)
    await document_batches.start(call["manager"], call["call_id"], SIGNER, ORIGIN)
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REGISTRY_DATA_DIR": str(settings.data_dir),
        "WORKER_CONCURRENCY": "2",
    }

    workers = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER, env=environment)
        for _ in range(2)
    ]
    assert [await asyncio.wait_for(w.wait(), 300) for w in workers] == [0, 0]

    issued = await documents_of(db, call["call_id"])
    assert len(issued) == 20
    numbers = [d["number"] for d in issued]
    assert numbers == list(range(numbers[0], numbers[0] + 20))
    assert len({d["verification_code"] for d in issued}) == 20
    for document in issued:
        pdf = await read_all(await STORAGE.open(document["sha256"]))
        assert (await signing.validate(settings, pdf)).valid


async def test_only_the_funds_managers_start_or_watch_a_batch(db, database_url):  # type: ignore[no-untyped-def]
    call = await approved_call(db, database_url, 1)
    other_fund = await db.fetchval("SELECT code FROM fund WHERE code <> 'nafosted' LIMIT 1")
    for stranger in (
        call["applicant"],
        await person(database_url, (Role.FUND_MANAGER, other_fund)),
        await person(database_url, (Role.ADMIN, None)),
    ):
        with pytest.raises(NotFound):
            await document_batches.start(stranger, call["call_id"], SIGNER, ORIGIN)
        with pytest.raises(NotFound):
            await document_batches.progress(stranger, call["call_id"])
    batches = await db.fetchval("SELECT count(*) FROM issue_batch WHERE call = $1", call["call_id"])
    assert batches == 0


def test_the_signing_block_is_required_and_bounded():
    with pytest.raises(InvalidForm) as refused:
        document_batches.read_signer("", " ", "x" * 200)
    assert {p.field for p in refused.value.problems} == {"signer_title", "signer_name"}
    signer = document_batches.read_signer("kt. giám đốc", "phó giám đốc", "  Lê  Văn An ")
    assert signer == Signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Lê Văn An")

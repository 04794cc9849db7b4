"""Issuing decision documents against the real database: numbers per fund and calendar year
with no gaps and no duplicates when several connections issue at once, a failure mid-issue
gives its number back, issuing again returns the same document, a correction is a new number
naming the one it replaces, the signed PDF validates and names the fund, only the fund's
managers (or the system) issue, and the lookups /verify uses find a document by code and by
the SHA-256 of its exact bytes."""

from __future__ import annotations

import asyncio
import gc
import html
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from registry.documents.pdf import render_pdf
from registry.domain.accounts import Role
from registry.domain.clock import MovingClock
from registry.domain.documents import DocumentKind
from registry.domain.errors import NotFound
from registry.services import clock, signing
from registry.services import documents as issuing
from registry.services.storage import PostgresStorage, read_all, sha256_of
from registry.settings import Settings
from tests.factories import ORIGIN, approved_call, open_call, person

pytestmark = pytest.mark.integration

MILLION = 1_000_000
STORAGE = PostgresStorage()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("signing-data"))


async def tiny(draft: issuing.Draft) -> bytes:
    """A stand-in for the decision templates (another desk's): the number, date and code."""
    return await render_pdf(
        "<html><body><h1>QUYẾT ĐỊNH</h1>"
        f"<p>Số: {html.escape(draft.number_label)}</p>"
        f"<p>{html.escape(draft.fund_name)} · {draft.issued_at.isoformat()}</p>"
        f"<p>Mã xác thực: {draft.verification_code} · {html.escape(draft.verify_url)}</p>"
        "</body></html>"
    )


async def numbers_of(db, fund_id: int, year: int) -> list[int]:  # type: ignore[no-untyped-def]
    rows = await db.fetch(
        "SELECT number FROM decision_document WHERE fund = $1 AND year = $2 ORDER BY number",
        fund_id,
        year,
    )
    return [r["number"] for r in rows]


async def test_concurrent_issues_get_distinct_gap_free_numbers(db, database_url, settings) -> None:  # type: ignore[no-untyped-def]
    # A year of its own, so other tests' documents of this fund do not count.
    year = 2031
    call = await approved_call(db, database_url, 50)
    queue = list(call["outcomes"])
    failures = {7: 0}  # the 7th render fails once: its number must not be lost

    async def flaky(draft: issuing.Draft) -> bytes:
        failures[7] += 1
        if failures[7] == 7:
            raise RuntimeError("renderer crashed")
        return await tiny(draft)

    async def worker() -> list[issuing.IssuedDocument]:
        done = []
        while queue:
            outcome = queue.pop()
            try:
                done.append(
                    await issuing.issue_for_outcome(
                        None, outcome, flaky, None, settings=settings, storage=STORAGE
                    )
                )
            except RuntimeError:
                queue.append(outcome)  # a job would be retried
        return done

    with clock.using(MovingClock(datetime(year, 3, 5, 2, 0, tzinfo=UTC))):
        issued = [d for batch in await asyncio.gather(*(worker() for _ in range(4))) for d in batch]

    assert len(issued) == 50
    assert sorted(d.number for d in issued) == list(range(1, 51))
    assert await numbers_of(db, call["fund_id"], year) == list(range(1, 51))
    assert (
        await db.fetchval(
            "SELECT last FROM decision_number WHERE fund = $1 AND year = $2", call["fund_id"], year
        )
        == 50
    )
    assert len({d.verification_code for d in issued}) == 50
    # Decisions are QĐ, notices TB, in the fund's one sequence.
    assert all(
        d.number_label == f"{d.number:02d}/{d.kind.type_code}-NAFOSTED" for d in issued
    )
    assert {d.number_label.split("/")[1][:2] for d in issued} == {"QĐ", "TB"}
    # Each stored file is named by a blob row (so the storage's sweep keeps it).
    assert await db.fetchval(
        "SELECT count(*) FROM decision_document d JOIN blob b ON b.sha256 = d.sha256"
        " WHERE d.fund = $1 AND d.year = $2", call["fund_id"], year,
    ) == 50  # fmt: skip


async def test_numbers_restart_each_year_and_each_fund_counts_alone(
    db, database_url, settings
) -> None:  # type: ignore[no-untyped-def]
    ours = await approved_call(db, database_url, 2)
    theirs = await approved_call(db, database_url, 1, fund="nafosted")
    with clock.using(MovingClock(datetime(2032, 12, 31, 17, 30, tzinfo=UTC))):  # 2033 in Hà Nội
        first = await issuing.issue_for_outcome(
            None, ours["outcomes"][0], tiny, None, settings=settings, storage=STORAGE
        )
    with clock.using(MovingClock(datetime(2032, 12, 31, 12, 0, tzinfo=UTC))):
        other_year = await issuing.issue_for_outcome(
            None, ours["outcomes"][1], tiny, None, settings=settings, storage=STORAGE
        )
    assert (first.year, first.number) == (2033, 1)
    assert (other_year.year, other_year.number) == (2032, 1)
    with clock.using(MovingClock(datetime(2033, 1, 2, tzinfo=UTC))):
        call_doc = await issuing.issue_for_call(
            None, theirs["call_id"], tiny, None, settings=settings, storage=STORAGE
        )
    assert (call_doc.kind, call_doc.year, call_doc.number) == (DocumentKind.CALL_DECISION, 2033, 2)


async def test_issuing_again_returns_the_same_document(db, database_url, settings) -> None:  # type: ignore[no-untyped-def]
    call = await approved_call(db, database_url, 1)
    outcome = call["outcomes"][0]
    first = await issuing.issue_for_outcome(
        call["manager"], outcome, tiny, ORIGIN, settings=settings, storage=STORAGE
    )
    again = await asyncio.gather(
        *(
            issuing.issue_for_outcome(None, outcome, tiny, None, settings=settings, storage=STORAGE)
            for _ in range(3)
        )
    )
    assert {d.id for d in again} == {first.id}
    assert (
        await db.fetchval("SELECT count(*) FROM decision_document WHERE outcome = $1", outcome) == 1
    )
    event = await db.fetchrow(
        "SELECT actor, summary FROM audit.event WHERE object_ref = $1",
        f"decision_document:{first.id}",
    )
    assert event["actor"] == call["manager"].ref
    assert first.verification_code in event["summary"]


async def test_the_signed_pdf_validates_names_the_fund_and_is_stored_as_issued(
    db, database_url, settings
) -> None:  # type: ignore[no-untyped-def]
    call = await approved_call(db, database_url, 1)
    document = await issuing.issue_for_outcome(
        None, call["outcomes"][0], tiny, None, settings=settings, storage=STORAGE
    )
    pdf = await read_all(await STORAGE.open(document.sha256))
    assert sha256_of(pdf) == document.sha256
    assert len(pdf) == document.size
    fund_name = await db.fetchval("SELECT name_vi FROM fund WHERE id = $1", call["fund_id"])
    assert document.signer == fund_name
    validity = await signing.validate(settings, pdf)
    assert validity.signed
    assert validity.valid
    assert validity.signer == fund_name
    assert document.kind in {DocumentKind.FUNDING, DocumentKind.RESERVE}
    assert document.subject.startswith("TEST-2027-")

    tampered = bytearray(pdf)
    position = pdf.index(b"/Contents") - 200  # inside the signed bytes
    tampered[position] ^= 0x01
    assert not (await signing.validate(settings, bytes(tampered))).valid
    assert await issuing.by_sha256(sha256_of(bytes(tampered))) is None
    assert (await issuing.by_sha256(document.sha256)).id == document.id  # type: ignore[union-attr]


async def test_a_correction_is_a_new_number_and_the_old_one_is_marked_replaced(
    db, database_url, settings
) -> None:  # type: ignore[no-untyped-def]
    call = await approved_call(db, database_url, 1)
    old = await issuing.issue_for_outcome(
        None, call["outcomes"][0], tiny, None, settings=settings, storage=STORAGE
    )
    new = await issuing.correct(
        call["manager"], old.id, tiny, ORIGIN, settings=settings, storage=STORAGE
    )
    assert new.id != old.id
    assert (new.year, new.number) == (old.year, old.number + 1)
    assert new.replaces_code == old.verification_code
    assert (new.kind, new.outcome_id) == (old.kind, old.outcome_id)

    again = await issuing.by_code(old.verification_code)
    assert again is not None
    assert again.replaced
    assert again.replaced_by_code == new.verification_code
    # Issuing the outcome now gives the correction, not a third document.
    latest = await issuing.issue_for_outcome(
        None, call["outcomes"][0], tiny, None, settings=settings, storage=STORAGE
    )
    assert latest.id == new.id


async def test_only_the_funds_managers_or_the_system_issue(db, database_url, settings) -> None:  # type: ignore[no-untyped-def]
    call = await approved_call(db, database_url, 1)
    outsider = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    other_fund = await db.fetchval("SELECT code FROM fund WHERE code <> 'nafosted' LIMIT 1")
    strangers = [
        call["applicant"],
        await person(database_url, (Role.FUND_MANAGER, other_fund)),
        await person(database_url, (Role.ADMIN, None)),
    ]
    for stranger in strangers:
        with pytest.raises(NotFound):
            await issuing.issue_for_outcome(
                stranger, call["outcomes"][0], tiny, ORIGIN, settings=settings, storage=STORAGE
            )
        with pytest.raises(NotFound):
            await issuing.issue_for_call(
                stranger, call["call_id"], tiny, ORIGIN, settings=settings, storage=STORAGE
            )
    assert (
        await db.fetchval("SELECT count(*) FROM decision_document WHERE call = $1", call["call_id"])
        == 0
    )
    # Any manager of the fund may (not only those who decided).
    document = await issuing.issue_for_call(
        outsider, call["call_id"], tiny, ORIGIN, settings=settings, storage=STORAGE
    )
    assert document.kind == DocumentKind.CALL_DECISION


async def test_unapproved_outcomes_get_no_document(db, database_url, settings) -> None:  # type: ignore[no-untyped-def]
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    manager = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    call_id = await open_call(
        manager,
        fund_id,
        budget_vnd=500 * MILLION,
        max_request_vnd=100 * MILLION,
        min_request_vnd=0,
    )
    with pytest.raises(NotFound):
        await issuing.issue_for_call(
            manager, call_id, tiny, ORIGIN, settings=settings, storage=STORAGE
        )


async def test_the_stamp_is_a_visible_signature_on_the_first_page(settings) -> None:  # type: ignore[no-untyped-def]
    pdf = await tiny_pdf()
    issuer = signing.Issuer(999_001, "stamp-test", "Quỹ Thử nghiệm Chữ ký")
    signed = await signing.sign(settings, issuer, pdf)
    first_page = PdfReader(io.BytesIO(signed)).pages[0]
    widgets = [a.get_object() for a in first_page["/Annots"]]
    [stamp] = [w for w in widgets if w.get("/FT") == "/Sig"]
    assert [float(x) for x in stamp["/Rect"]] == [float(x) for x in signing.STAMP_BOX]
    assert "/AP" in stamp  # it has an appearance: drawn, not invisible
    validity = await signing.validate(settings, signed)
    assert validity.valid
    assert validity.signer == "Quỹ Thử nghiệm Chữ ký"


def test_the_stamp_shows_the_time_in_iso_8601_at_plus_seven() -> None:
    at = datetime(2026, 3, 5, 2, 30, 15, 123456, tzinfo=UTC)
    assert signing.iso_signing_time(at) == "2026-03-05T09:30:15+07:00"


async def tiny_pdf() -> bytes:
    return await render_pdf("<html><body><p>Quyết định</p></body></html>")


# WeasyPrint's PDF/A output leaves its ICC profile file open (its bug, not ours); collected
# within this test, so the warning stays here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_a_signed_pdf_a_3b_keeps_its_pdf_a_identification(settings) -> None:  # type: ignore[no-untyped-def]
    def pdf_a() -> bytes:
        return HTML(string="<html lang=vi><body><p>Quyết định</p></body></html>").write_pdf(
            pdf_variant="pdf/a-3b"
        )

    issuer = signing.Issuer(999_002, "pdfa-test", "Quỹ PDF/A")
    signed = await signing.sign(settings, issuer, await asyncio.to_thread(pdf_a))
    xmp = PdfReader(io.BytesIO(signed)).xmp_metadata
    assert xmp is not None
    metadata = xmp.stream.get_data()
    assert b'pdfaid:part="3"' in metadata
    assert b'pdfaid:conformance="B"' in metadata
    assert (await signing.validate(settings, signed)).valid
    gc.collect()

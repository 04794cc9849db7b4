"""Expert review through the pages: the call's review settings, the manager's reviewer pool,
the reviewer's desk, the declaration before opening a proposal, the review form (autosave,
per-field messages, submit and lock), the manager's reopening, 404s for everyone else, and the
blind-review leak test: a reviewer of a blind call crawls everything they can reach (pages,
JSON answers, downloads, their mail) and finds nothing that names the applicant, while the same
crawl in an open call does find the organisation."""

from __future__ import annotations

import io
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from markupsafe import escape
from pypdf import PdfReader

from registry.domain.accounts import Grant, Role
from registry.domain.identifiers import orcid_check_digit
from registry.domain.proposals import BudgetCategory, BudgetLine, Draft, Milestone, TeamMember
from registry.domain.text import collation_key
from registry.i18n import translate_in
from registry.services import attachments, proposals, reviewers, reviews, submissions
from registry.services.storage import storage_from
from tests.factories import (
    ORIGIN,
    Person,
    hidden_value,
    local_time,
    make_assignment,
    on_app_loop,
    open_call,
    pdf_bytes,
    post_form,
    publish_call_through_forms,
    service_actor,
    sign_in,
    technology_ids,
)

pytestmark = [pytest.mark.http]

AUTOSAVE = {"X-Autosave": "1", "Accept": "application/json"}


def orcid(base15: str) -> str:
    digits = base15 + orcid_check_digit(base15)
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


@dataclass
class Case:
    """A call of NAFOSTED with one submitted proposal whose applicant is easy to recognise,
    assigned to two reviewers (both able to sign in), and the fund's manager."""

    call_id: int
    fund_id: int
    proposal_id: int
    reference: str
    manager: Person
    reviewer: Person
    colleague: Person
    #: Every string that names the applicant (and, in a blind call, the other reviewer).
    identifying: list[str] = field(default_factory=list)
    organisation_name: str = ""
    pi_name: str = ""
    author: str = ""
    filename: str = ""


async def _proposal(member, call_id, organisation_id, store, identity) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A submitted proposal carrying the applicant's identity in every place it can hide."""
    proposal_id = await proposals.start(member, call_id, organisation_id, ORIGIN)
    proposal = await proposals.get(member, proposal_id)
    draft = Draft(
        title_vi="Cảm biến sinh học nano cho chẩn đoán sớm",
        abstract_vi="Nghiên cứu cảm biến sinh học nano cho y tế cơ sở, dữ liệu mở và đánh giá.",
        technologies=tuple(await technology_ids())[:1],
        pi_name=identity["pi_name"],
        pi_orcid=identity["pi_orcid"],
        team=tuple(
            TeamMember(name, orcid_value, "Nghiên cứu viên")
            for name, orcid_value in identity["team"]
        ),
        budget=(BudgetLine(BudgetCategory.PERSONNEL, 1_000_000_000, 300_000_000),),
        duration_months=24,
        milestones=(Milestone(12, "Mẫu thử"), Milestone(24, "Thử nghiệm lâm sàng")),
    )
    await proposals.save_draft(member, proposal_id, draft, proposal.row_version, ORIGIN)
    await attachments.add(
        member,
        proposal_id,
        "description",
        identity["filename"],
        pdf_bytes("Thuyết minh cảm biến", author=identity["author"]),
        store,
        ORIGIN,
    )
    await submissions.submit(member, proposal_id, str(uuid.uuid4()), ORIGIN)
    return proposal_id, (await proposals.get(member, proposal_id)).reference


async def build_case(client, db, make_person, settings, *, blind: bool) -> Case:  # type: ignore[no-untyped-def]
    mark = secrets.token_hex(3)
    org_name = f"Viện Kỳ Lân Xanh {mark}"
    org_en = f"Blue Unicorn Institute {mark}"
    code = f"kylan-{mark}"
    await db.execute(
        "INSERT INTO organisation (code, name_vi, name_en, kind, sort_key, verified_at) "
        "VALUES ($1, $2, $3, 'research_institute', $4, now())",
        code,
        org_name,
        org_en,
        collation_key(org_name),
    )
    organisation_id = await db.fetchval("SELECT id FROM organisation WHERE code = $1", code)
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    applicant = await make_person((Role.APPLICANT, code))
    reviewer = await make_person(("reviewer", None), totp=True)
    colleague = await make_person(("reviewer", None), totp=True)
    serial = str(int(mark, 16)).rjust(9, "0")[-9:]
    identity = {
        "pi_name": f"Phạm Quỳnh Anh {mark}",
        "pi_orcid": orcid(f"000000021{serial[:6]}"),
        "team": [
            (f"Đoàn Thế Vĩnh {mark}", orcid(f"000000032{serial[:6]}")),
            (f"Hà Minh Thư {mark}", orcid(f"000000043{serial[:6]}")),
        ],
        "author": f"Tác giả Bí Mật {mark}",
        "filename": f"kylanxanh-{mark}-thuyet-minh.pdf",
    }
    manager_actor = service_actor(manager, Grant(Role.FUND_MANAGER, fund_id))
    due = datetime.now(UTC) + timedelta(days=10)
    call_id = await on_app_loop(
        client, partial(open_call, blind_review=blind, review_closes_at=due), manager_actor, fund_id
    )
    member = service_actor(applicant, Grant(Role.APPLICANT, organisation_id))
    proposal_id, reference = await on_app_loop(
        client, _proposal, member, call_id, organisation_id, storage_from(settings), identity
    )
    for person in (reviewer, colleague):
        await make_assignment(db, proposal_id, person.id)
    return Case(
        call_id=call_id,
        fund_id=fund_id,
        proposal_id=proposal_id,
        reference=reference,
        manager=manager,
        reviewer=reviewer,
        colleague=colleague,
        identifying=[
            org_name,
            org_en,
            code,
            identity["pi_name"],
            identity["pi_orcid"],
            *[part for member in identity["team"] for part in member],
            identity["author"],
            identity["filename"],
            applicant.email,
            applicant.display_name,
        ],
        organisation_name=org_name,
        pi_name=identity["pi_name"],
        author=identity["author"],
        filename=identity["filename"],
    )


def complete_review(page: str) -> dict[str, str]:
    return {
        "row_version": hidden_value(page, "row_version"),
        "mark-0": "4",
        "mark-1": "3,5",
        "mark-2": "3",
        "comment-0": "Phương pháp rõ ràng, có đối chứng.",
        "comment-1": "Tác động tới y tế cơ sở.",
        "comment-2": "Kế hoạch khả thi.",
        "overall_comment": "Nên tài trợ.",
    }


def error_at(page: str, name: str, message: str, **params: object) -> bool:
    shown = str(escape(translate_in("vi", message, params)))
    return f'<p class="error" id="e-{name}" role="alert">{shown}</p>' in page


# Crawling what a reviewer can reach ---------------------------------------------------------------

#: Where links lead out of the reviewer's area: followed once, not crawled further (catalogue
#: pages are the same for everyone). Never followed: signing out.
NEVER = ("/logout", "/static/")
#: The relation picker and the "ask to join" picker on the account page list every organisation
#: in the registry, by design; they say nothing about who applied to what.
RELATION_PICKER = re.compile(r'<select id="f-(?:relation_)?organisation".*?</select>', re.S)


@dataclass
class Crawl:
    bodies: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join(self.bodies.values())


async def crawl(client, start: str = "/review") -> Crawl:  # type: ignore[no-untyped-def]
    """GET every page the reviewer's pages link to, in both languages: pages under /review
    are crawled further, any other page once. PDFs are kept apart for their metadata."""
    found = Crawl()
    queue = [start, start + "?lang=en"]
    while queue:
        url = queue.pop(0)
        if url in found.bodies or url in found.files or url.startswith(NEVER):
            continue
        answer = await client.get(url)
        assert answer.status_code < 500, url
        if answer.headers.get("content-type", "").startswith("application/pdf"):
            found.files[url] = answer.content
            found.bodies[url + " (headers)"] = str(answer.headers)
            continue
        body = RELATION_PICKER.sub("", answer.text)
        found.bodies[url] = body
        path = urlsplit(url).path
        if not path.startswith("/review"):
            continue
        for href in re.findall(r'href="([^"#]+)', body):
            target = urljoin(f"https://testserver.local{path}", unescape(href))
            parts = urlsplit(target)
            if parts.netloc != "testserver.local":
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link not in found.bodies:
                queue.append(link)
    assert len(found.bodies) < 200  # bounded
    return found


async def review_session(client, db, case: Case, settings) -> Crawl:  # type: ignore[no-untyped-def]
    """Everything the reviewer reaches from invitation to a submitted review, with the other
    reviewer's review in, and every mail they were sent."""
    seen = Crawl()

    def keep(part: Crawl) -> None:
        seen.bodies |= {f"{len(seen.bodies)} {k}": v for k, v in part.bodies.items()}
        seen.files |= part.files

    # The manager invites the reviewer to the pool; the assignment's mail goes out.
    manager_actor = service_actor(case.manager, Grant(Role.FUND_MANAGER, case.fund_id))
    await on_app_loop(
        client, reviewers.invite, manager_actor, case.fund_id, case.reviewer.email, ORIGIN
    )
    assignment_ids = [
        r["id"]
        for r in await db.fetch(
            "SELECT id FROM review_assignment WHERE proposal = $1", case.proposal_id
        )
    ]
    assert await on_app_loop(client, reviews.notify_assigned, assignment_ids) == 2

    await sign_in(client, case.reviewer, next_path="/review")
    keep(await crawl(client))  # before accepting
    answered = await post_form(
        client,
        f"/review/proposals/{case.proposal_id}/answer",
        {"answer": "accept", "no_conflict": "on"},
    )
    assert answered.status_code == 303, answered.text
    keep(await crawl(client))  # accepted: the proposal and the review form
    page = (await client.get(f"/review/proposals/{case.proposal_id}")).text
    autosaved = await post_form(
        client,
        f"/review/proposals/{case.proposal_id}",
        complete_review(page),
        headers=AUTOSAVE,
    )
    assert autosaved.status_code == 200, autosaved.text
    seen.bodies["autosave"] = autosaved.text
    refused = await post_form(
        client,
        f"/review/proposals/{case.proposal_id}",
        {**complete_review(page), "mark-0": "7"},
        headers=AUTOSAVE,
    )
    assert refused.status_code == 400
    seen.bodies["autosave refused"] = refused.text

    # The colleague submits first, then the reviewer: the other review shows.
    colleague = service_actor(case.colleague)
    await on_app_loop(
        client, reviews.answer, colleague, case.proposal_id, "accept", True, "", ORIGIN
    )
    mine = await on_app_loop(client, reviews.assignment, colleague, case.proposal_id)
    typed = reviews.ReviewInput(("3", "3", "3"), ("Ổn", "Ổn", "Ổn"), "Tạm được")
    await on_app_loop(
        client, reviews.submit_review, colleague, case.proposal_id, typed, mine.row_version, ORIGIN
    )
    page = (await client.get(f"/review/proposals/{case.proposal_id}")).text
    submitted = await post_form(
        client, f"/review/proposals/{case.proposal_id}/submit", complete_review(page)
    )
    assert submitted.status_code == 303, submitted.text
    keep(await crawl(client))  # submitted, with the other review
    assert "Tạm được" in seen.text()

    # A reminder and a reopening: the mail the reviewer gets.
    review_id = await db.fetchval(
        "SELECT r.id FROM review r JOIN review_assignment a ON a.id = r.assignment "
        "WHERE a.proposal = $1 AND a.reviewer = $2",
        case.proposal_id,
        case.reviewer.id,
    )
    await on_app_loop(
        client, reviews.reopen, manager_actor, case.proposal_id, review_id, "Bổ sung căn cứ", ORIGIN
    )
    due = await db.fetchval("SELECT review_closes_at FROM call WHERE id = $1", case.call_id)
    assert await on_app_loop(client, reviews.send_reminders, due - timedelta(days=1)) >= 1
    keep(await crawl(client))  # reopened
    for mail in await db.fetch(
        "SELECT subject, body FROM outbox_mail WHERE recipient = $1", case.reviewer.email
    ):
        seen.bodies[f"mail {mail['subject']}"] = f"{mail['subject']}\n{mail['body']}"
    return seen


async def test_a_blind_reviewer_reaches_nothing_that_names_the_applicant(
    client, db, make_person, settings
):
    case = await build_case(client, db, make_person, settings, blind=True)
    seen = await review_session(client, db, case, settings)

    mails = [k for k in seen.bodies if k.startswith("mail ")]
    assert len(mails) >= 4  # pool invitation, assignment, reopening, reminder
    assert len(seen.files) >= 1
    assert any("/review/proposals/" in k for k in seen.bodies)
    assert case.reference in seen.text()
    leaks = [
        (where, secret)
        for where, body in seen.bodies.items()
        for secret in [*case.identifying, case.colleague.display_name]
        if secret in body or str(escape(secret)) in body
    ]
    assert leaks == []
    for url, data in seen.files.items():
        reader = PdfReader(io.BytesIO(data))
        metadata = reader.metadata or {}
        assert "/Author" not in metadata, url
        described = " ".join(str(value) for value in metadata.values())
        described += str(reader.xmp_metadata.rdf_root.toxml() if reader.xmp_metadata else "")
        for secret in case.identifying:
            assert secret not in described, url
            # Raw bytes too, as PDF strings may be written: UTF-8, or UTF-16 with or without BOM.
            for encoded in (secret.encode(), secret.encode("utf-16-be")):
                assert encoded not in data, url


async def test_the_same_crawl_in_an_open_call_shows_the_applicant(
    client, db, make_person, settings
):
    """The converse, so that the blind test can fail: nothing in the crawl hides the applicant
    by accident."""
    case = await build_case(client, db, make_person, settings, blind=False)
    seen = await review_session(client, db, case, settings)
    text = seen.text()
    assert case.organisation_name in text
    assert case.pi_name in text
    assert case.filename in text  # the original file, under its own name
    assert case.colleague.display_name in text  # the other reviewer, by name
    authors = [
        (PdfReader(io.BytesIO(data)).metadata or {}).get("/Author") for data in seen.files.values()
    ]
    assert case.author in authors


# The pages, step by step ------------------------------------------------------------------------


async def test_the_call_form_keeps_the_review_settings_and_checks_the_deadline(
    client, make_person, db
):
    now = datetime.now(UTC)
    call_id, _ = await publish_call_through_forms(
        client,
        make_person,
        db,
        review_closes_at=local_time(now + timedelta(days=20)),
        aggregation="mean",
        funding_policy="skip",
        reviewers_see_others="",
    )
    row = await db.fetchrow(
        "SELECT review_closes_at, aggregation, funding_policy, reviewers_see_others FROM call "
        "WHERE id = $1",
        call_id,
    )
    assert (row["aggregation"], row["funding_policy"], row["reviewers_see_others"]) == (
        "mean",
        "skip",
        False,
    )
    assert abs(row["review_closes_at"] - (now + timedelta(days=20))) < timedelta(minutes=1)

    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    await sign_in(client, manager, next_path=f"/manage/calls/{call_id}/edit")
    form = await client.get(f"/manage/calls/{call_id}/edit")
    assert 'name="review_closes_at" type="datetime-local" value="' in form.text
    assert '<option value="mean" selected>' in form.text
    values = {
        name: value
        for name, value in re.findall(r'name="([\w-]+)"[^>]*? value="([^"]*)"', form.text)
        if name != "_csrf_token"
    }
    values["technologies"] = re.findall(r'name="technologies" value="(\d+)" checked', form.text)
    answer = await post_form(
        client, f"/manage/calls/{call_id}/edit", values | {"aggregation": "mode"}
    )
    assert answer.status_code == 400
    assert error_at(answer.text, "aggregation", "Choose median or mean.")
    early = local_time(now + timedelta(days=1))  # before the call closes
    answer = await post_form(
        client, f"/manage/calls/{call_id}/edit", values | {"review_closes_at": early}
    )
    assert answer.status_code == 400
    assert error_at(answer.text, "review_closes_at", "Reviews must be due after the call closes.")


async def test_a_manager_invites_by_address_and_the_reviewer_answers_on_the_desk(
    client, make_person, db
):
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    reviewer = await make_person(("reviewer", None), totp=True)
    applicant = await make_person(("applicant", "vast"))
    fund_id = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    await sign_in(client, manager, next_path=f"/manage/funds/{fund_id}/reviewers")
    refused = await post_form(
        client, f"/manage/funds/{fund_id}/reviewers", {"email": applicant.email}
    )
    assert refused.status_code == 400
    assert error_at(
        refused.text,
        "email",
        "No expert reviewer has this e-mail address. The person registers first, and an "
        "administrator gives them the reviewer role.",
    )
    invited = await post_form(
        client, f"/manage/funds/{fund_id}/reviewers", {"email": reviewer.email}
    )
    assert invited.status_code == 303
    pool = await client.get(f"/manage/funds/{fund_id}/reviewers")
    assert reviewer.email in pool.text
    again = await post_form(client, f"/manage/funds/{fund_id}/reviewers", {"email": reviewer.email})
    assert again.status_code == 409

    client.cookies.clear()
    await sign_in(client, reviewer, next_path="/review")
    desk = await client.get("/review")
    assert desk.status_code == 200
    assert f'action="/review/pools/{fund_id}/answer"' in desk.text
    joined = await post_form(client, f"/review/pools/{fund_id}/answer", {"answer": "accept"})
    assert joined.status_code == 303
    desk = await client.get("/review")
    assert f'action="/review/pools/{fund_id}/answer"' not in desk.text
    assert translate_in("vi", "In the pool since %(when)s", {"when": ""}).strip() in desk.text
    # Others' pages are not the reviewer's.
    assert (await client.get(f"/manage/funds/{fund_id}/reviewers")).status_code == 403


async def test_the_review_form_explains_each_problem_and_locks_once_submitted(
    client, db, make_person, settings
):
    case = await build_case(client, db, make_person, settings, blind=True)
    await sign_in(client, case.reviewer, next_path="/review")
    desk = await client.get("/review")
    assert case.reference in desk.text
    assert "Cảm biến sinh học nano" not in desk.text  # blind: the title after accepting
    url = f"/review/proposals/{case.proposal_id}"
    before = await client.get(url)
    assert "Cảm biến sinh học nano" not in before.text
    no_box = await post_form(client, f"{url}/answer", {"answer": "accept"})
    assert no_box.status_code == 400
    assert error_at(
        no_box.text,
        "no_conflict",
        "Declare that you have no conflict of interest with this proposal before opening it.",
    )
    assert (await client.get(f"{url}/files/{'0' * 64}")).status_code == 404
    await post_form(client, f"{url}/answer", {"answer": "accept", "no_conflict": "on"})
    page = await client.get(url)
    assert "Cảm biến sinh học nano" in page.text
    assert 'data-autosave="on"' in page.text

    # Autosave: saved, then a mark off the step refused at its field (JSON), nothing saved.
    values = complete_review(page.text) | {"comment-1": "", "overall_comment": ""}
    saved = await post_form(client, url, values, headers=AUTOSAVE)
    assert saved.status_code == 200
    assert saved.json() == {"row_version": int(values["row_version"]) + 1}
    bad = await post_form(
        client, url, values | {"row_version": str(saved.json()["row_version"]), "mark-2": "3.3"},
        headers=AUTOSAVE,
    )  # fmt: skip
    assert bad.status_code == 400
    # The step is written the Vietnamese way, as marks are everywhere else on the page.
    assert bad.json()["errors"] == {"mark-2": "Vui lòng cho điểm từ 0 đến 5, mỗi bậc 0,5 điểm."}
    stale = await post_form(client, url, values | {"mark-0": "5"}, headers=AUTOSAVE)
    assert stale.status_code == 409
    assert stale.json()["conflict_url"] == url

    # Submit without every comment: each missing one named at its field, nothing submitted.
    page = await client.get(url)
    assert 'value="3.5" selected' in page.text
    # Marks read the Vietnamese way (the form's values stay as the server parses them).
    assert 'value="3.5" selected>3,5' in page.text
    assert "3,5 = " in page.text or "bước 0,5" in page.text
    fields = complete_review(page.text) | {"comment-1": "", "overall_comment": ""}
    refused = await post_form(client, f"{url}/submit", fields)
    assert refused.status_code == 400
    assert error_at(refused.text, "comment-1", "Write a comment on this criterion.")
    assert error_at(refused.text, "overall_comment", "Write an overall comment.")
    assert "Phương pháp rõ ràng" in refused.text  # what was typed is kept
    assert (
        await db.fetchval(
            "SELECT r.status FROM review r JOIN review_assignment a ON a.id = r.assignment "
            "WHERE a.proposal = $1 AND a.reviewer = $2",
            case.proposal_id,
            case.reviewer.id,
        )
        == "draft"
    )

    done = await post_form(client, f"{url}/submit", complete_review(page.text))
    assert done.status_code == 303
    locked = await client.get(url)
    assert 'id="draft"' not in locked.text  # no form any more
    assert "Kế hoạch khả thi." in locked.text
    edit = await post_form(client, url, complete_review(page.text) | {"mark-0": "2"})
    assert edit.status_code == 409
    assert translate_in("vi", reviews.LOCKED) in edit.text

    # The manager sees the marks and comments and reopens it with a reason.
    client.cookies.clear()
    await sign_in(client, case.manager, next_path=f"/manage/proposals/{case.proposal_id}/reviews")
    board = await client.get(f"/manage/proposals/{case.proposal_id}/reviews")
    assert board.status_code == 200
    assert case.reviewer.display_name in board.text
    assert "Phương pháp rõ ràng, có đối chứng." in board.text
    assert ">3,5<" in board.text
    assert ">3.5<" not in board.text
    review_id = hidden_value(board.text, "review")
    no_reason = await post_form(
        client, f"/manage/proposals/{case.proposal_id}/reviews/reopen", {"review": review_id}
    )
    assert no_reason.status_code == 400
    reopened = await post_form(
        client,
        f"/manage/proposals/{case.proposal_id}/reviews/reopen",
        {"review": review_id, "reason": "Tiêu chí 2 cần căn cứ."},
    )
    assert reopened.status_code == 303
    events = await db.fetch(
        "SELECT actor, summary->'after'->>'reason' AS reason FROM audit.event "
        "WHERE action = 'review.reopened' AND object_ref = $1",
        f"review:{review_id}",
    )
    assert [(e["actor"], e["reason"]) for e in events] == [
        (f"account:{case.manager.id}", "Tiêu chí 2 cần căn cứ.")
    ]


async def test_after_the_deadline_the_form_says_so_and_refuses(client, db, make_person, settings):
    case = await build_case(client, db, make_person, settings, blind=False)
    await sign_in(client, case.reviewer, next_path="/review")
    url = f"/review/proposals/{case.proposal_id}"
    await post_form(client, f"{url}/answer", {"answer": "accept", "no_conflict": "on"})
    page = await client.get(url)
    await db.execute(
        "UPDATE call SET review_closes_at = now() - interval '1 minute' WHERE id = $1",
        case.call_id,
    )
    late = await post_form(client, f"{url}/submit", complete_review(page.text))
    assert late.status_code == 409
    assert "(GMT+7)" in late.text
    autosave = await post_form(client, url, complete_review(page.text), headers=AUTOSAVE)
    assert autosave.status_code == 409
    assert "conflict_url" not in autosave.json()
    closed = await client.get(url)
    assert 'data-autosave="off"' in closed.text


async def test_other_managers_and_reviewers_get_not_found(client, db, make_person, settings):
    case = await build_case(client, db, make_person, settings, blind=False)
    stranger = await make_person(("fund_manager", "natif"), totp=True)
    outsider = await make_person(("reviewer", None), totp=True)
    await sign_in(client, stranger)
    for path in (
        f"/manage/proposals/{case.proposal_id}/reviews",
        f"/manage/funds/{case.fund_id}/reviewers",
    ):
        assert (await client.get(path)).status_code == 404, path
    assert (
        await post_form(
            client,
            f"/manage/proposals/{case.proposal_id}/reviews/reopen",
            {"review": "1", "reason": "x"},
        )
    ).status_code == 404
    client.cookies.clear()
    await sign_in(client, outsider)
    for path in (
        f"/review/proposals/{case.proposal_id}",
        f"/review/proposals/{case.proposal_id}/files/{'0' * 64}",
    ):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert case.organisation_name not in answer.text
    answer = await post_form(
        client,
        f"/review/proposals/{case.proposal_id}/answer",
        {"answer": "accept", "no_conflict": "on"},
    )
    assert answer.status_code == 404
    assert "Cảm biến" not in (await client.get("/review")).text


async def test_a_reviewer_keeps_keywords_and_relations_on_the_account_page(client, make_person, db):
    reviewer = await make_person(("reviewer", None), totp=True)
    applicant = await make_person(("applicant", "vast"))
    await sign_in(client, reviewer)
    page = await client.get("/account")
    assert 'name="keywords"' in page.text
    assert 'id="relations"' in page.text
    saved = await post_form(
        client,
        "/account",
        {"display_name": "Chuyên gia Thử", "orcid": "", "keywords": "cảm biến,  y sinh"},
    )
    assert saved.status_code == 303
    assert await db.fetchval("SELECT keywords FROM account WHERE id = $1", reviewer.id) == (
        "cảm biến, y sinh"
    )
    refused = await post_form(
        client, "/account/relations", {"person_name": "Lê Văn Tám", "person_orcid": "1234"}
    )
    assert refused.status_code == 400
    assert error_at(
        refused.text, "person_orcid", "This ORCID iD is not valid (format 0000-0002-1825-0097)."
    )
    assert 'value="Lê Văn Tám"' in refused.text  # what was typed is kept
    vast = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    declared = await post_form(
        client,
        "/account/relations",
        {"relation_organisation": str(vast), "relation_note": "Cơ quan cũ"},
    )
    assert declared.status_code == 303
    page = await client.get("/account")
    assert "Cơ quan cũ" in page.text
    relation = hidden_value(page.text, "relation")
    removed = await post_form(client, "/account/relations/remove", {"relation": relation})
    assert removed.status_code == 303
    assert "Cơ quan cũ" not in (await client.get("/account")).text
    # Applicants have neither keywords nor relations.
    client.cookies.clear()
    await sign_in(client, applicant)
    page = await client.get("/account")
    assert 'name="keywords"' not in page.text
    assert (await post_form(client, "/account/relations", {"person_name": "X"})).status_code == 403

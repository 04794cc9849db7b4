"""The proposal editor without scripts: amounts come back written the reader's way (and read
back as the same amount), English pages say VND, autosave's answer carries the live parts
rendered by the page's own template, and a refused submission opens on an error summary that
links each problem to its field."""

from __future__ import annotations

import re

import pytest

from tests.factories import (
    draft_call,
    hidden_value,
    on_app_loop,
    post_form,
    proposal_form,
    service_actor,
    sign_in,
    started_proposal,
)

pytestmark = [pytest.mark.http]


def value_of(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*? value="([^"]*)"', page).group(1)


async def test_amounts_come_back_as_the_reader_writes_them_and_read_back_the_same(
    client, make_person, db
):
    proposal_url = await started_proposal(client, make_person, db)
    fields = proposal_form((await client.get(proposal_url)).text, "Chip nhận dạng tiếng nói")
    fields["budget-personnel-requested"] = "2000000000"
    saved = await post_form(client, proposal_url, fields)
    assert saved.status_code == 200, saved.text

    vietnamese = (await client.get(proposal_url)).text
    assert value_of(vietnamese, "budget-personnel-requested") == "2.000.000.000"
    assert value_of(vietnamese, "budget-personnel-own") == "300.000.000"
    assert "Kinh phí (đồng)" in vietnamese
    english = (await client.get(f"{proposal_url}?lang=en")).text
    assert value_of(english, "budget-personnel-requested") == "2,000,000,000"
    assert "Budget (VND)" in english
    assert "đồng" not in english

    # The English page's fields, saved as they are, keep every amount.
    again = {
        **fields,
        "row_version": hidden_value(english, "row_version"),
        "budget-personnel-requested": value_of(english, "budget-personnel-requested"),
        "budget-personnel-own": value_of(english, "budget-personnel-own"),
    }
    assert (await post_form(client, proposal_url, again)).status_code == 200
    stored = await db.fetchval(
        "SELECT requested_vnd FROM proposal WHERE id = $1", int(proposal_url.rsplit("/", 1)[1])
    )
    assert stored == 2_000_000_000


async def test_autosave_answers_the_live_parts_as_the_page_renders_them(client, make_person, db):
    proposal_url = await started_proposal(client, make_person, db)
    fields = proposal_form((await client.get(proposal_url)).text, "Chip nhận dạng tiếng nói")
    answer = await post_form(client, proposal_url, fields, headers={"X-Autosave": "1"})
    assert answer.status_code == 200, answer.text
    regions = answer.json()["regions"]
    page = (await client.get(proposal_url)).text
    tags = {"checklist": "ul", "budget-totals": "tfoot"}
    for region, html in regions.items():
        tag = tags.get(region, "div")
        shown = re.search(rf'id="{region}"[^>]*>(.*?)</{tag}>', page, re.S)
        assert shown, region
        assert shown.group(1).strip() == html.strip(), region
    assert "1.000.000.000 ₫" in regions["budget-totals"]


async def test_a_refused_submission_opens_on_a_summary_linking_each_problem(
    client, make_person, db
):
    proposal_url = await started_proposal(client, make_person, db)
    page = (await client.get(proposal_url)).text
    refused = await post_form(
        client,
        f"{proposal_url}/submit",
        {
            "row_version": hidden_value(page, "row_version"),
            "submit_key": hidden_value(page, "submit_key"),
            "duration_months": "hai năm",
        },
    )
    assert refused.status_code == 400
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', refused.text, re.S)
    assert summary, refused.text
    assert "autofocus" in summary.group(0)
    links = re.findall(r'<a href="(#[^"]+)">', summary.group(1))
    assert links == ["#f-duration_months"]
    # Each link leads to an element of the page.
    for link in links:
        assert f'id="{link[1:]}"' in refused.text

    # Well-formed but incomplete: each failing line of the checklist, linked where it is fixed.
    blocked = await post_form(
        client,
        f"{proposal_url}/submit",
        {
            "row_version": hidden_value(page, "row_version"),
            "submit_key": hidden_value(page, "submit_key"),
        },
    )
    assert blocked.status_code == 400
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', blocked.text, re.S)
    links = re.findall(r'<a href="#([^"]+)">', summary.group(1))
    assert links == ["f-title_vi", "technologies", "budget", "attachments"]
    for link in links:
        assert f'id="{link}"' in blocked.text


async def test_the_call_form_gives_amounts_back_grouped_as_typed(client, make_person, db):
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    call_id = await on_app_loop(client, draft_call, service_actor(manager), fund)
    await sign_in(client, manager, next_path=f"/manage/calls/{call_id}/edit")
    vietnamese = (await client.get(f"/manage/calls/{call_id}/edit")).text
    assert value_of(vietnamese, "budget_vnd") == "10.000.000.000"
    assert value_of(vietnamese, "max_request_vnd") == "3.000.000.000"
    english = (await client.get(f"/manage/calls/{call_id}/edit?lang=en")).text
    assert value_of(english, "budget_vnd") == "10,000,000,000"
    assert "Total budget (VND)" in english


async def test_the_conflict_page_lists_only_real_differences(client, make_person, db):
    proposal_url = await started_proposal(client, make_person, db)
    fields = proposal_form((await client.get(proposal_url)).text, "Chip nhận dạng tiếng nói")
    assert (await post_form(client, proposal_url, fields)).status_code == 200
    # A second tab, opened before that save: the same amount written without dots, and
    # another title.
    stale = {**fields, "title_vi": "Tiêu đề khác", "budget-personnel-requested": "1000000000"}
    conflict = await post_form(client, proposal_url, stale)
    assert conflict.status_code == 409
    compared = re.findall(r'<tr><td data-field="([^"]+)">([^<]+)</td>', conflict.text)
    assert compared == [("title_vi", "Tên (tiếng Việt)")]  # named as the editor labels it

"""Issue 16, defect 12: /search and /projects as lists people work through. Facets choose
several values (any of a facet's values, every facet), three orders (relevance, newest, largest
amount), the page's place in the total ("Kết quả 21–40 trên 45"), a Previous link beside
Next that gives back exactly the page before, and the whole result as CSV.

Each test makes 45 projects of its own: a made-up word in their titles and three made-up
provinces, so what a page shows is known exactly."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import date

import pytest

from registry.services import search
from tests import import_files as files
from tests.factories import fund_id, on_app_loop, organisation_id

pytestmark = [pytest.mark.http]

COUNT = 45


@dataclass(frozen=True)
class Row:
    id: int
    #: Its search entry's id: ties of an order go by it.
    entry: int
    technology: int
    province: str
    year: int
    amount_vnd: int


@dataclass(frozen=True)
class Lot:
    word: str
    rows: list[Row]
    technologies: list[int]
    provinces: list[str]

    def ids(self, keep=lambda row: True) -> list[int]:  # type: ignore[no-untyped-def]
        """The ids of the rows `keep` keeps, in the order of relevance (all alike: by entry)."""
        return [row.id for row in sorted(self.rows, key=lambda r: r.entry) if keep(row)]


@pytest.fixture
async def lot(client, db) -> Lot:  # type: ignore[no-untyped-def]
    word = files.token()
    provinces = [f"Tỉnh {word} {letter}" for letter in "ABC"]
    technologies = [
        r["id"] for r in await db.fetch("SELECT id FROM technology ORDER BY id LIMIT 3")
    ]
    organisation = await organisation_id(db, "vast")
    fund = await fund_id(db, "nafosted")
    rows = []
    for i in range(COUNT):
        year = 2000 + (i * 7) % 20  # years repeat: ties go by id
        amount = ((i * 37) % 15 + 1) * 100_000_000  # amounts repeat three times each
        title = f"Nghiên cứu {word} số {i}"
        province = provinces[i // 3 % 3]  # each technology in each province
        project = await db.fetchval(
            """INSERT INTO project (code, title_vi, title_en, organisation, fund, amount_vnd,
                                    starts_on, ends_on, province, sort_key, is_demo)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $2, false) RETURNING id""",
            f"lists:{word}-{i}", title, f"Study {word} no. {i}", organisation, fund, amount,
            date(year, 3, 1), date(year + 2, 3, 1), province,
        )  # fmt: skip
        technology = technologies[i % 3]
        await db.execute(
            "INSERT INTO project_technology (project, technology) VALUES ($1, $2)",
            project,
            technology,
        )
        rows.append((project, technology, province, year, amount))
    await on_app_loop(client, search.index_projects, rows[0][0], rows[-1][0])
    entries = dict(
        await db.fetch(
            "SELECT object_id, id FROM search_entry WHERE kind = 'project' "
            "AND object_id = ANY($1::int[])",
            [row[0] for row in rows],
        )
    )
    return Lot(word, [Row(r[0], entries[r[0]], *r[1:]) for r in rows], technologies, provinces)


def shown(page: str) -> list[int]:
    """The project ids a results page lists, in order."""
    hits = page.split('<ol class="hits">', 1)[1].split("</ol>", 1)[0]
    return [int(i) for i in re.findall(r'class="title" href="/projects/(\d+)"', hits)]


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def facet_link(page: str, label: str) -> str:
    found = re.search(rf'<a href="([^"]+)"[^>]*><span class="box"[^>]*>.</span> {label}<', page)
    assert found, f"no facet link {label!r}"
    return html.unescape(found.group(1))


def newest(rows: list[Row]) -> list[int]:
    return [r.id for r in sorted(rows, key=lambda r: (-r.year, -r.entry))]


def largest(rows: list[Row]) -> list[int]:
    return [r.id for r in sorted(rows, key=lambda r: (-r.amount_vnd, r.entry))]


async def test_several_values_of_a_facet_find_either_and_facets_together_find_both(client, lot):
    one, two, _ = lot.technologies
    either = await client.get(
        "/search", params=[("q", lot.word), ("technology", one), ("technology", two)]
    )
    # Every title holds the word alike: one tier, in id order.
    assert shown(either.text) == lot.ids(lambda r: r.technology in (one, two))[:20]
    assert "Kết quả 1–20 trên 30" in either.text

    both = await client.get(
        "/search",
        params=[("q", lot.word), ("technology", one), ("technology", two),
                ("province", lot.provinces[1])],
    )  # fmt: skip
    expected = lot.ids(lambda r: r.technology in (one, two) and r.province == lot.provinces[1])
    assert sorted(shown(both.text)) == sorted(expected)
    assert len(expected) == 10

    api = await client.get(
        "/api/v1/search",
        params=[("q", lot.word), ("technology", one), ("technology", two),
                ("province", lot.provinces[1]), ("lang", "en")],
    )  # fmt: skip
    assert api.status_code == 200
    body = api.json()
    assert sorted(hit["id"] for hit in body["hits"]) == sorted(expected)
    assert body["filters"]["technology"] == [one, two]
    # Facets count the matches shown; a facet with values chosen also has its choices: its
    # values counted with the other filters only, for choosing one more.
    assert [(f["value"], f["count"]) for f in body["facets"]["province"]] == [
        (lot.provinces[1], 10)
    ]
    assert sorted((f["value"], f["count"]) for f in body["choices"]["province"]) == [
        (p, 10) for p in lot.provinces
    ]
    assert set(body["choices"]) == {"technology", "province"}


async def test_facet_links_add_and_remove_a_value_and_clear_a_facet(client, lot):
    a, b, _ = lot.provinces
    page = (await client.get("/search", params={"q": lot.word, "province": a})).text
    assert sorted(shown(page)) == sorted(lot.ids(lambda r: r.province == a))
    # The chosen value is marked; its link takes it out, another's adds that one.
    assert re.search(rf'<li class="active">\s*<a href="[^"]+" aria-current="true">'
                     rf'<span class="box" aria-hidden="true">☑</span> {a}<', page)  # fmt: skip
    assert "(đã chọn)" in page

    added = (await client.get(facet_link(page, b))).text
    assert shown(added) == lot.ids(lambda r: r.province in (a, b))[:20]
    assert "Kết quả 1–20 trên 30" in added

    removed = (await client.get(facet_link(added, a))).text
    assert sorted(shown(removed)) == sorted(lot.ids(lambda r: r.province == b))

    clear = re.search(r'<a class="remove" href="([^"]+)">× bỏ chọn</a>', added)
    assert clear, "no clear link on a chosen facet"
    cleared = await client.get(html.unescape(clear.group(1)))
    assert "province=" not in html.unescape(clear.group(1))
    assert "trên 45" in cleared.text


async def test_the_three_orders_on_real_rows(client, lot):
    every = [("q", lot.word), *[("province", p) for p in lot.provinces]]
    relevance = await client.get("/search", params=every)
    # Every title holds the word alike: one tier, in id order.
    assert shown(relevance.text) == lot.ids()[:20]
    assert '<option value="relevance" selected>' in relevance.text

    by_year = await client.get("/search", params=[*every, ("sort", "newest")])
    assert shown(by_year.text) == newest(lot.rows)[:20]

    by_amount = await client.get("/search", params=[*every, ("sort", "amount")])
    assert shown(by_amount.text) == largest(lot.rows)[:20]
    assert '<option value="amount" selected>' in by_amount.text


async def _walk(client, path: str, params: list[tuple[str, str]]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every page from the first by Next, then back by Previous: the pages' HTML."""
    pages = [(await client.get(path, params=params)).text]
    while next_url := link(pages[-1], "next"):
        pages.append((await client.get(next_url)).text)
    return pages


@pytest.mark.parametrize("sort", ["relevance", "newest", "amount"])
async def test_previous_gives_back_exactly_the_page_before_with_its_place_in_the_total(
    client, lot, sort
):
    params = [("q", lot.word), ("sort", sort), *[("province", p) for p in lot.provinces]]
    pages = await _walk(client, "/search", params)
    expected = {
        "relevance": lot.ids(), "newest": newest(lot.rows), "amount": largest(lot.rows)
    }[sort]  # fmt: skip

    assert [shown(p) for p in pages] == [expected[:20], expected[20:40], expected[40:]]
    assert "Kết quả 1–20 trên 45" in pages[0]
    assert "Kết quả 21–40 trên 45" in pages[1]
    assert "Kết quả 41–45 trên 45" in pages[2]
    assert link(pages[0], "prev") is None  # page 1 has no Previous

    back = (await client.get(link(pages[2], "prev"))).text
    assert shown(back) == shown(pages[1])
    assert "Kết quả 21–40 trên 45" in back
    first = (await client.get(link(back, "prev"))).text
    assert shown(first) == shown(pages[0])
    assert "Kết quả 1–20 trên 45" in first
    assert link(first, "prev") is None
    # And forward again from a page reached backwards.
    assert shown((await client.get(link(first, "next"))).text) == shown(pages[1])

    english = await client.get(link(pages[2], "prev") + "&lang=en")
    assert "Results 21–40 of 45" in english.text


async def test_the_project_list_has_the_total_orders_facets_and_pages(client, lot):
    provinces = [("province", p) for p in lot.provinces]
    pages = await _walk(client, "/projects", [*provinces, ("sort", "amount")])
    assert [shown(p) for p in pages] == [
        largest(lot.rows)[:20], largest(lot.rows)[20:40], largest(lot.rows)[40:]
    ]
    assert "Kết quả 21–40 trên 45" in pages[1]
    assert all(link(p, "next").startswith("/projects?") for p in pages[:2])  # type: ignore[union-attr]
    back = (await client.get(link(pages[1], "prev"))).text
    assert shown(back) == largest(lot.rows)[:20]

    default = await client.get("/projects", params=provinces)  # newest first
    assert shown(default.text) == newest(lot.rows)[:20]
    assert '<option value="relevance"' not in default.text
    # Its facets stay on /projects, and there is no kind to choose.
    two_provinces = await client.get(facet_link(default.text, lot.provinces[0]))
    assert shown(two_provinces.text) == newest(
        [r for r in lot.rows if r.province != lot.provinces[0]]
    )[:20]
    assert "Kết quả 1–20 trên 30" in two_provinces.text
    assert "<h2>Loại</h2>" not in default.text
    assert 'href="/projects?' in default.text


async def test_the_csv_holds_every_match_in_order_and_opens_in_excel(client, lot):
    one, two, _ = lot.technologies
    answer = await client.get(
        "/search.csv",
        params=[("q", lot.word), ("technology", one), ("technology", two), ("sort", "amount")],
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "kind", "id", "title_vi", "title_en", "province", "year", "amount_vnd",
        "organisation_vi", "organisation_en", "starts_on", "url",
    ]  # fmt: skip
    matches = [r for r in lot.rows if r.technology in (one, two)]
    assert [int(r[1]) for r in rows[1:]] == largest(matches)  # all 30, not a page of 20
    by_id = {r.id: r for r in lot.rows}
    for kind, id_, title_vi, _, province, year, amount, *_, url in rows[1:]:
        row = by_id[int(id_)]
        assert kind == "project"
        assert title_vi == f"Nghiên cứu {lot.word} số {lot.rows.index(row)}"
        assert (province, int(year), amount) == (row.province, row.year, str(row.amount_vnd))
        assert url.endswith(f"/projects/{id_}")

    page = await client.get(
        "/search", params=[("q", lot.word), ("technology", one), ("technology", two),
                           ("sort", "amount")]
    )  # fmt: skip
    export = re.search(r'<a href="(/search\.csv\?[^"]+)" download>Tải CSV</a>', page.text)
    assert export, "no CSV link on the results page"
    assert (await client.get(html.unescape(export.group(1)))).content == answer.content
    assert "nhiều nhất 10.000 dòng" in page.text

    projects = await client.get(
        "/projects.csv", params=[("province", lot.provinces[0]), ("sort", "newest")]
    )
    listed = list(csv.reader(io.StringIO(projects.content.decode("utf-8-sig"))))
    assert [int(r[1]) for r in listed[1:]] == newest(
        [r for r in lot.rows if r.province == lot.provinces[0]]
    )


async def test_a_csv_past_the_limit_says_where_it_stopped(client, lot, monkeypatch):
    monkeypatch.setattr("registry.web.controllers.catalogue.EXPORT_LIMIT", 10)
    answer = await client.get("/search.csv", params={"q": lot.word, "lang": "en"})
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [int(r[1]) for r in rows[1:11]] == lot.ids()[:10]
    assert len(rows) == 12
    assert rows[-1][0].startswith("# Only the first 10 of 45 matches")


@pytest.mark.parametrize(
    ("path", "params", "vi", "en"),
    [
        ("/search", {"q": "ai", "sort": "cheapest"}, "Không có cách sắp xếp cheapest",
         "Unknown sort order: cheapest."),
        ("/api/v1/search", {"q": "ai", "sort": "cheapest"}, "Không có cách sắp xếp cheapest",
         "Unknown sort order: cheapest."),
        ("/projects", {"sort": "relevance"}, "Không có cách sắp xếp relevance",
         "Unknown sort order: relevance."),
        ("/search.csv", {"q": "ai", "cursor": "x"}, "Bộ lọc hoặc tham số không hợp lệ: cursor",
         "Unknown filter or parameter: cursor."),
    ],
)  # fmt: skip
async def test_a_bad_sort_is_a_400_saying_so_in_both_languages(client, path, params, vi, en):
    for language, message in (("vi", vi), ("en", en)):
        answer = await client.get(path, params={**params, "lang": language})
        assert answer.status_code == 400
        assert message in answer.text


async def test_a_page_link_of_another_order_is_refused_with_a_message(client, lot):
    params = {"q": lot.word, "sort": "amount"}
    page = (await client.get("/search", params=params)).text
    cursor = re.search(r"cursor=([^&\"]+)", link(page, "next") or "")
    assert cursor
    for path in ("/search", "/api/v1/search"):
        for language, message in (
            ("vi", "Liên kết trang bị lỗi hoặc đã hết hạn"),
            ("en", "The page link is damaged or out of date. Start again from page one."),
        ):
            answer = await client.get(
                path,
                params={"q": lot.word, "sort": "newest", "cursor": cursor.group(1),
                        "lang": language},
            )  # fmt: skip
            assert answer.status_code == 400
            assert message in answer.text


async def test_projects_listed_name_their_organisation_and_start(client, db, lot):
    """/projects lists who was funded and from when, as the project page does."""
    organisation = await db.fetchval("SELECT name_vi FROM organisation WHERE code = 'vast'")
    page = await client.get("/projects", params={"province": lot.provinces[0], "sort": "newest"})
    assert page.status_code == 200
    hits = page.text.split('<ol class="hits">', 1)[1].split("</ol>", 1)[0].split("<li>")[1:]
    listed = [r for r in lot.rows if r.province == lot.provinces[0]]
    assert len(hits) == len(listed)
    for hit, row in zip(hits, sorted(listed, key=lambda r: (-r.year, -r.entry)), strict=True):
        assert f'href="/projects/{row.id}"' in hit
        assert str(html.escape(organisation)) in hit
        assert f"01/03/{row.year}" in hit  # the start date, written the Vietnamese way

    export = await client.get("/projects.csv", params={"province": lot.provinces[0]})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][-4:] == ["organisation_vi", "organisation_en", "starts_on", "url"]
    assert {(r[-4], r[-2]) for r in rows[1:]} == {
        (organisation, f"{row.year}-03-01") for row in listed
    }

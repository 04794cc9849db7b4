"""Importing historic projects from the command line's function: a CSV and an XLSX land in
the catalogue and in search at once; a file with one bad row imports nothing and the report
names the row and why (vi and en); importing again changes nothing and an edited row updates;
a dry run writes nothing."""

from __future__ import annotations

import asyncio

import pytest

from registry import cli
from registry.domain.search import Filters
from registry.services import catalogue, project_import, search
from tests import import_files as files

pytestmark = pytest.mark.integration

CAP = 500


async def _found(word: str) -> list[str]:
    results = await search.search(word, Filters(), candidate_cap=CAP, page_size=100)
    return sorted(hit.title.vi for hit in results.hits)


async def _projects(db, word: str) -> list:  # type: ignore[no-untyped-def]
    return await db.fetch(
        "SELECT p.code, p.title_vi, p.amount_vnd, p.starts_on, p.province, o.name_vi AS org,"
        " o.verified_at IS NULL AS pending,"
        " array(SELECT t.slug FROM project_technology pt JOIN technology t ON t.id ="
        " pt.technology WHERE pt.project = p.id ORDER BY t.slug) AS technologies"
        " FROM project p JOIN organisation o ON o.id = p.organisation"
        " WHERE p.title_vi LIKE '%' || $1 || '%' ORDER BY p.code",
        word,
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_a_good_file_lands_in_the_catalogue_and_search(db, tmp_path, kind, capsys):  # type: ignore[no-untyped-def]
    word = files.token()
    data = (files.as_csv if kind == "csv" else files.as_xlsx)(files.rows(word, 5))
    path = tmp_path / f"du-an.{kind}"
    path.write_bytes(data)

    assert await cli.import_projects(path, fund=None, dry_run=False, report=None, language="en")

    assert "5 projects were created" in capsys.readouterr().out
    projects = await _projects(db, word)
    assert [p["code"] for p in projects] == [f"nafosted:{word}-{i}" for i in range(5)]
    assert [p["amount_vnd"] for p in projects] == [1_500_000_000] * 4 + [250_000_000]
    # Provinces as named since the 2025 merger.
    assert [p["province"] for p in projects] == [
        "Hà Nội", "Đà Nẵng", "TP. Hồ Chí Minh", "Huế", "Ninh Bình",
    ]  # fmt: skip
    assert str(projects[2]["starts_on"]) == "2020-02-01"
    assert projects[0]["technologies"] == ["advanced-materials", "semiconductor-chips"]
    # Known by name: matched; new (tax number): created unconfirmed, for review.
    assert projects[0]["org"] == "Viện Hàn lâm Khoa học và Công nghệ Việt Nam"
    assert not projects[0]["pending"]
    assert projects[1]["pending"]
    assert await _found(word) == [f"Nghiên cứu vật liệu {word} số {i}" for i in range(5)]
    listed = await catalogue.list_projects(page_size=1000)
    assert {p.title.vi for p in listed.items} >= {p["title_vi"] for p in projects}
    event = await db.fetchrow(
        "SELECT action, summary FROM audit.event WHERE summary->'after'->>'file' = $1"
        " ORDER BY seq DESC LIMIT 1",
        path.name,
    )
    assert event["action"] == "projects.imported"
    assert '"created": 5' in event["summary"]


async def test_one_bad_row_imports_nothing_and_the_report_says_why(db, tmp_path, capsys):  # type: ignore[no-untyped-def]
    word = files.token()
    body = files.rows(word, 4)
    body[2][6] = "1.500.000,50"  # đồng have no fractions
    body[3][9] = "Gotham"
    path, report = tmp_path / "bad.csv", tmp_path / "report.csv"
    path.write_bytes(files.as_csv(body))

    ok = await cli.import_projects(path, fund=None, dry_run=False, report=report, language="vi")

    assert not ok
    assert await _projects(db, word) == []
    assert await _found(word) == []
    text = report.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == "Dòng,Cột,Vấn đề"
    assert "4,Kinh phí (VND)," in text
    assert "5,Tỉnh/thành phố,Không rõ tỉnh/thành: Gotham." in text
    outcome = await project_import.import_projects(
        path.read_bytes(), "bad.csv", actor="system:test", dry_run=True
    )
    header, rows = project_import.report(outcome.refused, "en")
    assert header == ("Row", "Column", "Problem")
    assert rows == [
        (4, "Amount (VND)", "Enter a whole amount in đồng, such as 1.500.000."),
        (5, "Province", "Unknown province: Gotham."),
    ]


async def test_importing_again_changes_nothing_and_an_edited_row_updates(db):  # type: ignore[no-untyped-def]
    word = files.token()
    body = files.rows(word, 3)
    first = await project_import.import_projects(files.as_csv(body), "a.csv", actor="system:t")
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    before = await _projects(db, word)
    events = await db.fetchval("SELECT count(*) FROM audit.event")

    again = await project_import.import_projects(files.as_xlsx(body), "a.xlsx", actor="system:t")

    assert (again.created, again.updated, again.unchanged, again.organisations_created) == (
        0, 0, 3, 0,
    )  # fmt: skip
    assert await _projects(db, word) == before
    body[1][1] = f"Chip bán dẫn {word} đã sửa"
    body[1][6] = "2 tỷ"
    edited = await project_import.import_projects(files.as_csv(body), "b.csv", actor="system:t")
    assert (edited.created, edited.updated, edited.unchanged) == (0, 1, 2)
    after = await _projects(db, word)
    assert [p["title_vi"] for p in after][1] == f"Chip bán dẫn {word} đã sửa"
    assert after[1]["amount_vnd"] == 2_000_000_000
    assert await _found(f"chip ban dan {word}") == [f"Chip bán dẫn {word} đã sửa"]
    assert await db.fetchval("SELECT count(*) FROM audit.event") == events + 2


async def test_a_dry_run_counts_and_writes_nothing(db):  # type: ignore[no-untyped-def]
    word = files.token()
    projects = await db.fetchval("SELECT count(*) FROM project")
    organisations = await db.fetchval("SELECT count(*) FROM organisation")

    outcome = await project_import.import_projects(
        files.as_csv(files.rows(word, 4)), "x.csv", actor="system:t", dry_run=True
    )

    assert (outcome.created, outcome.organisations_created, outcome.ok) == (4, 1, True)
    assert await db.fetchval("SELECT count(*) FROM project") == projects
    assert await db.fetchval("SELECT count(*) FROM organisation") == organisations
    assert await _found(word) == []


async def test_a_fund_given_for_the_file_refuses_rows_of_another(db):  # type: ignore[no-untyped-def]
    word = files.token()
    natif = await project_import.fund_id("natif")
    outcome = await project_import.import_projects(
        files.as_csv(files.rows(word, 2)), "x.csv", actor="system:t", fund_id=natif
    )
    assert [(p.line, p.column) for p in outcome.refused] == [(2, "fund"), (3, "fund")]
    assert await _projects(db, word) == []


async def test_a_file_without_the_required_columns_is_refused_before_anything():  # type: ignore[no-untyped-def]
    with pytest.raises(project_import.InvalidInput) as refused:
        project_import.read_table(b"Title,Amount\r\nX,1\r\n", "x.csv")
    assert "External id" in refused.value.params["columns"]
    with pytest.raises(project_import.InvalidInput):
        project_import.read_table(b"%PDF-1.7 not a table", "x.xlsx")


async def test_two_imports_of_the_same_new_rows_at_once_create_them_once(db):  # type: ignore[no-untyped-def]
    word = files.token()
    data = files.as_csv(files.rows(word, 3))

    results = await asyncio.gather(
        project_import.import_projects(data, "a.csv", actor="system:t"),
        project_import.import_projects(data, "a.csv", actor="system:t"),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, Exception)]
    # Both read the registry before either wrote: the second to write finds the rows taken.
    assert [type(r).__name__ for r in refused] == ["Conflict"]
    assert len(await _projects(db, word)) == 3

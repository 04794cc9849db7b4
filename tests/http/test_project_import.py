"""The project import page: an administrator or a fund manager uploads a file, its job runs,
the page follows it (reloading itself without JavaScript while it runs) and then shows the
counts, or the refused rows with a report to download; the projects are then on /projects and
found by /search. Nobody else reaches the pages; a manager sees only their own fund's imports."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from tests import import_files as files
from tests.factories import csrf_token, run_jobs, sign_in

pytestmark = [pytest.mark.http]

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _upload(client, name: str, data: bytes, kind: str, url="/manage/imports", **fields: str):  # type: ignore[no-untyped-def]
    return await client.post(
        url,
        data={"_csrf_token": await csrf_token(client), **fields},
        files={"file": (name, data, kind)},
    )


def _import_path(answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == 303, answer.text
    path = answer.headers["location"]
    assert re.fullmatch(r"/manage/imports/\d+", path)
    return path


async def test_an_administrator_imports_a_csv_and_the_projects_are_published(
    client, settings, make_person
):  # type: ignore[no-untyped-def]
    admin = await make_person(("admin", None), totp=True)
    await sign_in(client, admin)
    assert 'href="/manage/imports"' in (await client.get("/account")).text
    form = await client.get("/manage/imports")
    assert "Nhập dự án đã tài trợ" in form.text
    assert 'enctype="multipart/form-data"' in form.text
    word = files.token()

    path = _import_path(await _upload(client, "du-an.csv", files.as_csv(files.rows(word)), CSV))

    waiting = await client.get(path)
    assert '<meta http-equiv="refresh" content="2">' in waiting.text
    assert "Đang chờ bắt đầu" in waiting.text
    await run_jobs(client, settings)
    done = await client.get(path)
    assert "http-equiv" not in done.text
    assert "Đã nhập" in done.text
    assert re.search(r"Dự án đã tạo</th><td>3</td>", done.text)
    found = await client.get("/search", params={"q": word})
    assert f"vật liệu {word} số 2" in found.text.replace("<mark>", "").replace("</mark>", "")
    # /projects lists newest first: historic projects are on their own pages (and further on).
    ids = sorted(set(re.findall(r'href="/projects/(\d+)"', found.text)))
    assert len(ids) == 3
    project = await client.get(f"/projects/{ids[0]}")
    assert f"Nghiên cứu vật liệu {word} số" in project.text
    assert "Viện Hàn lâm Khoa học và Công nghệ Việt Nam" in project.text


async def test_a_manager_checks_an_xlsx_for_their_fund_then_imports_it(
    client, settings, make_person
):  # type: ignore[no-untyped-def]
    manager = await make_person(("fund_manager", "nafosted"), totp=True)
    await sign_in(client, manager)
    form = await client.get("/manage/imports")
    fund = re.search(r'<option value="(\d+)">[^<]*\(nafosted\)', form.text)
    assert fund, form.text
    assert "Mỗi dòng ghi quỹ của nó" not in form.text  # managers import for their fund
    assert "(natif)" not in form.text
    word = files.token()
    data = files.as_xlsx(files.rows(word, 4))

    checked = _import_path(
        await _upload(client, "du-an.xlsx", data, XLSX, fund=fund.group(1), dry_run="1")
    )
    await run_jobs(client, settings)
    page = await client.get(checked)
    assert "Đã kiểm tra: không có vấn đề" in page.text
    assert re.search(r"Dự án sẽ tạo</th><td>4</td>", page.text)
    assert f"liệu {word}" not in (await client.get("/search", params={"q": word})).text

    imported = await client.post(
        f"{checked}/import", data={"_csrf_token": await csrf_token(client)}
    )
    path = _import_path(imported)
    await run_jobs(client, settings)
    assert re.search(r"Dự án đã tạo</th><td>4</td>", (await client.get(path)).text)
    found = await client.get("/search", params={"q": word})
    assert len(set(re.findall(r'href="/projects/(\d+)"', found.text))) == 4

    other = await make_person(("fund_manager", "natif"), totp=True)
    client.cookies.clear()
    await sign_in(client, other)
    assert (await client.get(path)).status_code == 404
    assert path not in (await client.get("/manage/imports")).text


async def test_a_bad_file_imports_nothing_and_its_report_names_the_row(
    client, settings, make_person
):  # type: ignore[no-untyped-def]
    admin = await make_person(("admin", None), totp=True)
    await sign_in(client, admin)
    word = files.token()
    body = files.rows(word, 3)
    body[1][7] = "31/02/2020"

    path = _import_path(await _upload(client, "sai.csv", files.as_csv(body), CSV))
    await run_jobs(client, settings)

    page = await client.get(path)
    assert "Bị từ chối: chưa nhập gì" in page.text
    assert "<td>3</td><td>Ngày bắt đầu</td>" in page.text
    assert "ví dụ 15/03/2019" in page.text
    report = await client.get(f"{path}/report.csv", params={"lang": "en"})
    assert report.headers["content-type"] == "text/csv; charset=utf-8"
    assert report.content.decode("utf-8-sig").splitlines() == [
        "Row,Column,Problem",
        "3,Start date,\"Enter a date as day/month/year, such as 15/03/2019.\"",
    ]
    assert f"liệu {word}" not in (await client.get("/search", params={"q": word})).text


async def test_an_upload_that_is_not_a_table_is_refused_at_once(client, make_person):  # type: ignore[no-untyped-def]
    admin = await make_person(("admin", None), totp=True)
    await sign_in(client, admin)
    answer = await _upload(client, "x.xlsx", b"%PDF-1.7", XLSX)
    assert answer.status_code == 400
    assert "Hãy tải lên tệp CSV (mã UTF-8) hoặc bảng tính XLSX" in answer.text
    headers_only = b"Title,Amount\r\nA,1\r\n"
    missing = await _upload(client, "x.csv", headers_only, CSV, "/manage/imports?lang=en")
    assert missing.status_code == 400
    assert "The file has no column for: External id" in missing.text
    in_vietnamese = await _upload(client, "x.csv", headers_only, CSV, "/manage/imports?lang=vi")
    assert "Tệp thiếu cột: Mã dự án gốc" in in_vietnamese.text


async def test_the_template_has_the_columns_in_the_readers_language(client, make_person):  # type: ignore[no-untyped-def]
    admin = await make_person(("admin", None), totp=True)
    await sign_in(client, admin)
    answer = await client.get("/manage/imports/template.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header[0] == "Mã dự án gốc"
    assert "Kinh phí (VND)" in header
    english = await client.get("/manage/imports/template.csv", params={"lang": "en"})
    assert english.content.decode("utf-8-sig").startswith("External id,Title (Vietnamese),")


async def test_only_administrators_and_managers_reach_the_pages(client, make_person):  # type: ignore[no-untyped-def]
    applicant = await make_person(("applicant", "vast"))
    await sign_in(client, applicant)
    assert (await client.get("/manage/imports")).status_code == 403
    client.cookies.clear()
    assert (await client.get("/manage/imports/template.csv")).status_code in (302, 303, 401)

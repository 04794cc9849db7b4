"""Importing historic funded projects from a CSV or XLSX file, from the command line
(`registry import projects`) or the upload page (a job: `run_queued`).

A file imports whole or not at all: every row is read and checked, names are looked up
(funds, technologies by slug or name, organisations by tax number or name), and only when no
row is refused are the projects written, in one transaction that also indexes them for search
and ends with one audit event. A fund's external id makes it idempotent: a row imported
before and unchanged is left alone, an edited one updates its project. Organisations the file
names that the registry does not know are created unconfirmed (`verified_at` null), for an
administrator to review.

XLSX is read with python-calamine (Rust's calamine: fast, read-only, never runs formulas or
macros; numbers come as floats, and only exact whole ones are taken as amounts).
"""

from __future__ import annotations

import asyncio
import contextvars
import csv
import datetime as dt
import io
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from registry import database
from registry.domain import project_import as rules
from registry.domain.accounts import Actor, Origin
from registry.domain.errors import N_, Conflict, InvalidInput, NotFound
from registry.domain.permissions import Target
from registry.domain.project_import import COLUMNS, Problem, ProjectRow
from registry.domain.public_record import fold_slug
from registry.domain.text import clean, collation_key
from registry.i18n import translate_in
from registry.services import audit, queue, scopes, search
from registry.services.queries import projects as projects_sql
from registry.services.storage import Storage, read_all, sha256_of

#: An upload larger than this is refused before it is read (100,000 rows with abstracts
#: fit in about a third of it).
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
#: Rows written (and indexed) per statement: each stays well under the pool's query timeout.
BATCH = 5_000
#: Projects indexed per call of search.index_projects, which runs under the pool's client-side
#: query timeout (DATABASE_QUERY_TIMEOUT_MS) in a worker: small enough to stay far below it.
INDEX_SPAN = 1_000
#: The whole import is one transaction, far longer than a web query may take.
WRITE_TIMEOUT = "SET LOCAL statement_timeout = '30min'"
STATEMENT_SECONDS = 1800.0

Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Outcome:
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    organisations_created: int = 0
    refused: tuple[Problem, ...] = ()
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.refused


# --- reading the file ------------------------------------------------------------------------


def _aliases() -> dict[str, str]:
    """Header names each field is known by: its key, and its label in English and Vietnamese."""
    aliases: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column.key, column.label, translate_in("vi", column.label)):
            aliases.setdefault(rules.header_key(name), column.key)
    return aliases


ALIASES = _aliases()
NOT_A_TABLE = N_("Upload a CSV file (UTF-8) or an XLSX workbook, such as the template.")


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "The CSV file is not UTF-8: save it as “CSV UTF-8” and upload it again.", field="file"
        ) from None
    first = text.split("\n", 1)[0]
    # Spreadsheets set to Vietnamese write ";" between columns (the comma is the decimal mark).
    delimiter = max((",", ";", "\t"), key=first.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except python_calamine.CalamineError:
        raise InvalidInput(NOT_A_TABLE, field="file") from None


def read_table(
    data: bytes, filename: str, language: str = "en"
) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of the file's first sheet; refuses anything else, a file
    too large, and a header without the required columns (named in `language`)."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(
            "The file is larger than %(limit)s MB.", field="file", limit=MAX_FILE_BYTES >> 20
        )
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(b"PK\x03\x04") and suffix in (".xlsx", ""):
        rows = _xlsx_rows(data)
    elif suffix in (".csv", ".txt") and b"\x00" not in data[:4096]:
        rows = _csv_rows(data)
    else:
        raise InvalidInput(NOT_A_TABLE, field="file")
    if not rows:
        raise InvalidInput("The file is empty.", field="file")
    header = [clean(str(cell)) for cell in rows[0]]
    body = [row for row in rows[1:] if any(str(cell).strip() for cell in row)]
    if len(body) > MAX_ROWS:
        raise InvalidInput("A file holds at most %(count)s rows.", field="file", count=MAX_ROWS)
    _, missing = rules.map_header(header, ALIASES)
    if missing:
        labels = {c.key: c.label for c in COLUMNS}
        raise InvalidInput(
            "The file has no column for: %(columns)s. Start from the template.",
            field="file",
            columns=", ".join(translate_in(language, labels[key]) for key in missing),
        )
    return header, body


def _cells(positions: dict[int, str], row: Sequence[Any]) -> dict[str, Any]:
    return {key: row[index] for index, key in positions.items() if index < len(row)}


# --- names in the database -------------------------------------------------------------------


@dataclass(slots=True)
class _Names:
    funds: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (id, code)
    technologies: dict[str, int] = field(default_factory=dict)
    by_tax: dict[str, tuple[int, str]] = field(default_factory=dict)
    by_name: dict[str, tuple[int, str]] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)  # organisation codes taken
    imported: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)


async def _names() -> _Names:
    names = _Names()
    key = rules.name_key
    async with database.connection() as conn:
        for r in await conn.fetch("SELECT id, code, short_name, name_vi, name_en FROM fund"):
            for name in (r["code"], r["short_name"], r["name_vi"], r["name_en"]):
                if name:
                    names.funds.setdefault(key(name), (r["id"], r["code"]))
        for r in await conn.fetch("SELECT id, slug, name_vi, name_en FROM technology"):
            for name in (r["slug"], r["name_vi"], r["name_en"]):
                if name:
                    names.technologies.setdefault(key(name), r["id"])
        for r in await conn.fetch(
            "SELECT id, code, name_vi, name_en, tax_number, is_demo FROM organisation"
            " ORDER BY is_demo, id"  # a real organisation wins a name shared with demo data
        ):
            names.codes.add(r["code"])
            if r["tax_number"]:
                names.by_tax.setdefault(r["tax_number"], (r["id"], r["code"]))
            for name in (r["name_vi"], r["name_en"]):
                if name:
                    names.by_name.setdefault(key(name), (r["id"], r["code"]))
        for r in await conn.fetch(
            "SELECT fund, external_id, project, fingerprint FROM imported_project"
        ):
            names.imported[(r["fund"], r["external_id"])] = (r["project"], r["fingerprint"])
    return names


@dataclass(frozen=True, slots=True)
class _NewOrganisation:
    code: str
    name: str
    kind: str
    province: str | None
    tax_number: str | None


@dataclass(frozen=True, slots=True)
class _Planned:
    row: ProjectRow
    fund_id: int
    fund_code: str
    organisation: str  # its code (an existing one's, or a new one's)
    technologies: tuple[int, ...]
    fingerprint: str
    project_id: int | None  # None: a new project


def _plan(
    rows: list[tuple[int, dict[str, Any]]],
    names: _Names,
    fund_id: int | None,
    seen: dict[tuple[int, str], int],
) -> tuple[list[_Planned], dict[str, _NewOrganisation], list[Problem]]:
    """Each row checked and resolved, the organisations to create, and every problem
    (`seen`: the line each (fund, external id) was first on, across calls)."""
    problems: list[Problem] = []
    planned: list[_Planned] = []
    new_organisations: dict[str, _NewOrganisation] = {}
    fund_codes = {fid: code for fid, code in names.funds.values()}
    for line, cells in rows:
        row, found = rules.read_row(line, cells)
        problems += found
        if row is None:
            continue
        here: list[Problem] = []
        fund = names.funds.get(rules.name_key(row.fund)) if row.fund else None
        if row.fund and fund is None:
            here.append(Problem(line, "fund", N_("Unknown fund: %(value)s."), {"value": row.fund}))
        elif fund_id is not None and fund is not None and fund[0] != fund_id:
            here.append(
                Problem(
                    line,
                    "fund",
                    N_("This file is imported for the fund %(fund)s only."),
                    {"fund": fund_codes[fund_id]},
                )
            )
        elif fund_id is None and fund is None:
            here.append(Problem(line, "fund", N_("Name the fund (its code) in this row.")))
        technologies: list[int] = []
        for name in row.technologies:
            technology = names.technologies.get(rules.name_key(name))
            if technology is None:
                here.append(
                    Problem(
                        line, "technologies", N_("Unknown technology: %(value)s."), {"value": name}
                    )
                )
            elif technology not in technologies:
                technologies.append(technology)
        chosen = fund_id if fund_id is not None else (fund[0] if fund else None)
        if chosen is not None:
            key = (chosen, row.external_id)
            if key in seen:
                here.append(
                    Problem(
                        line,
                        "external_id",
                        N_("This external id is also on row %(line)s of the file."),
                        {"line": seen[key]},
                    )
                )
            seen.setdefault(key, line)
        if here or chosen is None:
            problems += here
            continue
        organisation = _organisation(row, names, new_organisations)
        existing = names.imported.get((chosen, row.external_id))
        planned.append(
            _Planned(
                row=row,
                fund_id=chosen,
                fund_code=fund_codes[chosen],
                organisation=organisation,
                technologies=tuple(technologies),
                fingerprint=row.fingerprint(chosen, organisation, technologies),
                project_id=existing[0] if existing else None,
            )
        )
    return planned, new_organisations, problems


def _organisation(row: ProjectRow, names: _Names, new: dict[str, _NewOrganisation]) -> str:
    """The code of the row's organisation: matched by tax number, then by name; else a new
    one (shared by every row naming it), created unconfirmed."""
    if row.tax_number and row.tax_number in names.by_tax:
        return names.by_tax[row.tax_number][1]
    name_key = rules.name_key(row.organisation)
    if name_key in names.by_name:
        return names.by_name[name_key][1]
    key = row.tax_number or name_key
    if key not in new:
        base = "import-" + (row.tax_number or fold_slug(row.organisation))[:45]
        code, n = base, 1
        while code in names.codes:
            n += 1
            code = f"{base}-{n}"
        names.codes.add(code)
        new[key] = _NewOrganisation(
            code, row.organisation, row.organisation_kind.value, row.province, row.tax_number
        )
        # Later rows with the same name (and no tax number) share it.
        names.by_name.setdefault(name_key, (0, code))
        if row.tax_number:
            names.by_tax.setdefault(row.tax_number, (0, code))
    return new[key].code


# --- importing -------------------------------------------------------------------------------


async def import_projects(
    data: bytes,
    filename: str,
    *,
    actor: Actor | str,
    fund_id: int | None = None,
    dry_run: bool = False,
    origin: Origin | None = None,
    progress: Progress | None = None,
    refresh: bool = False,
) -> Outcome:
    """Check the file and, unless `dry_run` or any row is refused, import it (one
    transaction). `fund_id`: every row belongs to that fund. `refresh`: also refresh the
    funding summaries (the command line may; the web's role may not)."""
    header, body = read_table(data, filename)
    positions, _ = rules.map_header(header, ALIASES)
    total = len(body) * (1 if dry_run else 2)
    names = await _names()
    planned: list[_Planned] = []
    new_organisations: dict[str, _NewOrganisation] = {}
    problems: list[Problem] = []
    seen: dict[tuple[int, str], int] = {}
    for start in range(0, len(body), BATCH):
        # In batches to report progress (and hold one batch's cells at a time); lookups and
        # the external ids seen are shared across them. Line 1 is the header.
        rows = [
            (start + offset + 2, _cells(positions, raw))
            for offset, raw in enumerate(body[start : start + BATCH])
        ]
        part, new, found = _plan(rows, names, fund_id, seen)
        planned += part
        new_organisations.update(new)
        problems += found
        if progress:
            await progress(min(start + BATCH, len(body)), total)
    if problems:
        return Outcome(rows=len(body), refused=tuple(problems), dry_run=dry_run)
    created = [p for p in planned if p.project_id is None]
    changed = [
        p
        for p in planned
        if p.project_id is not None
        and names.imported[(p.fund_id, p.row.external_id)][1] != p.fingerprint
    ]
    outcome = Outcome(
        rows=len(body),
        created=len(created),
        updated=len(changed),
        unchanged=len(planned) - len(created) - len(changed),
        organisations_created=len(new_organisations),
        dry_run=dry_run,
    )
    if dry_run:
        return outcome

    async def written(done: int) -> None:
        if progress:
            await progress(len(body) + done, total)

    async with database.transaction():
        # One import writes at a time; one that ran meanwhile may have created these rows.
        await database.execute("SELECT pg_advisory_xact_lock(hashtext('project_import'))")
        if created and await database.fetchval(
            "SELECT EXISTS (SELECT FROM imported_project k JOIN unnest($1::int[], $2::text[])"
            " AS n(fund, external_id) USING (fund, external_id))",
            [p.fund_id for p in created],
            [p.row.external_id for p in created],
        ):
            raise Conflict("Another import wrote some of these projects meanwhile: run it again.")
        await _write(created, changed, list(new_organisations.values()), written)
        await _audit(outcome, filename, data, fund_id, actor, origin)
        if (created or changed) and not refresh:
            # The web's role may not refresh the funding totals itself: a job recounts them.
            async with database.connection() as conn:
                await queue.defer(conn, queue.BACKGROUND_QUEUE, queue.REFRESH_TOTALS)
    if progress:
        await progress(total, total)
    if refresh and (created or changed):
        await search.refresh_derived()
    return outcome


async def _audit(
    outcome: Outcome,
    filename: str,
    data: bytes,
    fund_id: int | None,
    actor: Actor | str,
    origin: Origin | None,
) -> None:
    """One event per imported file, with its counts: the transaction's last statement."""
    await audit.record(
        "projects.imported",
        f"fund:{fund_id}" if fund_id else "projects",
        actor=actor,
        origin=origin,
        after={
            "file": filename,
            "sha256": sha256_of(data),
            "rows": outcome.rows,
            "created": outcome.created,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
            "organisations_created": outcome.organisations_created,
        },
    )


def _project_record(project_id: int, p: _Planned, organisations: dict[str, int]) -> tuple:
    r = p.row
    return (
        project_id,
        rules.project_code(p.fund_code, r.external_id),
        r.title_vi,
        r.title_en,
        r.abstract_vi,
        r.abstract_en,
        organisations[p.organisation],
        p.fund_id,
        r.amount_vnd,
        r.starts_on,
        r.ends_on,
        r.province,
        collation_key(r.title_vi),
        False,
    )


async def _write(
    created: list[_Planned],
    changed: list[_Planned],
    new_organisations: list[_NewOrganisation],
    progress: Callable[[int], Awaitable[None]],
) -> None:
    """Inside the caller's transaction: organisations, projects, their technologies, the
    external ids, and the search entries (so the projects are searchable when it commits)."""
    async with database.connection() as conn:
        await conn.execute(WRITE_TIMEOUT)
        organisations = {
            r["code"]: r["id"]
            for r in await conn.fetch(
                "SELECT id, code FROM organisation WHERE code = ANY($1::text[])",
                sorted({p.organisation for p in created + changed}),
            )
        }
        for r in await conn.fetch(
            "INSERT INTO organisation (code, name_vi, kind, province, tax_number, sort_key,"
            " is_demo, verified_at)"
            " SELECT *, false, NULL FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
            " $5::text[], $6::text[]) RETURNING code, id",
            [o.code for o in new_organisations],
            [o.name for o in new_organisations],
            [o.kind for o in new_organisations],
            [o.province for o in new_organisations],
            [o.tax_number for o in new_organisations],
            [collation_key(o.name) for o in new_organisations],
            timeout=STATEMENT_SECONDS,
        ):
            organisations[r["code"]] = r["id"]
        done = 0
        for start in range(0, len(created), BATCH):
            batch = created[start : start + BATCH]
            # nextval only: the web's role may use the sequence but not set it.
            ids = [
                r[0]
                for r in await conn.fetch(
                    "SELECT nextval(pg_get_serial_sequence('project', 'id'))"
                    " FROM generate_series(1, $1)",
                    len(batch),
                )
            ]
            await conn.copy_records_to_table(
                "project",
                columns=projects_sql.COPY_COLUMNS,
                timeout=STATEMENT_SECONDS,
                records=[
                    _project_record(i, p, organisations) for i, p in zip(ids, batch, strict=True)
                ],
            )
            await _technologies_and_keys(conn, list(zip(ids, batch, strict=True)), new=True)
            for low, high in _ranges(sorted(ids), INDEX_SPAN):
                await search.index_projects(low, high)
            done += len(batch)
            await progress(done)
        for start in range(0, len(changed), BATCH):
            batch = changed[start : start + BATCH]
            pairs = [(p.project_id or 0, p) for p in batch]
            await conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS import_update (LIKE project) ON COMMIT DROP"
            )
            await conn.execute("TRUNCATE import_update")
            await conn.copy_records_to_table(
                "import_update",
                columns=projects_sql.COPY_COLUMNS,
                timeout=STATEMENT_SECONDS,
                records=[_project_record(i, p, organisations) for i, p in pairs],
            )
            await conn.execute(
                "UPDATE project p SET title_vi = u.title_vi, title_en = u.title_en,"
                " abstract_vi = u.abstract_vi, abstract_en = u.abstract_en,"
                " organisation = u.organisation, amount_vnd = u.amount_vnd,"
                " starts_on = u.starts_on, ends_on = u.ends_on, province = u.province,"
                " sort_key = u.sort_key FROM import_update u WHERE p.id = u.id",
                timeout=STATEMENT_SECONDS,
            )
            await conn.execute(
                "DELETE FROM project_technology WHERE project = ANY($1::int[])",
                [i for i, _ in pairs],
            )
            await _technologies_and_keys(conn, pairs, new=False)
            for low, high in _ranges(sorted(i for i, _ in pairs), INDEX_SPAN):
                await search.index_projects(low, high)
            done += len(batch)
            await progress(done)


async def _technologies_and_keys(conn: Any, pairs: list[tuple[int, _Planned]], *, new: bool):
    await conn.copy_records_to_table(
        "project_technology",
        columns=["project", "technology"],
        timeout=STATEMENT_SECONDS,
        records=[(i, t) for i, p in pairs for t in p.technologies],
    )
    if new:
        await conn.copy_records_to_table(
            "imported_project",
            columns=["project", "fund", "external_id", "fingerprint"],
            records=[(i, p.fund_id, p.row.external_id, p.fingerprint) for i, p in pairs],
            timeout=STATEMENT_SECONDS,
        )
    else:
        await conn.execute(
            "UPDATE imported_project k SET fingerprint = u.fingerprint"
            " FROM unnest($1::int[], $2::text[]) AS u(project, fingerprint)"
            " WHERE k.project = u.project",
            [i for i, _ in pairs],
            [p.fingerprint for _, p in pairs],
        )


def _ranges(ids: list[int], span: int) -> Iterator[tuple[int, int]]:
    """Sorted ids as [low, high] ranges covering at most `span` ids each (index_projects
    takes ranges; ids between the updated ones are re-indexed too, which changes nothing)."""
    start = 0
    while start < len(ids):
        end = start
        while end + 1 < len(ids) and ids[end + 1] - ids[start] < span:
            end += 1
        yield ids[start], ids[end]
        start = end + 1


# --- the upload page and its job -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportRun:
    """One uploaded file's import, as its page shows it."""

    id: int
    filename: str
    fund_id: int | None
    fund_code: str | None
    dry_run: bool
    #: queued, running, done, refused, failed.
    state: str
    rows_total: int
    rows_done: int
    created: int
    updated: int
    unchanged: int
    organisations_created: int
    problems: tuple[Problem, ...]
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def is_running(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def percent(self) -> int:
        return 100 * self.rows_done // self.rows_total if self.rows_total else 0


_RUN_SQL = """
SELECT i.id, i.filename, i.fund AS fund_id, f.code AS fund_code, i.dry_run, i.state,
       i.rows_total, i.rows_done, i.created, i.updated, i.unchanged, i.organisations_created,
       i.problems, i.created_at, i.finished_at, i.sha256
FROM project_import i LEFT JOIN fund f ON f.id = i.fund
"""


def _run(row: Any) -> ImportRun:
    return ImportRun(
        id=row["id"],
        filename=row["filename"],
        fund_id=row["fund_id"],
        fund_code=row["fund_code"],
        dry_run=row["dry_run"],
        state=row["state"],
        rows_total=row["rows_total"],
        rows_done=row["rows_done"],
        created=row["created"],
        updated=row["updated"],
        unchanged=row["unchanged"],
        organisations_created=row["organisations_created"],
        problems=tuple(Problem(*p) for p in json.loads(row["problems"])),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


async def funds_for(actor: Actor) -> tuple[tuple[int, str, str], ...]:
    """(id, code, name) of the funds the actor may import projects for."""
    rows = await database.fetch("SELECT id, code, name_vi FROM fund ORDER BY id")
    return tuple(
        (r["id"], r["code"], r["name_vi"])
        for r in rows
        if rules.may_import_projects(actor, Target(fund=r["id"]))
    )


async def start(
    actor: Actor,
    filename: str,
    data: bytes,
    fund_id: int | None,
    *,
    dry_run: bool,
    store: Storage,
    origin: Origin,
) -> int:
    """Check the upload (a table with the template's columns), store it, and queue its
    import; returns the import's id. Managers import for one of their funds; administrators
    may leave the fund to each row."""
    scopes.require(rules.may_import_projects, actor, Target(fund=fund_id))
    if fund_id is None and not rules.may_import_projects(actor, Target()):
        raise InvalidInput("Choose the fund these projects belong to.", field="fund")
    name = clean(PurePath(filename.replace("\\", "/")).name)[:200] or "projects.csv"
    read_table(data, name, origin.language)  # refused here, before anything is stored
    sha256 = await store.put(data)
    async with database.transaction(), database.connection() as conn:
        if fund_id is not None and not await conn.fetchval(
            "SELECT EXISTS (SELECT FROM fund WHERE id = $1)", fund_id
        ):
            raise NotFound()
        await conn.execute(
            "INSERT INTO blob (sha256, size) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
            sha256,
            len(data),
        )
        import_id = await conn.fetchval(
            "INSERT INTO project_import (created_by, fund, filename, sha256, dry_run, language,"
            " state, rows_total, rows_done, created, updated, unchanged,"
            " organisations_created, problems, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, 0, 0, 0, 0, 0, '[]', now())"
            " RETURNING id",
            actor.account_id,
            fund_id,
            name,
            sha256,
            dry_run,
            origin.language,
        )
        await queue.defer(conn, queue.BACKGROUND_QUEUE, queue.IMPORT_PROJECTS, import_id=import_id)
    return import_id


async def again(actor: Actor, import_id: int, origin: Origin) -> int:
    """Import for real the file a dry run checked (the same stored file)."""
    run = await get(actor, import_id)
    if run.dry_run is False or run.state != "done":
        raise Conflict("Only a dry run that found no problem can be imported.")
    async with database.transaction(), database.connection() as conn:
        new_id = await conn.fetchval(
            "INSERT INTO project_import (created_by, fund, filename, sha256, dry_run, language,"
            " state, rows_total, rows_done, created, updated, unchanged,"
            " organisations_created, problems, created_at)"
            " SELECT $2, fund, filename, sha256, false, $3, 'queued', 0, 0, 0, 0, 0, 0, '[]',"
            " now() FROM project_import WHERE id = $1 RETURNING id",
            import_id,
            actor.account_id,
            origin.language,
        )
        await queue.defer(conn, queue.BACKGROUND_QUEUE, queue.IMPORT_PROJECTS, import_id=new_id)
    return new_id


async def get(actor: Actor, import_id: int) -> ImportRun:
    row = await database.fetchrow(_RUN_SQL + " WHERE i.id = $1", import_id)
    if row is None:
        raise NotFound()
    scopes.require(rules.may_import_projects, actor, Target(fund=row["fund_id"]))
    return _run(row)


async def list_runs(actor: Actor, limit: int = 50) -> tuple[ImportRun, ...]:
    """The latest imports the actor may see: all for administrators, their funds' for
    managers."""
    rows = await database.fetch(_RUN_SQL + " ORDER BY i.id DESC LIMIT $1", limit)
    return tuple(
        _run(r) for r in rows if rules.may_import_projects(actor, Target(fund=r["fund_id"]))
    )


async def _outside_transaction(call: Callable[[], Awaitable[Any]]) -> None:
    """Run `call` on a connection of its own: the page must see progress while the import's
    transaction is still open (a task in an empty context has no current transaction)."""
    await asyncio.create_task(call(), context=contextvars.Context())


async def run_queued(import_id: int, store: Storage) -> None:
    """The job: import (or check) the stored file and keep its outcome for the page. Running
    it again after it finished (a retried job) does nothing."""
    row = await database.fetchrow(
        "UPDATE project_import SET state = 'running' WHERE id = $1"
        " AND state IN ('queued', 'running') RETURNING *",
        import_id,
    )
    if row is None:
        return
    data = await read_all(await store.open(row["sha256"]))

    async def progress(done: int, total: int) -> None:
        await _outside_transaction(
            lambda: database.execute(
                "UPDATE project_import SET rows_done = $2, rows_total = $3 WHERE id = $1",
                import_id,
                done,
                total,
            )
        )

    try:
        outcome = await import_projects(
            data,
            row["filename"],
            actor=f"account:{row['created_by']}",
            fund_id=row["fund"],
            dry_run=row["dry_run"],
            progress=progress,
        )
    except (InvalidInput, Conflict) as error:  # the file itself (checked at upload), a race
        outcome = Outcome(rows=0, refused=(Problem(1, "", error.message, error.params),))
    await database.execute(
        "UPDATE project_import SET state = $2, rows_done = rows_total, created = $3,"
        " updated = $4, unchanged = $5, organisations_created = $6,"
        " problems = $7::text::jsonb, finished_at = now() WHERE id = $1",
        import_id,
        "done" if outcome.ok else "refused",
        outcome.created,
        outcome.updated,
        outcome.unchanged,
        outcome.organisations_created,
        json.dumps(
            [[p.line, p.column, p.message, dict(p.params)] for p in outcome.refused],
            ensure_ascii=False,
        ),
    )


async def mark_failed(import_id: int) -> None:
    """An import the job could not finish (a bug, the database gone): the page says so."""
    await database.execute(
        "UPDATE project_import SET state = 'failed', finished_at = now()"
        " WHERE id = $1 AND state IN ('queued', 'running')",
        import_id,
    )


# --- the template and the report of refused rows ---------------------------------------------


def template(language: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The template's header (in `language`) and one example row."""
    return (
        tuple(translate_in(language, c.label) for c in COLUMNS),
        (tuple(c.example for c in COLUMNS),),
    )


def report(
    problems: Sequence[Problem], language: str
) -> tuple[tuple[str, ...], list[tuple[int | str, ...]]]:
    """The refused rows as a table in `language`: row, column, reason."""
    labels = {c.key: c.label for c in COLUMNS}
    header = tuple(
        translate_in(language, text) for text in (N_("Row"), N_("Column"), N_("Problem"))
    )
    rows: list[tuple[int | str, ...]] = [
        (
            p.line,
            translate_in(language, labels[p.column]) if p.column in labels else "",
            translate_in(language, p.message, p.params),
        )
        for p in sorted(problems, key=lambda p: p.line)
    ]
    return header, rows


async def fund_id(code: str) -> int:
    """The id of the fund with this code (the command line's --fund)."""
    found = await database.fetchval("SELECT id FROM fund WHERE code = $1", code)
    if found is None:
        raise InvalidInput("Unknown fund: %(value)s.", field="fund", value=code)
    return found

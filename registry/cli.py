"""The `registry` command: serve, worker, migrate, load-fixtures, demo, import, check, audit,
create-user, totp, storage, stop-embedded, translations."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")

from registry.settings import Settings, SettingsError

if TYPE_CHECKING:
    from registry.database import LoginCheck
    from registry.domain.audit import ChainCheck
    from registry.services.storage import FolderImport

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _run(main: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(main())


async def migrate() -> tuple[int, int]:
    """Apply the migrations not yet applied: (how many now, how many were applied before).
    Piccolo's own report counts every migration as both "already complete" and "not yet run"
    on a new database, so it is kept for failures only."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    async def applied() -> int:
        if not await Migration.table_exists():
            return 0
        return await Migration.count().where(Migration.app_name == "registry")

    before = await applied()
    with contextlib.redirect_stdout(io.StringIO()) as report:
        result = await run_forwards("registry")
    if not result.success:
        raise SystemExit(f"{report.getvalue()}\nmigration failed: {result.message}")
    return await applied() - before, before


async def search_index_missing() -> int:
    from registry.services import search

    return await search.index_missing()


def describe_migration(now: int, before: int) -> str:
    if not now:
        return f"the database is up to date: its {before} migrations were applied earlier"
    if not before:
        return f"a new database: all {now} migrations applied"
    return f"{now} new migrations applied ({before} were applied earlier)"


async def load_fixtures(path: Path) -> dict[str, int]:
    from registry.services import reference

    data = json.loads(path.read_text(encoding="utf-8"))  # noqa: ASYNC240 (one small file, CLI)
    report = await reference.load_reference(data)
    return report.counts


async def load_demo(projects: int, *, if_empty: bool, vocabulary: Path) -> int:
    from registry.services import demo

    if if_empty and await demo.has_projects():
        return 0
    started = time.monotonic()

    def progress(done: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-9)
        print(f"  {done:,} demo projects loaded ({rate:,.0f}/s)", flush=True)

    data = json.loads(vocabulary.read_text(encoding="utf-8"))  # noqa: ASYNC240 (CLI)
    return await demo.replace_demo_projects(projects, data, progress=progress)


async def import_projects(
    path: Path, *, fund: str | None, dry_run: bool, report: Path | None, language: str
) -> bool:
    """Import (or with `dry_run` check) a CSV or XLSX file of historic projects, with a
    progress bar; the refused rows are printed and, with `report`, written as CSV. True when
    no row was refused."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from registry.services import project_import

    data = path.read_bytes()  # noqa: ASYNC240 (one file, CLI)
    fund_id = await project_import.fund_id(fund) if fund else None
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as bar:  # fmt: skip
        task = bar.add_task("checking rows", total=None)

        async def progress(done: int, total: int) -> None:
            checked = total if dry_run else total // 2  # a real import checks, then writes
            step = "checking rows" if done <= checked else "writing projects"
            bar.update(task, completed=done, total=total, description=step)

        outcome = await project_import.import_projects(
            data, path.name, actor="system:cli", fund_id=fund_id, dry_run=dry_run,
            progress=progress, refresh=True,
        )  # fmt: skip
    if outcome.refused:
        header, rows = project_import.report(outcome.refused, language)
        for line, column, problem in rows[:50]:
            print(f"  row {line}: {column + ': ' if column else ''}{problem}", file=sys.stderr)
        if len(rows) > 50:
            print(f"  ... and {len(rows) - 50:,} more", file=sys.stderr)
        if report:
            # Here only: registry.documents brings WeasyPrint, seconds to import.
            from registry.documents.spreadsheets import Sheet, to_csv

            report.write_bytes(to_csv(Sheet("refused", header, rows)))  # noqa: ASYNC240
        print(f"{len(rows):,} problems in {outcome.rows:,} rows: nothing was imported")
        return False
    verb = "would be" if dry_run else "were"
    print(
        f"{outcome.rows:,} rows: {outcome.created:,} projects {verb} created, "
        f"{outcome.updated:,} updated, {outcome.unchanged:,} unchanged; "
        f"{outcome.organisations_created:,} new organisations {verb} created for review"
    )
    return True


async def check(settings: Settings) -> LoginCheck:
    """Log in as the web and worker processes do and say what that role could do."""
    import asyncpg

    from registry import database

    try:
        return await database.check_login(database.app_url(settings))
    except asyncpg.PostgresError as error:
        raise SystemExit(f"error: the database refused the application's login: {error}") from None


def login_warnings(check: LoginCheck) -> list[str]:
    """One line per way the application's login role could rewrite the audit trail."""
    advice = (
        "SQL slipped past the application could rewrite the audit trail; give web and worker "
        "processes a login role that is only a member of registry_app (README, Database roles)"
    )
    for role, superuser in check.risky:
        if role == check.login and superuser:  # may be anyone: one line says it all
            return [f"warning: the application logs in as {role}, a superuser: {advice}"]
    lines = []
    for role, superuser in check.risky:
        what = "a superuser" if superuser else "an owner of the audit schema"
        who = "logs in as" if role == check.login else f"logs in as {check.login}, a member of"
        lines.append(f"warning: the application {who} {role}, {what}: {advice}")
    return lines


async def verify_audit() -> ChainCheck:
    from registry.services import audit

    return await audit.verify()


def describe_audit(check: ChainCheck) -> str:
    head = f"head {check.head_seq} {check.head_hash_hex}"
    if check.ok:
        return f"audit trail ok: {check.events:,} events, {head}"
    return f"audit trail BROKEN at event {check.first_bad_seq}: {check.reason} ({head})"


async def import_folder(folder: Path) -> FolderImport:
    from registry.services import storage

    if not folder.is_dir():  # noqa: ASYNC240 (one check, CLI)
        raise SystemExit(f"no folder storage at {folder}")
    return await storage.import_folder(folder, storage.PostgresStorage())


def describe_import(report: FolderImport) -> str:
    lines = [
        f"{report.imported:,} files copied into PostgreSQL, "
        f"{report.already_stored:,} were there already, {len(report.refused):,} refused"
    ]
    lines += [f"  refused {path}: {why}" for path, why in report.refused]
    return "\n".join(lines)


async def re_encrypt_totp(settings: Settings) -> int:
    """Encrypt TOTP seeds with TOTP_KEY's first key; returns how many changed."""
    from registry.services import totp_seeds

    report = await totp_seeds.re_encrypt(settings)
    print(f"{report.changed:,} second-factor keys encrypted with the first TOTP_KEY")
    if report.unreadable:
        ids = ", ".join(str(i) for i in report.unreadable)
        raise SystemExit(f"no TOTP_KEY opens the second-factor keys of accounts {ids}")
    return report.changed


#: Role names create-user takes: the site's own, and "manager" for a fund manager.
CLI_ROLES = {"admin": "admin", "reviewer": "reviewer", "manager": "fund_manager"}


async def create_user(
    email: str, name: str, roles: list[str], password: str, fund: str = ""
) -> int:
    from registry.domain.accounts import Role
    from registry.services import accounts

    chosen = [Role(CLI_ROLES[role]) for role in roles]
    return await accounts.create_user(email, password, name, chosen, fund_code=fund)


def read_new_password() -> str:
    """From a terminal: asked twice, not echoed. Piped: the first line of stdin."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (12 to 128 characters): ")
    if getpass.getpass("Same password again: ") != first:
        raise SystemExit("the two passwords differ; nothing was created")
    return first


#: Seconds `serve` waits for its worker to finish running jobs (it has 30 s of grace itself).
WORKER_STOP_TIMEOUT = 40


async def run_worker(settings: Settings, *, stop_with_parent: bool) -> None:
    """One worker; with `stop_with_parent`, it also stops (gracefully) when the process that
    started it is gone, even if that one was killed without a chance to stop it."""
    import logging

    from registry.jobs import worker

    logging.basicConfig(level=logging.DEBUG if settings.debug else logging.INFO)
    parent = os.getppid()

    async def watch_parent() -> None:
        while os.getppid() == parent:  # noqa: ASYNC110 (no event tells of a parent's death)
            await asyncio.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)  # the worker's own graceful stop

    watcher = asyncio.create_task(watch_parent()) if stop_with_parent else None
    try:
        await worker.run(settings)
    finally:
        if watcher is not None:
            watcher.cancel()


def _start_worker() -> subprocess.Popen:
    # A session of its own: Ctrl-C reaches only `serve`, which then stops the worker once
    # (a second signal would make procrastinate abandon running jobs).
    return subprocess.Popen(
        [sys.executable, "-m", "registry.cli", "worker", "--stop-with-parent"],
        start_new_session=True,
    )


def _stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve(settings: Settings, *, with_worker: bool) -> None:
    import uvicorn

    from registry import database

    database.database_url()  # start the embedded server before the app needs it
    worker = _start_worker() if with_worker else None
    try:
        uvicorn.run(
            "registry.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            proxy_headers=True,
            server_header=False,  # "Server: uvicorn" only helps an attacker pick exploits
            log_level="debug" if settings.debug else "info",
        )
    finally:
        if worker is not None:
            _stop_worker(worker)  # before the database it uses stops
        if not settings.database_url:
            database.stop_embedded(settings.data_dir / "pgdata")
            print("embedded PostgreSQL stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser(
        "serve", help="serve the web application (HOST, PORT) and run one job worker"
    )
    serve_command.add_argument(
        "--no-worker", action="store_true", help="serve only; workers run on their own"
    )
    worker_command = commands.add_parser(
        "worker", help="run background jobs, mail delivery (WORKER_CONCURRENCY at once)"
    )
    worker_command.add_argument("--stop-with-parent", action="store_true", help=argparse.SUPPRESS)
    commands.add_parser(
        "migrate", help="apply database migrations, then encrypt any plaintext TOTP seeds"
    )
    fixtures = commands.add_parser("load-fixtures", help="load the reference data (idempotent)")
    fixtures.add_argument("path", nargs="?", type=Path, default=FIXTURES / "reference.json")
    demo = commands.add_parser("demo", help="replace the demo projects with N generated ones")
    demo.add_argument("--projects", type=int, default=2000, metavar="N")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when any project exists")
    demo.add_argument("--vocabulary", type=Path, default=FIXTURES / "demo_vocabulary.json")
    importing = commands.add_parser("import", help="import data from spreadsheets")
    import_commands = importing.add_subparsers(dest="import_command", required=True)
    import_projects_command = import_commands.add_parser(
        "projects",
        help="import historic funded projects from a CSV or XLSX file (the upload page's "
        "template): all rows or none; importing again changes only edited rows",
    )
    import_projects_command.add_argument("path", type=Path, metavar="FILE")
    import_projects_command.add_argument(
        "--dry-run", action="store_true", help="check every row and count; write nothing"
    )
    import_projects_command.add_argument(
        "--fund", metavar="CODE", help="every row belongs to this fund (else each names its own)"
    )
    import_projects_command.add_argument(
        "--report", type=Path, metavar="CSV", help="write the refused rows and why to this file"
    )
    import_projects_command.add_argument("--lang", choices=["vi", "en"], default="en")
    check_command = commands.add_parser(
        "check",
        help="check the configuration, that the database answers, and that the application's "
        "login role cannot rewrite the audit trail",
    )
    check_command.add_argument(
        "--strict", action="store_true", help="exit status 1 when there is a warning"
    )
    audit = commands.add_parser("audit", help="the tamper-evident audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser(
        "verify", help="recompute the hash chain; exit status 1 names the first bad event"
    )
    user = commands.add_parser(
        "create-user", help="create a verified account, e.g. the first admin (password on stdin)"
    )
    user.add_argument("--email", required=True)
    user.add_argument("--name", default="")
    user.add_argument(
        "--role", action="append", default=[], choices=sorted(CLI_ROLES), dest="roles"
    )
    user.add_argument("--fund", default="", metavar="CODE", help="the fund a manager manages")
    totp = commands.add_parser("totp", help="second-factor keys at rest")
    totp_commands = totp.add_subparsers(dest="totp_command", required=True)
    totp_commands.add_parser(
        "re-encrypt",
        help="encrypt every TOTP seed with TOTP_KEY's first key (after adding a new key, or "
        "for seeds stored in plaintext); running it again changes nothing",
    )
    storage = commands.add_parser("storage", help="the stored files (proposal attachments)")
    storage_commands = storage.add_subparsers(dest="storage_command", required=True)
    import_command = storage_commands.add_parser(
        "import-folder",
        help="copy a folder storage's files (default REGISTRY_DATA_DIR/blobs) into PostgreSQL; "
        "running it again copies only what is missing",
    )
    import_command.add_argument("path", nargs="?", type=Path, default=None)
    commands.add_parser("stop-embedded", help="stop the embedded PostgreSQL server")
    commands.add_parser("translations", help="update the vi/en catalogues from the code")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2

    from registry.domain.errors import RegistryError

    try:
        if args.command == "serve":
            serve(settings, with_worker=not args.no_worker)
        elif args.command == "worker":
            _run(lambda: run_worker(settings, stop_with_parent=args.stop_with_parent))
        elif args.command == "migrate":
            print(describe_migration(*_run(migrate)))
            # Search tokens are made in Python (domain.terms), so a migration cannot make them.
            if missing := _run(search_index_missing):
                print(f"search: {missing} entries indexed again")
            # Seeds stored before they were encrypted: the key lives outside the database, so
            # a migration cannot do it.
            _run(lambda: re_encrypt_totp(settings))
        elif args.command == "totp" and args.totp_command == "re-encrypt":
            _run(lambda: re_encrypt_totp(settings))
        elif args.command == "load-fixtures":
            counts = _run(lambda: load_fixtures(args.path))
            print("reference data loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        elif args.command == "demo":
            if args.projects < 0:
                parser.error("--projects must be 0 or more")
            loaded = _run(
                lambda: load_demo(args.projects, if_empty=args.if_empty, vocabulary=args.vocabulary)
            )
            print(f"{loaded:,} demo projects loaded" if loaded else "demo data left as it was")
        elif args.command == "import" and args.import_command == "projects":
            ok = _run(
                lambda: import_projects(
                    args.path, fund=args.fund, dry_run=args.dry_run, report=args.report,
                    language=args.lang,
                )
            )  # fmt: skip
            if not ok:
                return 1
        elif args.command == "check":
            login = _run(lambda: check(settings))
            where = "DATABASE_URL" if settings.database_url else "embedded server"
            print(
                f"configuration ok; PostgreSQL {login.server_version} answers ({where}, "
                f"the application logs in as {login.login})"
            )
            warnings = login_warnings(login)
            for line in warnings:
                print(line, file=sys.stderr)
            if warnings and args.strict:
                return 1
        elif args.command == "audit" and args.audit_command == "verify":
            chain = _run(verify_audit)
            print(describe_audit(chain))
            if not chain.ok:
                return 1
        elif args.command == "create-user":
            password = read_new_password()
            if "manager" in args.roles and not args.fund:
                parser.error("--role manager needs --fund CODE (the fund's code, e.g. nafosted)")
            account_id = _run(
                lambda: create_user(args.email, args.name, args.roles, password, args.fund)
            )
            roles = ", ".join(args.roles) or "no roles"
            print(f"account {account_id} created for {args.email} ({roles})")
            print("at the first sign-in its owner chooses a new password", end="")
            print(" and sets up the second factor" if args.roles else "")
        elif args.command == "storage" and args.storage_command == "import-folder":
            report = _run(lambda: import_folder(args.path or settings.data_dir / "blobs"))
            print(describe_import(report))
            if report.refused:
                return 1
        elif args.command == "stop-embedded":
            from registry import database

            stopped = database.stop_embedded(settings.data_dir / "pgdata")
            print("stopped" if stopped else "no embedded server was running")
        elif args.command == "translations":
            from registry.web import translations

            missing = translations.update()
            print(f"catalogues updated; {missing} messages still need a Vietnamese translation")
    except RegistryError as error:
        print(
            f"error: {error.message % error.params if error.params else error.message}",
            file=sys.stderr,
        )
        return 1
    except OSError as error:
        print(f"error: cannot reach the database: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

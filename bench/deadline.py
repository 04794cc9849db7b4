"""The last minutes before a call closes: hundreds of applicants saving, uploading, submitting.

`.venv/bin/python bench/deadline.py --help` (also run by `make bench`). See bench/README.md for
what is simulated, measured and checked. Everything runs on 127.0.0.1 against one uvicorn
process; every server started here is stopped at the end (unless --keep-server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import io
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from bench_database import Database, prepare_database, stop_database

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
EMBEDDED_PGDATA = ROOT / ".registry" / "deadline-pgdata"
DATABASE = "registry_deadline"
NEVER_TOUCH = "registry_test"  # other people's tests use it
HOST = "127.0.0.1"  # the only host this script ever sends requests to
PASSWORD = "bench deadline password 57"
EMAIL = "deadline-{:04d}@bench.example.vn"
MANAGER_EMAIL = "deadline-manager@bench.example.vn"
ORGANISATIONS = ("vast", "hcmut")  # verified by the reference fixtures
FUND = "nafosted"
RECEIPT_PATH = re.compile(r"^/proposals/(\d+)/receipts/(\d+)$")
RECEIPT_NO = re.compile(r"\b[A-Z0-9]+-\d{4}-\d{6}-V\d+\b")


# --------------------------------------------------------------------------------------------
# The database: its own, migrated and loaded with the reference data


def registry_command(env: dict[str, str], *args: str, timeout: float, quiet: bool = False) -> int:
    registry = Path(sys.executable).with_name("registry")
    output = subprocess.DEVNULL if quiet else None
    return subprocess.run(
        [str(registry), *args], env=env, cwd=ROOT, timeout=timeout, stdout=output, check=False
    ).returncode


@dataclass
class People:
    applicants: list[tuple[int, str, int]]  # account id, e-mail, organisation id
    manager_id: int
    fund_id: int
    earlier_versions: int


async def create_people(url: str, count: int) -> People:
    """`count` applicants (members of the verified organisations) and one manager of the fund,
    made directly in the database with one argon2 hash of PASSWORD (reused on later runs)."""
    from argon2 import PasswordHasher

    password_hash = PasswordHasher().hash(PASSWORD)
    conn = await asyncpg.connect(url)
    try:
        organisations = []
        for code in ORGANISATIONS:
            row = await conn.fetchrow(
                "SELECT id, verified_at IS NOT NULL AS verified FROM organisation WHERE code = $1",
                code,
            )
            if row is None or not row["verified"]:
                raise RuntimeError(f"organisation {code!r} missing or not verified (fixtures?)")
            organisations.append(row["id"])
        fund_id = await conn.fetchval("SELECT id FROM fund WHERE code = $1", FUND)
        if fund_id is None:
            raise RuntimeError(f"fund {FUND!r} missing (fixtures?)")

        async def account(email: str, name: str) -> int:
            return await conn.fetchval(
                "INSERT INTO account (email, display_name, password_hash, email_verified_at) "
                "VALUES ($1, $2, $3, now()) ON CONFLICT (email) DO UPDATE "
                "SET password_hash = EXCLUDED.password_hash, disabled_at = NULL RETURNING id",
                email,
                name,
                password_hash,
            )

        applicants = []
        async with conn.transaction():
            for index in range(count):
                email = EMAIL.format(index)
                organisation = organisations[index % len(organisations)]
                account_id = await account(email, f"Người nộp {index:04d}")
                await conn.execute(
                    "INSERT INTO account_role (account, role, organisation) "
                    "VALUES ($1, 'applicant', $2) ON CONFLICT DO NOTHING",
                    account_id,
                    organisation,
                )
                applicants.append((account_id, email, organisation))
            manager_id = await account(MANAGER_EMAIL, "Quản lý quỹ (bench)")
            await conn.execute(
                "INSERT INTO account_role (account, role, fund) VALUES ($1, 'fund_manager', $2) "
                "ON CONFLICT DO NOTHING",
                manager_id,
                fund_id,
            )
        earlier = await conn.fetchval("SELECT count(*) FROM proposal_version")
    finally:
        await conn.close()
    return People(applicants, manager_id, fund_id, earlier)


# --------------------------------------------------------------------------------------------
# The call, made and moved through the services (the manager's actions, audited)


def _manager(people: People) -> Any:
    from registry.domain.accounts import Actor, Grant, Role

    grants = frozenset({Grant(Role.FUND_MANAGER, people.fund_id)})
    return Actor(people.manager_id, MANAGER_EMAIL, "Quản lý quỹ (bench)", grants, True, True)


async def create_call(people: People) -> tuple[int, tuple[int, ...]]:
    """A published call open for an hour; its closing time is set once everyone is ready."""
    from registry.domain.accounts import Origin
    from registry.domain.calls import CallSpec
    from registry.domain.scoring import PRESETS
    from registry.services import calls

    manager = _manager(people)
    technologies = tuple(t for t, _ in await calls.eligible_technologies())[:3]
    now = dt.datetime.now(dt.UTC)
    spec = CallSpec(
        title_vi=f"Đợt nộp hồ sơ sát hạn chót (bench {now:%Y-%m-%d %H:%M:%S})",
        title_en="Deadline rush benchmark call",
        description_vi="Đợt gọi hồ sơ dùng để đo tải giờ chót.",
        description_en="",
        technologies=technologies,
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(hours=1),
        budget_vnd=10_000_000_000,
        min_request_vnd=500_000_000,
        max_request_vnd=3_000_000_000,
        cofunding_permille=200,
        required_attachments=("description",),
        reviewers_per_proposal=3,
        blind_review=False,
        criteria=PRESETS["horizon_ria"],
    )
    origin = Origin(HOST, "vi")
    call_id = await calls.create_call(manager, people.fund_id, spec, origin)
    call = await calls.managed_call(manager, call_id)
    await calls.publish_call(manager, call_id, call.row_version, origin)
    return call_id, technologies


async def set_closing_time(people: People, call_id: int, closes_at: dt.datetime) -> None:
    from registry.domain.accounts import Origin
    from registry.services import calls

    manager = _manager(people)
    call = await calls.managed_call(manager, call_id)
    spec = dataclasses.replace(call.spec, closes_at=closes_at)
    await calls.update_call(manager, call_id, spec, call.row_version, Origin(HOST, "vi"))


# --------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    pid: int
    log: Path
    data_dir: Path
    process: subprocess.Popen[bytes]


def start_server(db: Database, log: Path) -> Server:
    """`uvicorn registry.app:create_app --factory --workers 1` as catalogue.py starts it, with
    its own data folder (mail outbox), plain-HTTP cookies and a fixed secret key."""
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="registry-deadline-"))
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "REGISTRY_DATA_DIR": str(data_dir),
        "DEBUG": "false",
        "SECURE_COOKIES": "false",
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_URL": f"http://{HOST}:{port}",
        "PICCOLO_CONF": "registry.piccolo_conf",
    }
    command = [
        sys.executable, "-m", "uvicorn", "registry.app:create_app", "--factory",
        "--host", HOST, "--port", str(port), "--workers", "1",
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        "--backlog", "4096",
    ]  # fmt: skip
    output = log.open("w")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=output)
    output.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _startup_failure(log, f"the server exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            print(f"\n== app: http://{HOST}:{port} (pid {process.pid}), log {_rel(log)}")
            return Server(f"http://{HOST}:{port}", process.pid, log, data_dir, process)
        time.sleep(0.2)
    process.terminate()
    _startup_failure(log, "the server was not listening after 60 s")
    raise AssertionError("unreachable")


def _startup_failure(log: Path, what: str) -> None:
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
    print(f"\n!! SERVER STARTUP FAILED: {what}. Last lines of {_rel(log)}:\n{tail}")
    print("   (a 500 or a failed migration after the code changed: try again with --fresh)")
    raise SystemExit(2)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=15)


def _rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(ROOT))
    return str(path)


# --------------------------------------------------------------------------------------------
# CPU shares (from /proc)


def _cpu_ticks(pids: set[int], *, reaped_of: int | None = None) -> dict[int, int]:
    """utime + stime per process; for `reaped_of` also the CPU of its children that ended and
    were waited for (cutime + cstime), such as the server's PDF workers."""
    ticks = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[pid] = int(fields[11]) + int(fields[12])
            if pid == reaped_of:
                ticks[pid] += int(fields[13]) + int(fields[14])
    return ticks


def _process_tree(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
    tree = {root}
    for _ in range(8):
        grown = tree | {pid for pid, parent in parents.items() if parent in tree}
        if grown == tree:
            break
        tree = grown
    return tree


async def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's pid when it runs on this machine (a backend's parent)."""
    if urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1", None):
        return None
    conn = await asyncpg.connect(url)
    try:  # while the backend still exists
        return _parent_pid(await conn.fetchval("SELECT pg_backend_pid()"))
    finally:
        await conn.close()


def _pid_file(pgdata: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    return None


def _parent_pid(pid: int) -> int | None:
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return None


@dataclass
class CpuReading:
    at: float
    server: dict[int, int]
    postgres: dict[int, int]
    own: float
    machine: int  # busy ticks of all CPUs


class CpuMeter:
    """Cores used by the server process and its PDF workers, the PostgreSQL server's process
    tree (when it runs here), this load generator, and everything else on the machine (other
    people's processes included) between two readings."""

    def __init__(self, server_pid: int, pg_pid: int | None) -> None:
        self.server_pid = server_pid
        self.pg_pid = pg_pid

    def read(self) -> CpuReading:
        pg = self.pg_pid
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return CpuReading(
            at=time.monotonic(),
            server=_cpu_ticks(_process_tree(self.server_pid), reaped_of=self.server_pid),
            postgres=_cpu_ticks(_process_tree(pg), reaped_of=pg) if pg else {},
            own=time.process_time(),
            machine=user + nice + system + irq + softirq + steal,
        )

    @staticmethod
    def shares(before: CpuReading, after: CpuReading) -> dict[str, float | None]:
        hz = os.sysconf("SC_CLK_TCK")
        elapsed = max(after.at - before.at, 1e-6)

        def cores(a: dict[int, int], b: dict[int, int]) -> float | None:
            # Totals: a child that ended meanwhile (a PDF worker, a PostgreSQL backend) moved
            # its ticks into its parent's cutime/cstime, which the root's figure includes.
            return (sum(b.values()) - sum(a.values())) / hz / elapsed if b else None

        server = cores(before.server, after.server)
        postgres = cores(before.postgres, after.postgres)
        own = (after.own - before.own) / elapsed
        machine = (after.machine - before.machine) / hz / elapsed
        other = machine - (server or 0) - (postgres or 0) - own
        values = {
            "server": server,
            "postgres": postgres,
            "load generator": own,
            "other processes": max(other, 0.0),
            "machine busy": machine,
        }
        return {k: None if v is None else round(v, 2) for k, v in values.items()}


def cpu_text(shares: dict[str, float | None]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in shares.items() if v is not None)


class DatabaseWaits:
    """Every 0.5 s: how many of the bench database's connections are busy and on what they
    wait (pg_stat_activity), to tell CPU, locks and the pool apart."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: list[tuple[float, int, int, Counter[str]]] = []  # at, busy, open, waits

    async def run(self, clock: Clock) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            while True:
                rows = await conn.fetch(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
                waits: Counter[str] = Counter()
                busy = 0
                for row in rows:
                    if row["state"] == "idle":
                        continue
                    busy += 1
                    if row["state"] != "active":
                        waits[f"{row['state']} (the app holds the transaction)"] += 1
                    elif row["wait_event_type"]:
                        waits[f"{row['wait_event_type']}:{row['wait_event']}"] += 1
                    else:
                        waits["running (CPU)"] += 1
                self.samples.append((clock.now(), busy, len(rows), waits))
                await asyncio.sleep(0.5)
        finally:
            await conn.close()

    def summary(self, start: float, end: float) -> dict[str, Any]:
        chosen = [s for s in self.samples if start <= s[0] < end]
        if not chosen:
            return {}
        waits: Counter[str] = Counter()
        for sample in chosen:
            waits.update(sample[3])
        total = sum(waits.values()) or 1
        return {
            "samples": len(chosen),
            "busy_connections_mean": round(statistics.mean(s[1] for s in chosen), 1),
            "busy_connections_max": max(s[1] for s in chosen),
            "open_connections_max": max(s[2] for s in chosen),
            "share_of_busy_samples": {k: round(v / total, 3) for k, v in waits.most_common(8)},
        }


# --------------------------------------------------------------------------------------------
# What applicants type and upload


def _vocabulary() -> dict[str, Any]:
    return json.loads((ROOT / "fixtures" / "demo_vocabulary.json").read_text())


FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ")
GIVEN = ("Thị Hoa", "Văn Minh", "Quang Huy", "Thu Trang", "Đức Anh", "Ngọc Lan", "Minh Châu")


@dataclass(frozen=True)
class Text:
    title: str
    sentences: tuple[str, ...]
    pi_name: str


def draft_text(rng: random.Random, vocabulary: dict[str, Any], index: int) -> Text:
    """A title and abstract sentences in the demo generator's style (so proposals read alike
    the way real ones in one field do, and the near-duplicate check has work to do)."""
    topics = [t for group in vocabulary["topics"].values() for t in group]
    topic = rng.choice(topics)["vi"]
    sector = rng.choice(vocabulary["sectors"])["vi"]
    province = rng.choice(vocabulary["provinces"])
    title = rng.choice(vocabulary["title_patterns"])["vi"].format(topic=topic, sector=sector)
    sentences = [
        s["vi"].format(topic=topic, sector=sector, province=province)
        for s in rng.sample(vocabulary["abstract_sentences"], 12)
    ]
    sentences.append(f"Hồ sơ số {index} của đợt đo tải.")
    name = f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"
    return Text(title[:300], tuple(sentences), name)


def make_pdf(index: int, pad_kb: int) -> bytes:
    """A valid one-page PDF with a line of text, made unique by its text and by `pad_kb` KB of
    random comment lines in the page's content (so every upload is a new blob)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    text = f"BT /F1 14 Tf 72 770 Td (Thuyet minh de tai - ho so {index}) Tj ET\n".encode()
    padding = b"".join(
        b"% " + os.urandom(48).hex().encode() + b"\n" for _ in range(pad_kb * 1024 // 100)
    )
    content = DecodedStreamObject()
    content.set_data(text + padding)
    page[NameObject("/Contents")] = writer._add_object(content)
    writer.add_metadata({"/Title": f"Thuyet minh {index}", "/Author": f"Ung vien {index}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# The simulation


class Clock:
    """The database server's clock (which decides what is in time), read locally."""

    def __init__(self, offset: float, uncertainty: float) -> None:
        self.offset = offset
        self.uncertainty = uncertainty

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep_until(self, at: float) -> None:
        delay = at - self.now()
        if delay > 0:
            await asyncio.sleep(delay)


async def measure_clock(url: str) -> Clock:
    """Offset of the database clock from ours: best of 10 round trips (midpoint)."""
    conn = await asyncpg.connect(url)
    try:
        best = None
        for _ in range(10):
            before = time.time()
            db_now = await conn.fetchval("SELECT extract(epoch FROM clock_timestamp())::float8")
            after = time.time()
            rtt = after - before
            if best is None or rtt < best[1]:
                best = (db_now - (before + after) / 2, rtt)
    finally:
        await conn.close()
    assert best is not None
    return Clock(best[0], best[1] / 2)


@dataclass
class Sample:
    action: str
    sent: float  # database clock, epoch seconds
    ms: float
    status: int | None  # None: no HTTP answer (connection error, timeout)
    outcome: str  # ok, refused_late, refused_in_flight, error
    detail: str = ""


@dataclass
class Ack:
    applicant: int
    proposal: int
    number: int
    key: str
    action: str
    sent: float
    answered: float
    receipt_no: str | None = None


@dataclass
class Plan:
    events: list[tuple[float, str]]  # (database-clock time, what)
    final_at: float
    late: bool
    double_click: bool
    resubmit: bool
    retry_after_close: bool


@dataclass
class Applicant:
    index: int
    account_id: int
    email: str
    organisation_id: int
    technology: int
    text: Text
    pdf: bytes
    presave: list[bool]
    client: httpx.AsyncClient | None = None
    proposal_id: int = 0
    row_version: int = 0
    submit_key: str = ""
    saves: int = 0
    last_ack: Ack | None = None
    keys_used: list[str] = field(default_factory=list)

    @property
    def csrf(self) -> str:
        assert self.client is not None
        return self.client.cookies.get("csrftoken", "")

    def fields(self) -> dict[str, Any]:
        """Every field of the draft form as the page has it (2 spare team rows, every budget
        line, the filled milestones and 2 spare ones), the abstract growing with each save."""
        from registry.domain.proposals import BudgetCategory

        shown = min(len(self.text.sentences), 3 + self.saves)
        abstract = " ".join(self.text.sentences[:shown])[:5000]
        values: dict[str, Any] = {
            "_csrf_token": self.csrf,
            "row_version": str(self.row_version),
            "title_vi": self.text.title,
            "title_en": "",
            "abstract_vi": abstract,
            "abstract_en": "",
            "technologies": [str(self.technology)],
            "duration_months": "24",
            "pi_name": self.text.pi_name,
            "pi_orcid": "",
        }
        for row in range(2):
            for part in ("name", "orcid", "role"):
                values[f"team-{row}-{part}"] = ""
        for category in BudgetCategory:
            values[f"budget-{category}-requested"] = ""
            values[f"budget-{category}-own"] = ""
        values["budget-personnel-requested"] = "1.000.000.000"
        values["budget-personnel-own"] = "300.000.000"
        milestones = [
            ("12", f"Bộ dữ liệu và báo cáo giữa kỳ (bản {self.saves + 1})"),
            ("24", "Sản phẩm hoàn chỉnh và báo cáo tổng kết"),
            ("", ""),
            ("", ""),
        ]
        for row, (month, text) in enumerate(milestones):
            values[f"milestone-{row}-month"] = month
            values[f"milestone-{row}-text"] = text
        return values


class Rush:
    def __init__(self, base: str, clock: Clock, args: argparse.Namespace) -> None:
        self.base = base
        self.clock = clock
        self.args = args
        self.samples: list[Sample] = []
        self.acks: list[Ack] = []
        self.mismatches: list[dict[str, Any]] = []
        self.closes_at = float("inf")
        self.submits: dict[str, list[dict[str, Any]]] = defaultdict(list)  # by submit key
        self.rng = random.Random(args.seed + 1)
        self.cpu_timeline: list[dict[str, Any]] = []

    # HTTP --------------------------------------------------------------------------------

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.args.timeout),
            # 2: a double click has two requests in flight at once. Idle connections are
            # dropped after 4 s, before uvicorn's 5 s keep-alive timeout closes them under a
            # request just sent (a race browsers retry silently and httpx reports as an error).
            limits=httpx.Limits(max_connections=2, max_keepalive_connections=2, keepalive_expiry=4),
            headers={"Origin": self.base, "Accept-Language": "vi"},
        )

    async def request(
        self, applicant: Applicant, action: str, method: str, url: str, **kwargs: Any
    ) -> tuple[httpx.Response | None, float, float]:
        """(answer or None, sent at on the database clock, milliseconds)."""
        assert applicant.client is not None
        sent = self.clock.now()
        started = time.perf_counter()
        try:
            response = await applicant.client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            ms = (time.perf_counter() - started) * 1000
            self.samples.append(Sample(action, sent, ms, None, "error", type(error).__name__))
            return None, sent, ms
        return response, sent, (time.perf_counter() - started) * 1000

    def record(
        self, action: str, sent: float, ms: float, response: httpx.Response, ok: bool, detail=""
    ) -> str:
        if ok:
            outcome = "ok"
        elif response.status_code == 409 and detail != "stale":
            outcome = "refused_late" if sent >= self.closes_at else "refused_in_flight"
        else:
            outcome = "error"
            detail = detail or response.text[:200]
        self.samples.append(Sample(action, sent, ms, response.status_code, outcome, detail))
        return outcome

    # Before the clock starts (not timed) --------------------------------------------------

    async def sign_in(self, applicant: Applicant) -> None:
        applicant.client = self.client()
        await applicant.client.get("/login")
        answer = await applicant.client.post(
            "/login",
            data={
                "_csrf_token": applicant.csrf,
                "email": applicant.email,
                "password": PASSWORD,
                "next": "/proposals",
            },
        )
        where = answer.headers.get("location", "")
        if answer.status_code != 303 or where != "/proposals":
            raise RuntimeError(f"sign-in answered {answer.status_code} -> {where!r}")

    async def start_proposal(self, applicant: Applicant, call_id: int) -> None:
        assert applicant.client is not None
        answer = await applicant.client.post(
            f"/calls/{call_id}/proposals",
            data={"_csrf_token": applicant.csrf, "organisation": str(applicant.organisation_id)},
        )
        match = re.fullmatch(r"/proposals/(\d+)", answer.headers.get("location", ""))
        if answer.status_code != 303 or match is None:
            raise RuntimeError(f"start answered {answer.status_code}: {answer.text[:200]}")
        applicant.proposal_id = int(match.group(1))
        page = await applicant.client.get(f"/proposals/{applicant.proposal_id}")
        self._read_page(applicant, page)

    @staticmethod
    def _read_page(applicant: Applicant, page: httpx.Response) -> bool:
        version = re.search(r'name="row_version" value="(\d+)"', page.text)
        key = re.search(r'name="submit_key" value="([0-9a-f-]{36})"', page.text)
        if page.status_code != 200 or version is None:
            return False
        applicant.row_version = int(version.group(1))
        if key is not None:
            applicant.submit_key = key.group(1)
        return True

    # What applicants do -------------------------------------------------------------------

    async def autosave(self, applicant: Applicant, action: str = "autosave") -> None:
        applicant.saves += 1
        response, sent, ms = await self.request(
            applicant,
            action,
            "POST",
            f"/proposals/{applicant.proposal_id}",
            data=applicant.fields(),
            headers={"X-Autosave": "1", "Accept": "application/json"},
        )
        if response is None:
            return
        if response.status_code == 200:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                applicant.row_version = int(response.json()["row_version"])
                self.record(action, sent, ms, response, True)
                return
            self.record(action, sent, ms, response, False, "200 without row_version")
            return
        stale = response.status_code == 409 and "conflict_url" in response.text
        self.record(action, sent, ms, response, False, "stale" if stale else "")

    async def page(self, applicant: Applicant) -> None:
        response, sent, ms = await self.request(
            applicant, "page", "GET", f"/proposals/{applicant.proposal_id}"
        )
        if response is not None:
            self.record("page", sent, ms, response, self._read_page(applicant, response))

    async def upload(self, applicant: Applicant) -> None:
        response, sent, ms = await self.request(
            applicant,
            "upload",
            "POST",
            f"/proposals/{applicant.proposal_id}/attachments",
            data={"_csrf_token": applicant.csrf, "kind": "description"},
            files={
                "file": (f"thuyet-minh-{applicant.index}.pdf", applicant.pdf, "application/pdf")
            },
        )
        if response is None:
            return
        ok = response.status_code == 303
        self.record("upload", sent, ms, response, ok)
        if ok:  # the browser follows the redirect back to the proposal page
            await self.page(applicant)

    async def _post_submit(
        self, applicant: Applicant, action: str, key: str, delay: float = 0.0
    ) -> tuple[str, str | None]:
        """One POST of the submit form; (outcome, receipt path or None)."""
        if delay:
            await asyncio.sleep(delay)
        response, sent, ms = await self.request(
            applicant,
            action,
            "POST",
            f"/proposals/{applicant.proposal_id}/submit",
            data={"_csrf_token": applicant.csrf, "submit_key": key},
        )
        entry: dict[str, Any] = {"applicant": applicant.index, "action": action, "sent": sent}
        self.submits[key].append(entry)
        if response is None:
            entry["outcome"] = "error"
            return "error", None
        where = response.headers.get("location", "")
        match = RECEIPT_PATH.match(where)
        ok = response.status_code == 303 and match is not None
        if ok and int(match.group(1)) != applicant.proposal_id:
            ok = False
        outcome = self.record(action, sent, ms, response, ok)
        entry.update(outcome=outcome, status=response.status_code, location=where)
        if ok:
            assert match is not None
            self.acks.append(
                Ack(
                    applicant.index,
                    applicant.proposal_id,
                    int(match.group(2)),
                    key,
                    action,
                    sent,
                    self.clock.now(),
                )
            )
            return outcome, where
        return outcome, None

    async def submit(self, applicant: Applicant, plan: Plan, *, final: bool) -> None:
        """Press Submit: the last keystrokes are saved first when there are any (as
        autosave.js does), then the form is posted; a 303 is followed to the receipt page."""
        if applicant.presave[applicant.saves % len(applicant.presave)]:
            await self.autosave(applicant)
        key = applicant.submit_key
        applicant.keys_used.append(key)
        if final and plan.double_click:
            second_after = self.rng.uniform(0.03, 0.25)
            (outcome, where), (outcome2, where2) = await asyncio.gather(
                self._post_submit(applicant, "submit", key),
                self._post_submit(applicant, "submit, 2nd click", key, second_after),
            )
            if where != where2:
                self.mismatches.append(
                    {
                        "applicant": applicant.index,
                        "kind": "double click",
                        "first": [outcome, where],
                        "second": [outcome2, where2],
                    }
                )
            where = where or where2
        else:
            _, where = await self._post_submit(applicant, "submit", key)
        if where is None:
            return
        applicant.last_ack = self.acks[-1]
        await self.receipt_page(applicant, where)
        if not final:  # back to the proposal for the next version: a new submit key
            await self.page(applicant)

    async def receipt_page(self, applicant: Applicant, where: str) -> None:
        response, sent, ms = await self.request(applicant, "receipt page", "GET", where)
        if response is None:
            return
        found = RECEIPT_NO.search(response.text) if response.status_code == 200 else None
        self.record("receipt page", sent, ms, response, found is not None)
        if found is not None:
            for ack in reversed(self.acks):
                if ack.applicant == applicant.index and where.endswith(f"/{ack.number}"):
                    ack.receipt_no = found.group(0)
                    break

    async def retry(self, applicant: Applicant) -> None:
        """The same submit form posted again after the deadline (a network retry, a reload
        that re-posts): the receipt it already produced, not a refusal."""
        earlier = applicant.last_ack
        if earlier is None:
            return
        action = "submit retry after close"
        _, where = await self._post_submit(applicant, action, earlier.key)
        expected = f"/proposals/{earlier.proposal}/receipts/{earlier.number}"
        if where != expected:
            self.mismatches.append(
                {
                    "applicant": applicant.index,
                    "kind": "retry after close",
                    "expected": expected,
                    "got": where,
                }
            )

    async def run(self, applicant: Applicant, plan: Plan) -> None:
        for at, what in plan.events:
            await self.clock.sleep_until(at)
            if what == "autosave":
                await self.autosave(applicant)
            elif what == "upload":
                await self.upload(applicant)
            elif what == "submit":
                await self.submit(applicant, plan, final=False)
            elif what == "final":
                await self.submit(applicant, plan, final=True)
            elif what == "retry":
                await self.retry(applicant)


def make_plan(rng: random.Random, args: argparse.Namespace, start: float, closes: float) -> Plan:
    """When this applicant saves, uploads and submits (database-clock times).

    Final submits fall in the last `--last-seconds` before closing; `--late-share` of them in
    the 3 s after it. `--resubmit-share` submit once mid-window and again at the end;
    `--double-click-share` click the final Submit twice; `--retry-share` post the accepted
    form again 1-4 s after the close.
    """
    window = closes - start
    late = rng.random() < args.late_share
    final_at = closes + rng.uniform(0, 3) if late else closes - rng.uniform(0, args.last_seconds)
    resubmit = rng.random() < args.resubmit_share
    events: list[tuple[float, str]] = [(start + rng.uniform(0.02, 0.4) * window, "upload")]
    if resubmit:
        events.append((start + rng.uniform(0.45, 0.75) * window, "submit"))
    at = start + rng.uniform(0, args.autosave_every)
    while at < min(final_at, closes) - 0.5:
        events.append((at, "autosave"))
        at += args.autosave_every * rng.uniform(0.5, 1.5)
    events.append((final_at, "final"))
    retry = not late and rng.random() < args.retry_share
    if retry:
        events.append((closes + rng.uniform(1, 4), "retry"))
    events.sort()
    return Plan(events, final_at, late, rng.random() < args.double_click_share, resubmit, retry)


async def gather_limited(limit: int, coroutines: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coroutine: Any) -> Any:
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines), return_exceptions=True)


@dataclass
class RushResult:
    call_id: int
    closes_at: float
    started_at: float
    prep_seconds: dict[str, float]
    prep_failures: list[str]
    plans: list[Plan]
    rush: Rush
    cpu: dict[str, float | None]
    window_seconds: float
    database_waits: dict[str, Any]


async def run_rush(
    args: argparse.Namespace, db: Database, people: People, server: Server
) -> RushResult:
    # The services (the manager's side) use the bench database, on fresh connections.
    os.environ["DATABASE_URL"] = db.url
    os.environ["PICCOLO_CONF"] = "registry.piccolo_conf"
    call_id, technologies = await create_call(people)
    clock = await measure_clock(db.url)
    rush = Rush(server.base, clock, args)
    rng = random.Random(args.seed)
    vocabulary = _vocabulary()
    applicants = [
        Applicant(
            index=index,
            account_id=account_id,
            email=email,
            organisation_id=organisation,
            technology=rng.choice(technologies),
            text=draft_text(rng, vocabulary, index),
            pdf=make_pdf(index, args.pdf_kb),
            presave=[rng.random() < 0.5 for _ in range(7)],
        )
        for index, (account_id, email, organisation) in enumerate(people.applicants)
    ]
    prep: dict[str, float] = {}
    failures: list[str] = []

    started = time.monotonic()
    results = await gather_limited(16, [rush.sign_in(a) for a in applicants])
    prep["sign-in"] = time.monotonic() - started
    print(f"{len(applicants)} applicants signed in over HTTP in {prep['sign-in']:.1f} s (untimed)")
    ready = []
    for applicant, result in zip(applicants, results, strict=True):
        if isinstance(result, BaseException):
            failures.append(f"applicant {applicant.index} sign-in: {result!r}")
        else:
            ready.append(applicant)
    started = time.monotonic()
    results = await gather_limited(32, [rush.start_proposal(a, call_id) for a in ready])
    prep["start proposal"] = time.monotonic() - started
    print(f"proposals started and opened in {prep['start proposal']:.1f} s (untimed)")
    playing = []
    for applicant, result in zip(ready, results, strict=True):
        if isinstance(result, BaseException):
            failures.append(f"applicant {applicant.index} start: {result!r}")
        else:
            playing.append(applicant)
    for failure in failures[:10]:
        print(f"   ! {failure}")

    start = clock.now() + 2.0
    closes = start + args.window
    await set_closing_time(people, call_id, dt.datetime.fromtimestamp(closes, dt.UTC))
    rush.closes_at = closes
    plans = [make_plan(rng, args, start, closes) for _ in playing]
    print(
        f"call {call_id} closes at {dt.datetime.fromtimestamp(closes, dt.UTC):%H:%M:%S.%f} UTC: "
        f"{len(playing)} applicants, {args.window:g} s window "
        f"(database clock offset {clock.offset * 1000:+.1f} ms)",
        flush=True,
    )

    pg_pid = _pid_file(db.pgdata) if db.pgdata else await postmaster_pid(db.url)
    meter = CpuMeter(server.pid, pg_pid)
    print(
        f"PostgreSQL server pid {pg_pid}: its CPU is measured"
        if pg_pid
        else "PostgreSQL server not on this machine (or not visible): its CPU is not measured"
    )
    waits = DatabaseWaits(db.url)
    await clock.sleep_until(start)
    first = meter.read()
    tasks = [asyncio.create_task(rush.run(a, p)) for a, p in zip(playing, plans, strict=True)]
    watchers = [
        asyncio.create_task(_progress(rush, meter, first, closes)),
        asyncio.create_task(waits.run(clock)),
    ]
    done = await asyncio.gather(*tasks, return_exceptions=True)
    for watcher in watchers:
        watcher.cancel()
    for watcher in watchers:
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    cpu = meter.shares(first, meter.read())
    window_seconds = clock.now() - start
    for applicant, result in zip(playing, done, strict=True):
        if isinstance(result, BaseException):
            failures.append(f"applicant {applicant.index} crashed in the bench: {result!r}")
    await asyncio.gather(*(a.client.aclose() for a in applicants if a.client is not None))
    database_waits = {
        "whole run": waits.summary(start, float("inf")),
        f"last {args.last_seconds:g} s and 4 s after": waits.summary(
            closes - args.last_seconds, closes + 4
        ),
    }
    return RushResult(
        call_id, closes, start, prep, failures, plans, rush, cpu, window_seconds, database_waits
    )


async def _progress(rush: Rush, meter: CpuMeter, first: CpuReading, closes: float) -> None:
    """A line every 10 s while the rush runs, with the CPU each side used meanwhile."""
    previous = first
    while True:
        await asyncio.sleep(10)
        reading = meter.read()
        shares = meter.shares(previous, reading)
        previous = reading
        now = rush.clock.now()
        recent = [s for s in rush.samples if s.sent >= now - 10]
        errors = sum(1 for s in recent if s.outcome == "error")
        p95 = _percentile([s.ms for s in recent if s.status is not None], 95)
        rush.cpu_timeline.append({"to_close_s": round(closes - now, 1), **shares})
        print(
            f"   t-{closes - now:5.1f} s: {len(recent) / 10:5.1f} req/s, "
            f"p95 {p95:7.1f} ms, errors {errors}, acknowledged {len(rush.acks)}; "
            f"cores: {cpu_text(shares)}",
            flush=True,
        )


# --------------------------------------------------------------------------------------------
# Verification, from the database


async def verify_database(
    url: str, result: RushResult, data_dir: Path
) -> tuple[dict[str, Any], list[tuple[str, str, bool]]]:
    rush = result.rush
    conn = await asyncpg.connect(url)
    try:
        closes_at = await conn.fetchval("SELECT closes_at FROM call WHERE id = $1", result.call_id)
        rows = await conn.fetch(
            "SELECT v.proposal, v.number, v.receipt_no, v.submit_key::text AS key, "
            "extract(epoch FROM v.received_at)::float8 AS received "
            "FROM proposal_version v JOIN proposal p ON p.id = v.proposal WHERE p.call = $1",
            result.call_id,
        )
        late_versions = await conn.fetchval(
            "SELECT count(*) FROM proposal_version v JOIN proposal p ON p.id = v.proposal "
            "JOIN call c ON c.id = p.call WHERE p.call = $1 AND v.received_at >= c.closes_at",
            result.call_id,
        )
        attachments = await conn.fetch(
            "SELECT a.proposal, a.sha256, a.stripped_sha256, "
            "EXISTS (SELECT FROM stored_file f WHERE f.sha256 = a.sha256) AS stored, "
            "EXISTS (SELECT FROM stored_file f WHERE f.sha256 = a.stripped_sha256) "
            "AS stripped_stored "
            "FROM attachment a JOIN proposal p ON p.id = a.proposal WHERE p.call = $1",
            result.call_id,
        )
        flags = await conn.fetchval(
            "SELECT count(*) FROM duplicate_flag d JOIN proposal_version v ON v.id = d.version "
            "JOIN proposal p ON p.id = v.proposal WHERE p.call = $1",
            result.call_id,
        )
        audit_events = await conn.fetchval(
            "SELECT count(*) FROM audit.event WHERE at >= to_timestamp($1)", result.started_at
        )
        mails = await conn.fetchval(
            "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) || '/' || count(*) "
            "FROM outbox_mail WHERE created_at >= to_timestamp($1)",
            result.started_at,
        )
    finally:
        await conn.close()

    closes = closes_at.timestamp()
    versions = {(r["proposal"], r["number"]): r for r in rows}
    acknowledged = {(a.proposal, a.number): a for a in rush.acks}
    missing = [k for k in acknowledged if k not in versions]
    wrong_receipt_no = [
        k
        for k, a in acknowledged.items()
        if k in versions and a.receipt_no and a.receipt_no != versions[k]["receipt_no"]
    ]
    # A submit sent after the close must be refused, or answer a receipt received in time.
    margin = rush.clock.uncertainty
    late_sent_acks = [a for a in rush.acks if a.sent >= closes + margin]
    late_accepted = [
        a
        for a in late_sent_acks
        if (a.proposal, a.number) not in versions
        or versions[(a.proposal, a.number)]["received"] >= closes
    ]
    unacknowledged = []
    for key, row in versions.items():
        if key not in acknowledged:
            tries = rush.submits.get(row["key"], [])
            unacknowledged.append(
                {
                    "proposal": key[0],
                    "number": key[1],
                    "client_saw": [t.get("outcome") for t in tries],
                }
            )
    uploaded = sum(1 for s in rush.samples if s.action == "upload" and s.outcome == "ok")
    with_attachment = {r["proposal"] for r in attachments}
    # Files are in PostgreSQL (the default STORAGE), complete once listed in stored_file.
    missing_files = [
        digest
        for r in attachments
        for digest, stored in (
            (r["sha256"], r["stored"]),
            (r["stripped_sha256"], r["stripped_stored"]),
        )
        if not stored
    ]
    acks_after_close = [a for a in rush.acks if a.answered >= closes and a.sent < closes]
    facts = {
        "closes_at": closes_at.isoformat(),
        "versions_in_call": len(rows),
        "acknowledged_versions": len(acknowledged),
        "acknowledged_missing_in_database": [list(k) for k in missing],
        "receipt_number_mismatches": [list(k) for k in wrong_receipt_no],
        "versions_received_at_or_after_close": late_versions,
        "late_sent_submits_acknowledged": len(late_sent_acks),
        "late_sent_submits_accepted_as_new": len(late_accepted),
        "versions_not_acknowledged_to_client": unacknowledged,
        "acks_answered_after_close_for_submits_sent_before": len(acks_after_close),
        "last_ack_after_close_seconds": round(
            max((a.answered - closes for a in rush.acks), default=0.0), 3
        ),
        "latest_received_before_close_seconds": round(
            max((r["received"] - closes for r in rows), default=float("nan")), 3
        ),
        "uploads_acknowledged": uploaded,
        "proposals_with_attachment": len(with_attachment),
        "blob_files_missing": missing_files,
        "duplicate_flags": flags,
        "audit_events_since_start": audit_events,
        "receipt_mails_delivered_of_queued": mails,
        "double_click_or_retry_mismatches": rush.mismatches,
    }
    share = 100.0 * (len(acknowledged) - len(missing)) / len(acknowledged) if acknowledged else 0
    checks = [
        (
            "(a) every acknowledged submission (303 to its receipt) has its committed version",
            f"{len(acknowledged) - len(missing)}/{len(acknowledged)} = {share:.1f}%"
            + (f", {len(wrong_receipt_no)} receipt numbers differ" if wrong_receipt_no else ""),
            bool(acknowledged) and not missing and not wrong_receipt_no,
        ),
        (
            "(b) no version accepted with received_at >= closes_at",
            f"{late_versions} of {len(rows)} versions",
            late_versions == 0,
        ),
        (
            "submits sent after closes_at got no new receipt (409, or the in-time one again)",
            f"{len(late_accepted)} accepted of {len(late_sent_acks)} acknowledged late posts",
            not late_accepted,
        ),
        (
            "double clicks and retries with the same key got the same receipt",
            f"{len(rush.mismatches)} mismatches",
            not rush.mismatches,
        ),
        (
            "every uploaded file is stored with its stripped copy",
            f"{len(missing_files)} missing of {2 * len(attachments)}",
            not missing_files,
        ),
    ]
    return facts, checks


def audit_chain_check(db: Database) -> tuple[str, str, bool]:
    env = {**os.environ, "DATABASE_URL": db.url, "PICCOLO_CONF": "registry.piccolo_conf"}
    status = registry_command(env, "audit", "verify", timeout=600, quiet=True)
    return (
        "the audit trail's hash chain verifies (registry audit verify)",
        "intact" if status == 0 else f"exit status {status}",
        status == 0,
    )


# --------------------------------------------------------------------------------------------
# Report


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


ACTIONS = (
    "autosave", "upload", "page", "submit", "submit, 2nd click", "submit retry after close",
    "receipt page",
)  # fmt: skip


def summarise(rush: Rush, last_seconds: float) -> list[dict[str, Any]]:
    rows = []
    closes = rush.closes_at
    groups: list[tuple[str, list[Sample]]] = [
        (action, [s for s in rush.samples if s.action == action]) for action in ACTIONS
    ]
    for action in ("autosave", "submit"):
        in_last = [
            s
            for s in rush.samples
            if s.action == action and closes - last_seconds <= s.sent < closes
        ]
        groups.append((f"{action} (last {last_seconds:g} s)", in_last))
    for name, samples in groups:
        if not samples:
            continue
        answered = [s.ms for s in samples if s.status is not None]
        outcomes = Counter(s.outcome for s in samples)
        statuses = Counter(str(s.status) for s in samples if s.outcome == "error")
        rows.append(
            {
                "action": name,
                "requests": len(samples),
                "ok": outcomes["ok"],
                "refused_late": outcomes["refused_late"],
                "refused_in_flight": outcomes["refused_in_flight"],
                "errors": outcomes["error"],
                "error_statuses": dict(statuses),
                "p50_ms": round(_percentile(answered, 50), 1),
                "p95_ms": round(_percentile(answered, 95), 1),
                "max_ms": round(max(answered, default=float("nan")), 1),
            }
        )
    return rows


def timeline(rush: Rush, step: float = 10.0) -> list[dict[str, Any]]:
    """Requests, p95 and errors per `step` seconds, counted back from the close."""
    buckets: dict[int, list[Sample]] = defaultdict(list)
    for sample in rush.samples:
        buckets[int((sample.sent - rush.closes_at) // step)].append(sample)
    return [
        {
            "from_s": n * step,
            "requests_per_s": round(len(b) / step, 1),
            "p95_ms": round(_percentile([s.ms for s in b if s.status is not None], 95), 1),
            "errors": sum(1 for s in b if s.outcome == "error"),
        }
        for n, b in sorted(buckets.items())
    ]


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'action':<28} {'requests':>8} {'ok':>6} {'late 409':>8} {'in-flight':>9} "
        f"{'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        print(
            f"{r['action']:<28} {r['requests']:8d} {r['ok']:6d} {r['refused_late']:8d} "
            f"{r['refused_in_flight']:9d} {r['errors']:6d} {r['p50_ms']:8.1f} "
            f"{r['p95_ms']:8.1f} {r['max_ms']:8.1f}"
        )


def server_problems(log: Path) -> dict[str, Any]:
    """Tracebacks and error lines the server logged (5xx answers are logged with theirs)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    lines = text.splitlines()
    tracebacks: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.startswith("Traceback"):
            current = [line]
        elif current:
            current.append(line)
            if line and not line.startswith(
                (" ", "\t", "Traceback", "During handling", "The above exception")
            ):
                tracebacks.append("\n".join(current))
                current = []
    distinct: dict[str, int] = Counter(t.splitlines()[-1] for t in tracebacks)
    examples = {}
    for t in tracebacks:
        examples.setdefault(t.splitlines()[-1], t)
    levels = Counter(
        level for line in lines for level in ("ERROR", "WARNING", "CRITICAL") if level in line[:40]
    )
    return {
        "tracebacks": len(tracebacks),
        "distinct": dict(distinct),
        "examples": list(examples.values())[:5],
        "log_levels": dict(levels),
    }


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applicants", type=int, default=300, help="concurrent applicants")
    parser.add_argument(
        "--window", type=float, default=90, help="seconds from the start of the rush to the close"
    )
    parser.add_argument(
        "--last-seconds", type=float, default=10, help="final submits fall in this many seconds"
    )
    parser.add_argument("--autosave-every", type=float, default=8, help="mean seconds per save")
    parser.add_argument("--late-share", type=float, default=0.05, help="submit just after")
    parser.add_argument("--double-click-share", type=float, default=0.10)
    parser.add_argument("--resubmit-share", type=float, default=0.15)
    parser.add_argument("--retry-share", type=float, default=0.05, help="re-post after close")
    parser.add_argument("--pdf-kb", type=int, default=64, help="padding of each uploaded PDF")
    parser.add_argument("--timeout", type=float, default=60, help="client timeout per request")
    parser.add_argument("--seed", type=int, default=57)
    parser.add_argument("--fresh", action="store_true", help=f"drop {DATABASE} first")
    parser.add_argument(
        "--keep-server",
        action="store_true",
        help="leave the server (and the embedded database) running at the end, to look around",
    )
    args = parser.parse_args(argv)
    if args.applicants < 1 or args.window < 2 * args.last_seconds or args.last_seconds <= 0:
        parser.error("--applicants >= 1 and --window >= 2 x --last-seconds > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    db = prepare_database(DATABASE, EMBEDDED_PGDATA, fresh=args.fresh, refuse=(NEVER_TOUCH,))
    server: Server | None = None
    try:
        env = {**os.environ, "DATABASE_URL": db.url, "PICCOLO_CONF": "registry.piccolo_conf"}
        for command in (("migrate",), ("load-fixtures",)):
            if registry_command(env, *command, timeout=1800) != 0:
                raise SystemExit(f"registry {' '.join(command)} failed (try --fresh)")
        people = asyncio.run(create_people(db.url, args.applicants))
        print(
            f"{args.applicants} applicants and 1 fund manager ready in {DATABASE}; "
            f"{people.earlier_versions} proposal versions from earlier runs"
        )
        server = start_server(db, RESULTS / "deadline-server.log")
        result = runner(run_rush(args, db, people, server))
        facts, checks = asyncio.run(verify_database(db.url, result, server.data_dir))
        checks.append(audit_chain_check(db))
    finally:
        if server is not None and not args.keep_server:
            stop_server(server)
            shutil.rmtree(server.data_dir, ignore_errors=True)
        if not args.keep_server:
            stop_database(db)

    rush = result.rush
    rows = summarise(rush, args.last_seconds)
    plans = result.plans
    print(
        f"\n{len(plans)} applicants, {args.window:g} s to the close; "
        f"{sum(p.late for p in plans)} planned to submit after it, "
        f"{sum(p.resubmit for p in plans)} resubmit, {sum(p.double_click for p in plans)} "
        f"double-click, {sum(p.retry_after_close for p in plans)} re-post after the close. "
        f"{len(rush.samples)} timed requests in {result.window_seconds:.0f} s "
        f"({len(rush.samples) / result.window_seconds:.0f} req/s average)."
    )
    print_table(rows)
    print(
        f"\nCPU over the rush (cores, of {os.cpu_count()} shared by the load generator, the "
        f"server and PostgreSQL): {cpu_text(result.cpu)}"
    )
    for period, summary in result.database_waits.items():
        if summary:
            shares = ", ".join(f"{k} {v:.0%}" for k, v in summary["share_of_busy_samples"].items())
            print(
                f"database, {period}: {summary['busy_connections_mean']} busy connections "
                f"on average (max {summary['busy_connections_max']} of "
                f"{summary['open_connections_max']} open); busy samples: {shares}"
            )
    print("\nper 10 s, counted from the close:")
    for bucket in timeline(rush):
        print(
            f"   [{bucket['from_s']:+6.0f} s] {bucket['requests_per_s']:6.1f} req/s  "
            f"p95 {bucket['p95_ms']:8.1f} ms  errors {bucket['errors']}"
        )
    print(
        f"\nacknowledged {facts['acknowledged_versions']} versions; "
        f"{facts['acks_answered_after_close_for_submits_sent_before']} of their answers arrived "
        f"after the close (sent before it); last answer {facts['last_ack_after_close_seconds']} s "
        f"after the close; {facts['duplicate_flags']} near-duplicate flags; "
        f"{facts['audit_events_since_start']} audit events; receipt mails delivered "
        f"{facts['receipt_mails_delivered_of_queued']}"
    )
    if facts["versions_not_acknowledged_to_client"]:
        print(
            f"versions committed but never acknowledged to the client: "
            f"{facts['versions_not_acknowledged_to_client'][:10]}"
        )
    problems = server_problems(server.log) if server else {}
    if problems.get("tracebacks"):
        print(f"\n!! the server logged {problems['tracebacks']} tracebacks:")
        for last_line, count in problems["distinct"].items():
            print(f"   {count} x {last_line}")
        print("first example:\n" + problems["examples"][0])
    errors = sum(r["errors"] for r in rows if "last" not in r["action"])
    checks.insert(
        0,
        (
            "no HTTP errors (5xx, unexpected status, timeout, connection)",
            f"{errors} errors",
            errors == 0,
        ),
    )
    if result.prep_failures:
        checks.insert(
            0,
            (
                "every applicant signed in and started a proposal",
                f"{len(result.prep_failures)} failed",
                False,
            ),
        )
    print()
    for name, measured, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {measured}")
    if args.keep_server and server is not None:
        print(
            f"\nserver left running: {server.base} (pid {server.pid}); sign in as "
            f"{EMAIL.format(0)} / {PASSWORD!r}; stop it with `kill {server.pid}` and remove "
            f"its data folder {server.data_dir}"
            + ("; the embedded database is left running too (bench/README.md)" if db.pgdata else "")
        )
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    output = RESULTS / f"deadline-{stamp}.json"
    output.write_text(
        json.dumps(
            {
                "when": dt.datetime.now().isoformat(timespec="seconds"),
                "settings": vars(args),
                "cpus": os.cpu_count(),
                "database": "embedded" if db.pgdata else "DATABASE_URL server",
                "call_id": result.call_id,
                "prep_seconds": result.prep_seconds,
                "prep_failures": result.prep_failures,
                "cpu_cores": result.cpu,
                "cpu_timeline": rush.cpu_timeline,
                "database_waits": result.database_waits,
                "load_average_after": os.getloadavg(),
                "actions": rows,
                "timeline": timeline(rush),
                "facts": facts,
                "server_log": problems,
                "checks": [{"check": c, "measured": m, "passed": p} for c, m, p in checks],
                "samples": [dataclasses.astuple(s) for s in rush.samples],
            },
            indent=1,
            ensure_ascii=False,
            default=str,
        )
    )
    print(f"\nresults written to {_rel(output)}")
    return 0 if all(passed for _, _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

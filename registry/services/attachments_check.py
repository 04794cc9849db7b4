"""Checking a PDF attachment before it is stored: `check_pdf` accepts it or says why not.

Cheap checks (size, header, end marker) run here; parsing runs in registry/pdf_check_worker.py, a
separate process with its own CPU, memory and file-size limits, killed after a wall-clock
timeout. A hostile file can then at worst waste one worker's seconds, never the web process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from registry.domain.errors import InvalidInput
from registry.i18n import N_

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_PAGES = 300  # the worker's limit, repeated for the message
WORKER_MODULE = "registry.pdf_check_worker"
WORKER_TIMEOUT_SECONDS = 15.0
# Each worker may use 768 MiB; two at once keeps a burst of uploads from exhausting memory.
_WORKERS = asyncio.Semaphore(2)
EOF_WINDOW = 1024

EMPTY = N_("The file is empty.")
TOO_LARGE = N_("The file is larger than %(limit)s MB.")
NOT_PDF = N_("Only PDF files are accepted: this file is not a PDF.")
TRUNCATED = N_("The PDF file is incomplete (it may have been cut off while uploading).")
ENCRYPTED = N_("The PDF is password-protected or encrypted. Upload an unprotected copy.")
JAVASCRIPT = N_(
    "The PDF contains JavaScript, which is not allowed. Print it to a new PDF and upload that."
)
LAUNCH = N_("The PDF contains a launch action (it can start programs), which is not allowed.")
EMBEDDED_FILE = N_(
    "The PDF contains embedded files, which are not allowed. Attach each document separately."
)
ACTIVE_CONTENT = N_("The PDF contains active content (forms or actions), which is not allowed.")
TOO_MANY_PAGES = N_("The PDF has more than %(limit)s pages.")
DAMAGED = N_("The PDF is damaged or too complex to read.")
TOO_SLOW = N_("The PDF took too long to read; it may be damaged.")

# The worker's reason codes; an unknown one is treated as damaged.
REFUSALS: dict[str, tuple[str, dict[str, object]]] = {
    "encrypted": (ENCRYPTED, {}),
    "javascript": (JAVASCRIPT, {}),
    "launch": (LAUNCH, {}),
    "embedded_file": (EMBEDDED_FILE, {}),
    "active_content": (ACTIVE_CONTENT, {}),
    "too_many_pages": (TOO_MANY_PAGES, {"limit": MAX_PAGES}),
    "damaged": (DAMAGED, {}),
}


@dataclass(frozen=True, slots=True)
class CheckedPdf:
    pages: int
    stripped: bytes  # the copy without author metadata, for blind reviewers


def _refused(message: str, **params: object) -> InvalidInput:
    return InvalidInput(message, field="file", **params)


async def check_pdf(path: Path) -> CheckedPdf:
    """Accept the PDF at path or raise InvalidInput saying what is wrong with it."""
    in_path = await asyncio.to_thread(_check_envelope, path)
    async with _WORKERS:
        with tempfile.TemporaryDirectory(prefix="registry-pdf-") as workdir:
            stripped_path = Path(workdir) / "stripped.pdf"
            verdict = await _run_worker(in_path, stripped_path, Path(workdir))
            pages = _pages_or_refusal(verdict)
            stripped = await asyncio.to_thread(stripped_path.read_bytes)
    return CheckedPdf(pages=pages, stripped=stripped)


def _check_envelope(path: Path) -> Path:
    """What can be told without parsing: size, the header and the end marker.

    Returns the absolute path, for the worker, which runs in a directory of its own.
    """
    size = path.stat().st_size
    if size == 0:
        raise _refused(EMPTY)
    if size > MAX_ATTACHMENT_BYTES:
        raise _refused(TOO_LARGE, limit=MAX_ATTACHMENT_BYTES // (1024 * 1024))
    with path.open("rb") as pdf_file:
        # At offset 0 exactly: viewers accept a header after junk, which is how a file can be
        # both a web page and a PDF (a polyglot).
        if pdf_file.read(5) != b"%PDF-":
            raise _refused(NOT_PDF)
        pdf_file.seek(max(0, size - EOF_WINDOW))
        if b"%%EOF" not in pdf_file.read(EOF_WINDOW):
            raise _refused(TRUNCATED)
    return path.resolve()


async def _run_worker(in_path: Path, out_path: Path, workdir: Path) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        WORKER_MODULE,
        str(in_path),
        str(out_path),
        cwd=workdir,
        env=_worker_environment(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(WORKER_TIMEOUT_SECONDS):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        log.warning("PDF worker killed after %ss on %s", WORKER_TIMEOUT_SECONDS, in_path.name)
        raise _refused(TOO_SLOW) from None
    finally:
        # Also on cancellation (the uploader went away): no worker outlives its request.
        if process.returncode is None:
            process.kill()
            await process.wait()
    return _verdict(process.returncode, stdout, stderr)


def _worker_environment() -> dict[str, str]:
    """The worker parses hostile input: it gets no secrets (DATABASE_URL, SMTP_URL...)."""
    keep = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}


def _verdict(returncode: int | None, stdout: bytes, stderr: bytes) -> dict[str, object]:
    """The worker's JSON line; a crash, a kill or garbage reads as "damaged"."""
    lines = stdout.strip().splitlines()
    if returncode == 0 and lines:
        try:
            verdict = json.loads(lines[-1])
        except ValueError:
            verdict = None
        if isinstance(verdict, dict) and isinstance(verdict.get("ok"), bool):
            return verdict
    log.warning(
        "PDF worker ended with status %s: %s",
        returncode,
        stderr[-500:].decode("utf-8", "replace"),
    )
    return {"ok": False, "reason": "damaged", "detail": f"worker exit status {returncode}"}


def _pages_or_refusal(verdict: dict[str, object]) -> int:
    pages = verdict.get("pages")
    if verdict["ok"] is True and isinstance(pages, int):
        return pages
    log.info("PDF refused: %s (%s)", verdict.get("reason"), verdict.get("detail"))
    message, params = REFUSALS.get(str(verdict.get("reason")), REFUSALS["damaged"])
    raise _refused(message, **params)

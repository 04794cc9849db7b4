"""Checks one uploaded PDF and writes a copy without author metadata, in a process of its own.

Run by services/attachments_check.py as `python -m registry.pdf_check_worker IN OUT`. Parsing
hostile files is the riskiest thing the registry does, so it happens here, under tight resource
limits, and a crash or a kill only costs this process. Standard library and pypdf only: the
worker must not need the database, the settings or any secret.

Prints one JSON line: {"ok": true, "pages": N} or {"ok": false, "reason": CODE, "detail": TEXT}
with CODE one of encrypted, javascript, launch, embedded_file, active_content, too_many_pages,
damaged; the exit status is 0 whenever a verdict was printed.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    PdfObject,
    StreamObject,
)

MiB = 1024 * 1024
MAX_PAGES = 300
# Indirect objects plus dictionaries and arrays walked; a long tagged thesis has ~100,000.
MAX_CONTAINERS = 300_000
# A compressed stream may expand this much (a 600 dpi A4 colour scan is ~100 MiB), all of them
# together this much; beyond that it is a decompression bomb aimed at reviewers' viewers.
MAX_INFLATED_STREAM = 128 * MiB
MAX_INFLATED_TOTAL = 1024 * MiB
INFLATE_CHUNK = MiB

LIMITS = {
    resource.RLIMIT_CPU: 10,  # seconds; SIGXCPU ends the process
    resource.RLIMIT_AS: 768 * MiB,
    resource.RLIMIT_FSIZE: 64 * MiB,  # the stripped copy; SIGXFSZ ends the process
    resource.RLIMIT_NOFILE: 32,
    resource.RLIMIT_CORE: 0,  # a killed worker must not leave a core dump of someone's file
}

# Names that make a PDF do things when opened or clicked, as dictionary keys or as the value of
# /S (action type), /Subtype (annotation type) or /Type. Reasons are listed most serious first.
REASON_PRIORITY = ("javascript", "launch", "embedded_file", "active_content")
ACTIVE_NAMES = {
    "/JavaScript": "javascript",
    "/JS": "javascript",
    "/Launch": "launch",
    "/EmbeddedFiles": "embedded_file",
    "/EmbeddedFile": "embedded_file",
    "/EF": "embedded_file",
    "/FileAttachment": "embedded_file",
    "/OpenAction": "active_content",
    "/AA": "active_content",
    "/XFA": "active_content",
    "/RichMedia": "active_content",
    "/SubmitForm": "active_content",
    "/GoToR": "active_content",
    "/GoToE": "active_content",
    "/ImportData": "active_content",
}
TYPE_KEYS = ("/S", "/Subtype", "/Type")
# Identifying details a blind reviewer must not see, wherever they hang (catalog, pages, images).
METADATA_KEYS = ("/Metadata", "/PieceInfo")


class Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def limit_resources() -> None:
    """Lower this process's limits; never raise one an administrator already set lower."""
    for kind, wanted in LIMITS.items():
        soft, hard = resource.getrlimit(kind)
        # For CPU a hard limit one second later turns an ignored SIGXCPU into SIGKILL.
        ceiling = wanted + 1 if kind == resource.RLIMIT_CPU else wanted
        resource.setrlimit(kind, (lowest(wanted, soft, hard), lowest(ceiling, hard)))


def lowest(*limits: int) -> int:
    return min(limit for limit in limits if limit != resource.RLIM_INFINITY)


def inspect(in_path: Path, out_path: Path) -> dict[str, object]:
    try:
        pages = check_and_strip(in_path, out_path)
    except Refused as refusal:
        return {"ok": False, "reason": refusal.reason, "detail": refusal.detail}
    except Exception as error:  # pypdf raises many kinds of error on broken input
        detail = f"{type(error).__name__}: {error}"[:200]
        return {"ok": False, "reason": "damaged", "detail": detail}
    return {"ok": True, "pages": pages}


def check_and_strip(in_path: Path, out_path: Path) -> int:
    # strict=False: many real files have small faults (wrong offsets, stray bytes) that every
    # viewer repairs; files pypdf cannot repair still fail below, as "damaged".
    with in_path.open("rb") as pdf_file:
        reader = PdfReader(pdf_file, strict=False)
        if reader.is_encrypted:
            raise Refused("encrypted", "the document is encrypted")
        pages = len(reader.pages)
        if pages == 0:
            raise Refused("damaged", "no pages")
        if pages > MAX_PAGES:
            raise Refused("too_many_pages", f"{pages} pages")
        reject_active_content(reader)
        write_stripped_copy(reader, out_path)
    check_copy(out_path, pages)
    return pages


# Walking the object graph --------------------------------------------------------------------


def containers(root: PdfObject) -> Iterator[DictionaryObject | ArrayObject]:
    """Every dictionary and array reachable from root, each indirect object once.

    Iterative (hostile nesting must not exhaust the Python stack), with a visited set (reference
    cycles are legal in PDF) and a cap (a file can be made of millions of tiny objects).
    """
    seen: set[tuple[int, int]] = set()
    stack: list[PdfObject] = [root]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            reference = (node.idnum, node.generation)
            if reference in seen:
                continue
            seen.add(reference)
            node = node.get_object()
        if not isinstance(node, DictionaryObject | ArrayObject):
            continue
        visited += 1
        if visited > MAX_CONTAINERS:
            raise Refused("damaged", f"more than {MAX_CONTAINERS} objects")
        yield node
        # Raw values, not resolved ones, so indirect references reach the visited set.
        stack.extend(dict.values(node) if isinstance(node, DictionaryObject) else list(node))


def reject_active_content(reader: PdfReader) -> None:
    found: dict[str, str] = {}
    inflated_total = 0
    for node in containers(reader.trailer.raw_get("/Root")):
        if isinstance(node, DictionaryObject):
            for reason, name in active_names(node):
                found.setdefault(reason, name)
        if isinstance(node, StreamObject):
            inflated_total += stream_inflated_size(node, MAX_INFLATED_TOTAL - inflated_total)
    for reason in REASON_PRIORITY:
        if reason in found:
            raise Refused(reason, f"{found[reason]} found")


def active_names(node: DictionaryObject) -> Iterator[tuple[str, str]]:
    for key, value in dict.items(node):
        if key in ACTIVE_NAMES and not is_harmless_open_action(key, value):
            yield ACTIVE_NAMES[key], key
        if key in TYPE_KEYS:
            kind = value.get_object()
            if isinstance(kind, NameObject) and kind in ACTIVE_NAMES:
                yield ACTIVE_NAMES[kind], f"{key} {kind}"


def is_harmless_open_action(key: str, value: PdfObject) -> bool:
    """Opening at a page (LaTeX's hyperref does it by default) runs nothing.

    An /OpenAction that is a destination array or a /GoTo action is allowed; anything it
    chains to (/Next) is still walked and checked like every other object.
    """
    if key != "/OpenAction":
        return False
    action = value.get_object()
    if isinstance(action, ArrayObject):
        return True
    return isinstance(action, DictionaryObject) and action.get("/S") == "/GoTo"


# Decompression bombs -------------------------------------------------------------------------


def stream_inflated_size(stream: StreamObject, budget: int) -> int:
    """Bytes the stream's leading Flate filters expand to; refuses past the limits.

    Counted a chunk at a time, so a bomb is never held in memory. Only Flate is measured: it is
    what bombs use and what every viewer decodes.
    """
    stages = leading_flate_filters(stream)
    if not stages:
        return 0
    limit = min(MAX_INFLATED_STREAM, budget)
    size = 0
    try:
        for chunk in inflate_stages([stream._data], stages):
            size += len(chunk)
            if size > limit:
                raise Refused("damaged", f"a compressed stream expands to over {limit // MiB} MiB")
    except zlib.error:
        pass  # a corrupt stream shows as garbage in a viewer; it is not a bomb
    return size


def leading_flate_filters(stream: StreamObject) -> int:
    filters = stream.get("/Filter", NullObject()).get_object()
    names = list(filters) if isinstance(filters, ArrayObject) else [filters]
    count = 0
    for name in names:
        if name != "/FlateDecode":
            break
        count += 1
    return count


def inflate_stages(chunks: Iterable[bytes], stages: int) -> Iterator[bytes]:
    for _ in range(stages):
        chunks = inflate(chunks)
    return iter(chunks)


def inflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    inflater = None
    for chunk in chunks:
        pending = chunk
        if inflater is None and pending:
            inflater = zlib.decompressobj(zlib_window_bits(pending))
        while pending and inflater is not None and not inflater.eof:
            out = inflater.decompress(pending, INFLATE_CHUNK)
            pending = inflater.unconsumed_tail
            if out:
                yield out


def zlib_window_bits(start: bytes) -> int:
    """PDF Flate data normally has a zlib header; some writers emit raw deflate."""
    has_header = len(start) >= 2 and start[0] & 0x0F == 8 and (start[0] << 8 | start[1]) % 31 == 0
    return zlib.MAX_WBITS if has_header else -zlib.MAX_WBITS


# The copy for blind reviewers ----------------------------------------------------------------


def write_stripped_copy(reader: PdfReader, out_path: Path) -> None:
    # Removed from the reader's objects before cloning, so the writer never copies them (it
    # would keep orphaned objects, author name included, in the output).
    for node in containers(reader.trailer.raw_get("/Root")):
        if isinstance(node, DictionaryObject):
            for key in METADATA_KEYS:
                node.pop(key, None)
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None  # drops /Info: Author, Creator, Producer, Title, Subject, Keywords...
    with out_path.open("wb") as out_file:
        writer.write(out_file)


def check_copy(out_path: Path, pages: int) -> None:
    with out_path.open("rb") as copy_file:
        copy_pages = len(PdfReader(copy_file, strict=False).pages)
    if copy_pages != pages:
        raise Refused("damaged", f"the stripped copy has {copy_pages} pages, not {pages}")


def main(argv: list[str]) -> int:
    in_path, out_path = (Path(arg) for arg in argv)
    limit_resources()
    # pypdf logs every quirk it repairs; the verdict is the only output the caller reads.
    logging.disable(logging.CRITICAL)
    sys.stdout.write(json.dumps(inspect(in_path, out_path)) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

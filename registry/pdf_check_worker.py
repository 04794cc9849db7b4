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

import base64
import binascii
import json
import logging
import resource
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
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

Decoder = Callable[[Iterable[bytes]], Iterator[bytes]]


def stream_inflated_size(stream: StreamObject, budget: int) -> int:
    """Bytes the stream's whole filter chain expands it to (its largest stage); refuses past
    the limits, and refuses chains it cannot measure.

    Each stage is decoded a chunk at a time and counted as it goes, so a bomb is never held in
    memory, however it is wrapped ([/ASCIIHexDecode /FlateDecode] hides a Flate bomb from a
    check of leading Flate filters only). Image codecs may only end a chain: they decode to
    pixels for the viewer, not to another stream.
    """
    stages = measured_stages(stream)
    if not stages:
        return 0
    limit = min(MAX_INFLATED_STREAM, budget)
    sizes = [0] * len(stages)
    chunks: Iterable[bytes] = [stream._data]
    for index, decode in enumerate(stages):
        chunks = counted(decode(chunks), sizes, index, limit)
    try:
        for _ in chunks:
            pass
    except (zlib.error, ValueError):
        pass  # corrupt data shows as garbage in a viewer; it is not a bomb
    return max(sizes)


def counted(chunks: Iterable[bytes], sizes: list[int], index: int, limit: int) -> Iterator[bytes]:
    for chunk in chunks:
        sizes[index] += len(chunk)
        if sizes[index] > limit:
            raise Refused("damaged", f"a compressed stream expands to over {limit // MiB} MiB")
        yield chunk


def measured_stages(stream: StreamObject) -> list[Decoder]:
    filters = stream.get("/Filter", NullObject()).get_object()
    names = list(filters) if isinstance(filters, ArrayObject) else [filters]
    names = [name for name in names if not isinstance(name, NullObject)]
    stages = []
    for position, name in enumerate(names):
        if name in DECODERS:
            stages.append(DECODERS[name])
        elif name in IMAGE_CODECS and position == len(names) - 1:
            break
        else:
            chain = " ".join(str(n) for n in names)[:120]
            raise Refused("damaged", f"a stream's filters cannot be checked: {chain}")
    return stages


def pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks cut to INFLATE_CHUNK at most (the raw stream comes as one)."""
    for chunk in chunks:
        for start in range(0, len(chunk), INFLATE_CHUNK):
            yield chunk[start : start + INFLATE_CHUNK]


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


_WHITESPACE = b" \t\n\r\f\x00"


def ascii_hex(chunks: Iterable[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in pieces(chunks):
        text, end, _ = chunk.partition(b">")
        digits = carry + text.translate(None, _WHITESPACE)
        even = len(digits) // 2 * 2
        carry = digits[even:]
        yield binascii.unhexlify(digits[:even])
        if end:
            break
    if carry:
        yield binascii.unhexlify(carry + b"0")


def ascii85(chunks: Iterable[bytes]) -> Iterator[bytes]:
    carry = b""
    for index, chunk in enumerate(pieces(chunks)):
        text, end, _ = chunk.partition(b"~>")
        text = text.translate(None, _WHITESPACE)
        if index == 0 and text.startswith(b"<~"):
            text = text[2:]
        # "z" stands for four zero bytes, "!!!!!": after that every group is five characters.
        text = carry + text.replace(b"z", b"!!!!!")
        whole = len(text) // 5 * 5
        carry = text[whole:]
        yield base64.a85decode(text[:whole])
        if end:
            break
    if carry:
        yield base64.a85decode(carry)


def run_length(chunks: Iterable[bytes]) -> Iterator[bytes]:
    data, out = bytearray(), bytearray()
    for chunk in pieces(chunks):
        data += chunk
        position = 0
        while position < len(data):
            length = data[position]
            if length == 128:  # end of data
                yield bytes(out)
                return
            size = length + 2 if length < 128 else 2
            if position + size > len(data):
                break
            if length < 128:
                out += data[position + 1 : position + size]
            else:
                out += data[position + 1 : position + 2] * (257 - length)
            position += size
            if len(out) >= INFLATE_CHUNK:
                yield bytes(out)
                out.clear()
        del data[:position]
    yield bytes(out)


_LZW_TABLE = [bytes([code]) for code in range(256)] + [b"", b""]  # 256 clear, 257 end


def lzw(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """LZW as PDF writes it (codes of 9 to 12 bits, widened one code early)."""
    table, width, buffer, bits, previous, out = list(_LZW_TABLE), 9, 0, 0, b"", bytearray()
    for chunk in pieces(chunks):
        for byte in chunk:
            buffer, bits = buffer << 8 | byte, bits + 8
            if bits < width:
                continue
            bits -= width
            code, buffer = buffer >> bits, buffer & ((1 << bits) - 1)
            if code == 256:
                table, width, previous = list(_LZW_TABLE), 9, b""
                continue
            if code == 257:
                yield bytes(out)
                return
            if code < len(table) and (previous or code < 256):
                entry = table[code]
            elif code == len(table) and previous:
                entry = previous + previous[:1]
            else:
                raise ValueError(f"LZW code {code} out of range")
            if previous and len(table) < 4096:
                table.append(previous + entry[:1])
            previous = entry
            out += entry
            if len(table) + 1 >= 1 << width and width < 12:
                width += 1
            if len(out) >= INFLATE_CHUNK:
                yield bytes(out)
                out.clear()
    yield bytes(out)


DECODERS: dict[str, Decoder] = {
    "/FlateDecode": inflate,
    "/Fl": inflate,
    "/ASCIIHexDecode": ascii_hex,
    "/AHx": ascii_hex,
    "/ASCII85Decode": ascii85,
    "/A85": ascii85,
    "/RunLengthDecode": run_length,
    "/RL": run_length,
    "/LZWDecode": lzw,
    "/LZW": lzw,
}
IMAGE_CODECS = frozenset(
    {"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}
)


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

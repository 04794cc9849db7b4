"""Uploaded PDFs: a corpus of bad files, built on the fly, each refused with the right message.

Each check runs the real worker process; no database is needed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import random
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf._codecs._codecs import LzwCodec
from pypdf.actions import JavaScript
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from registry.domain.errors import InvalidInput
from registry.services import attachments_check
from registry.services.attachments_check import MAX_ATTACHMENT_BYTES, check_pdf

pytestmark = pytest.mark.integration

AUTHOR = "Nguyễn Văn A"
XMP = f"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:creator><rdf:Seq><rdf:li>{AUTHOR}</rdf:li></rdf:Seq></dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>""".encode()


def name(text: str) -> NameObject:
    return NameObject(text)


def blank_writer(pages: int = 1) -> PdfWriter:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    return writer


def save(writer: PdfWriter, path: Path) -> Path:
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def raw_pdf(*objects: bytes) -> bytes:
    """A PDF written by hand (object 1 is the catalog), for what PdfWriter will not write."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def action(kind: str, **entries: object) -> DictionaryObject:
    result = DictionaryObject({name("/Type"): name("/Action"), name("/S"): name(kind)})
    result.update({name(f"/{key}"): value for key, value in entries.items()})
    return result


def link_to(writer: PdfWriter, link_action: DictionaryObject) -> PdfWriter:
    annotation = DictionaryObject(
        {
            name("/Type"): name("/Annot"),
            name("/Subtype"): name("/Link"),
            name("/Rect"): ArrayObject([NumberObject(n) for n in (50, 50, 200, 80)]),
            name("/A"): link_action,
        }
    )
    writer.add_annotation(0, annotation)
    return writer


async def refusal(path: Path) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        await check_pdf(path)
    assert caught.value.field == "file"
    return caught.value


# Refused before parsing -------------------------------------------------------------------------


async def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert (await refusal(path)).message == "The file is empty."


async def test_oversized_file_is_refused_without_starting_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_worker(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker was started")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", no_worker)
    path = tmp_path / "huge.pdf"
    with path.open("wb") as huge:
        huge.write(b"%PDF-1.7\n")
        huge.truncate(MAX_ATTACHMENT_BYTES + 1)  # sparse: instant, and no disk used
    error = await refusal(path)
    assert error.message == "The file is larger than %(limit)s MB."
    assert error.params == {"limit": 20}


@pytest.mark.parametrize(
    "start", [b"\x7fELF\x02\x01\x01\x00", b"MZ\x90\x00\x03\x00\x00\x00"], ids=["elf", "exe"]
)
async def test_program_renamed_to_pdf(tmp_path: Path, start: bytes) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(start + bytes(4000) + b"%%EOF\n")
    assert (await refusal(path)).message == attachments_check.NOT_PDF


async def test_html_pdf_polyglot(tmp_path: Path) -> None:
    pdf = save(blank_writer(), tmp_path / "real.pdf").read_bytes()
    path = tmp_path / "polyglot.pdf"
    path.write_bytes(b"<html><script>alert(1)</script><!--\n" + pdf)
    assert (await refusal(path)).message == attachments_check.NOT_PDF


async def test_truncated_upload(tmp_path: Path) -> None:
    pdf = save(blank_writer(2), tmp_path / "whole.pdf").read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(pdf[: len(pdf) - 100])
    assert (await refusal(path)).message == attachments_check.TRUNCATED


# Refused by the worker --------------------------------------------------------------------------


async def test_encrypted(tmp_path: Path) -> None:
    writer = blank_writer()
    writer.encrypt("pw")
    path = save(writer, tmp_path / "locked.pdf")
    assert (await refusal(path)).message == attachments_check.ENCRYPTED


def javascript_in_names_tree(writer: PdfWriter) -> None:
    writer.add_open_action(JavaScript("app.alert('hello');"))


def javascript_as_open_action(writer: PdfWriter) -> None:
    script = action("/JavaScript", JS=TextStringObject("app.launchURL('http://x.test');"))
    writer.root_object[name("/OpenAction")] = script


@pytest.mark.parametrize("add_script", [javascript_in_names_tree, javascript_as_open_action])
async def test_javascript(tmp_path: Path, add_script: Callable[[PdfWriter], None]) -> None:
    writer = blank_writer()
    add_script(writer)
    path = save(writer, tmp_path / "script.pdf")
    assert (await refusal(path)).message == attachments_check.JAVASCRIPT


async def test_javascript_behind_escaped_names(tmp_path: Path) -> None:
    # /J#61vaScript is /JavaScript to every reader; a byte search would miss it.
    path = tmp_path / "escaped.pdf"
    path.write_bytes(
        raw_pdf(
            b"<< /Type /Catalog /Pages 2 0 R"
            b" /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        )
    )
    assert (await refusal(path)).message == attachments_check.JAVASCRIPT


async def test_launch_action_in_a_link(tmp_path: Path) -> None:
    writer = link_to(blank_writer(), action("/Launch", F=TextStringObject("calc.exe")))
    path = save(writer, tmp_path / "launch.pdf")
    assert (await refusal(path)).message == attachments_check.LAUNCH


async def test_embedded_file(tmp_path: Path) -> None:
    writer = blank_writer()
    writer.add_attachment("payload.exe", b"MZ not really")
    path = save(writer, tmp_path / "attached.pdf")
    assert (await refusal(path)).message == attachments_check.EMBEDDED_FILE


async def test_submit_form_is_active_content(tmp_path: Path) -> None:
    submit = action("/SubmitForm", F=TextStringObject("http://collect.test/"))
    path = save(link_to(blank_writer(), submit), tmp_path / "form.pdf")
    assert (await refusal(path)).message == attachments_check.ACTIVE_CONTENT


async def test_too_many_pages(tmp_path: Path) -> None:
    path = save(blank_writer(301), tmp_path / "long.pdf")
    error = await refusal(path)
    assert error.message == "The PDF has more than %(limit)s pages."
    assert error.params == {"limit": 300}


async def test_flate_bomb_is_refused_quickly(tmp_path: Path) -> None:
    compressor = zlib.compressobj(9)
    megabyte = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(megabyte) for _ in range(150)) + compressor.flush()
    path = tmp_path / "bomb.pdf"
    path.write_bytes(
        raw_pdf(
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(bomb) + bomb + b"\nendstream",
        )
    )
    started = time.monotonic()
    assert (await refusal(path)).message == attachments_check.DAMAGED
    assert time.monotonic() - started < 10


def one_page_with_contents(stream_dictionary: bytes, data: bytes) -> bytes:
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d %s >>\nstream\n" % (len(data), stream_dictionary) + data + b"\nendstream",
    )


@pytest.mark.parametrize(
    ("filters", "encode"),
    [
        (b"[/ASCIIHexDecode /FlateDecode]", binascii.hexlify),
        (b"[/AHx /Fl]", binascii.hexlify),
        (b"[/ASCII85Decode /FlateDecode]", lambda data: base64.a85encode(data) + b"~>"),
        (
            b"[/FlateDecode /ASCIIHexDecode /FlateDecode]",
            lambda data: zlib.compress(binascii.hexlify(data)),
        ),
    ],
    ids=["hex-flate", "abbreviated", "a85-flate", "flate-hex-flate"],
)
async def test_a_flate_bomb_behind_other_filters_is_refused_quickly(
    tmp_path: Path, filters: bytes, encode: Callable[[bytes], bytes]
) -> None:
    """A few hundred KB that a viewer inflates to 200 MiB (a check of leading Flate filters
    only saw the ASCII stage and let it through)."""
    compressor = zlib.compressobj(9)
    megabyte = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(megabyte) for _ in range(200)) + compressor.flush()
    data = encode(bomb)
    assert len(data) < 600_000
    path = tmp_path / "chain-bomb.pdf"
    path.write_bytes(one_page_with_contents(b"/Filter " + filters, data))
    started = time.monotonic()
    assert (await refusal(path)).message == attachments_check.DAMAGED
    assert time.monotonic() - started < 10


async def test_a_filter_chain_the_check_cannot_measure_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "unknown-filter.pdf"
    data = zlib.compress(b"BT /F1 12 Tf 72 712 Td (Xin chao) Tj ET")
    path.write_bytes(one_page_with_contents(b"/Filter [/BrotliDecode /FlateDecode]", data))
    assert (await refusal(path)).message == attachments_check.DAMAGED


@pytest.mark.parametrize(
    ("filters", "encode"),
    [
        (b"[/ASCIIHexDecode /FlateDecode]", lambda data: binascii.hexlify(zlib.compress(data))),
        (b"/ASCII85Decode", lambda data: base64.a85encode(data) + b"~>"),
        (b"/LZWDecode", lambda data: LzwCodec().encode(data)),
        (b"/RunLengthDecode", lambda data: bytes([len(data) - 1]) + data + bytes([128])),
    ],
    ids=["hex-flate", "a85", "lzw", "run-length"],
)
async def test_ordinary_filter_chains_are_accepted(
    tmp_path: Path, filters: bytes, encode: Callable[[bytes], bytes]
) -> None:
    contents = b"BT /F1 12 Tf 72 712 Td (Xin chao) Tj ET " * 3
    path = tmp_path / "chained.pdf"
    path.write_bytes(one_page_with_contents(b"/Filter " + filters, encode(contents)))
    assert (await check_pdf(path)).pages == 1


async def test_garbage_body(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.7\n" + random.Random(57).randbytes(50_000) + b"\n%%EOF\n")
    assert (await refusal(path)).message == attachments_check.DAMAGED


async def test_worker_crash_reads_as_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachments_check, "WORKER_MODULE", "registry.services.no_such_module")
    path = save(blank_writer(), tmp_path / "fine.pdf")
    assert (await refusal(path)).message == attachments_check.DAMAGED


async def test_slow_worker_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Python cannot even start in 10 ms, so this exercises the timeout without a slow file.
    monkeypatch.setattr(attachments_check, "WORKER_TIMEOUT_SECONDS", 0.01)
    path = save(blank_writer(), tmp_path / "fine.pdf")
    assert (await refusal(path)).message == attachments_check.TOO_SLOW


# Accepted ---------------------------------------------------------------------------------------


async def test_valid_pdf_is_accepted_and_stripped_of_its_author(tmp_path: Path) -> None:
    writer = blank_writer(2)
    writer.add_metadata(
        {"/Author": AUTHOR, "/Creator": "Word", "/Title": "Đề xuất", "/Keywords": "bí mật"}
    )
    writer.xmp_metadata = XMP
    path = save(writer, tmp_path / "proposal.pdf")
    original = path.read_bytes()
    assert AUTHOR.encode() in original
    assert PdfReader(path).metadata.author == AUTHOR

    checked = await check_pdf(path)

    assert checked.pages == 2
    copy = PdfReader(io.BytesIO(checked.stripped))
    assert len(copy.pages) == 2
    assert copy.metadata is None
    assert "/Metadata" not in copy.root_object
    for encoding in ("utf-8", "utf-16-be"):
        assert AUTHOR.encode(encoding) not in checked.stripped
    for key in (b"/Author", b"/Creator", b"/Title", b"/Keywords", b"/Metadata", b"Nguy"):
        assert key not in checked.stripped


async def test_opening_at_a_page_is_not_active_content(tmp_path: Path) -> None:
    # LaTeX's hyperref writes /OpenAction [page /Fit] by default; that runs nothing.
    writer = blank_writer()
    page = writer.pages[0].indirect_reference
    writer.root_object[name("/OpenAction")] = ArrayObject([page, name("/Fit")])
    path = save(writer, tmp_path / "thesis.pdf")
    assert (await check_pdf(path)).pages == 1

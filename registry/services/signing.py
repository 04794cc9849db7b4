"""PAdES signatures on issued decision PDFs, and their validation (pyHanko).

A fund signs with its own certificate and key: a PKCS#12 file named by `SIGNING_PKCS12`
(`{fund}` in the path becomes the fund's code) opened with `SIGNING_PASSPHRASE`. A hardware
token (PKCS#11, pyHanko's `pkcs11` signer) is how production should hold the key; it is not
wired yet (docs/deployment.md). When no file is configured (`make run`, the tests), a local
test CA and one certificate per fund, with the fund's name as the organisation, are made on
first use under `<data dir>/signing/` (never in git), and /verify trusts that CA.

This is a service, not a document: it deals in keys, settings and bytes, never in templates,
and both the issuing service and the verify page use it.

The visible stamp (organisation name and signing time in ISO 8601 at +07:00, on the first
page: Decree 30's practice for electronic documents) is styled in one place, `STAMP`.
With `TSA_URL` set, an RFC 3161 timestamp from that authority is embedded (PAdES B-T).
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from registry.services import clock
from registry.settings import Settings, kept_file

#: Subsetting the stamp's font drops a table no PDF needs, and says so for every document.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
FIELD_NAME = "Signature1"
#: The stamp's font: Liberation Serif (Debian's fonts-liberation2) covers Vietnamese, as the
#: decision's own text does.
STAMP_FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
#: Where the stamp sits on the first page, in PDF points from the bottom left of A4
#: (595 x 842): the bottom right, clear of the signing block's text.
STAMP_BOX = (330, 36, 560, 96)
#: The stamp's text: the organisation, then the signing time (ISO 8601, +07:00). The time is
#: the application's clock (services.clock) read just before signing; the signature's own
#: signing-time attribute is pyHanko's reading of the system clock a moment later.
STAMP_TEXT = "%(organisation)s\n%(when)s"
#: Test certificates are valid over any date tests move the clock to (signatures carry the
#: real time, certificates made under a moved clock must still cover it).
TEST_VALID_FROM = datetime(2020, 1, 1, tzinfo=UTC)
TEST_VALID_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


@cache
def _font_bytes() -> bytes:
    return STAMP_FONT.read_bytes()


class _StampFont(GlyphAccumulatorFactory):
    """pyHanko's factory reads the font from memory here: its own opens the file for every
    document and never closes it."""

    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:  # type: ignore[no-untyped-def]
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer,
            font_handle=io.BytesIO(_font_bytes()),
            font_size=self.font_size,
            obj_stream=obj_stream,
        )


@cache
def _stamp() -> TextStampStyle:
    font = _StampFont(str(STAMP_FONT)) if STAMP_FONT.exists() else None
    box = TextBoxStyle(font=font, font_size=9) if font else TextBoxStyle(font_size=9)
    return TextStampStyle(stamp_text=STAMP_TEXT, text_box_style=box, border_width=1)


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who signs: a fund, by its id, code (for the key file's name) and name (organisation)."""

    fund_id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Validity:
    """What pyHanko says of a PDF's signature."""

    signed: bool
    #: Intact (the signed bytes are unchanged) and trusted (the certificate chains to a root
    #: this registry trusts) and covering the whole file.
    valid: bool
    #: The signing certificate's organisation, else its common name.
    signer: str = ""
    signed_at: datetime | None = None
    timestamped: bool = False


def iso_signing_time(at: datetime) -> str:
    """The signing time as the stamp shows it: ISO 8601 at +07:00, to the second."""
    return at.astimezone(VIETNAM).replace(microsecond=0).isoformat()


class _FastSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, keeping the key it loaded: SimpleSigner loads (and so checks)
    the RSA key on every signature, twice per PDF, 120 ms each (measured)."""

    _loaded: rsa.RSAPrivateKey | None = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        if self._loaded is None:
            key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            self._loaded = key
        return self._loaded.sign(
            data, padding.PKCS1v15(), getattr(hashes, digest_algorithm.upper())()
        )


#: Signers already loaded in this process, by key file and fund.
_SIGNERS: dict[tuple[str, int], signers.Signer] = {}


class Keys:
    """The signing keys of this installation, from settings or the local test CA."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = settings.data_dir / "signing"

    def signer(self, issuer: Issuer) -> signers.Signer:
        """The issuer's signer, loaded once per process."""
        key = (self.settings.signing_pkcs12 or str(self.folder.resolve()), issuer.fund_id)
        if key not in _SIGNERS:
            _SIGNERS[key] = self._load(issuer)
        return _SIGNERS[key]

    def _load(self, issuer: Issuer) -> signers.Signer:
        if self.settings.signing_pkcs12:
            path = self.settings.signing_pkcs12.replace("{fund}", issuer.code)
            passphrase = self.settings.signing_passphrase.encode() or None
            loaded = _FastSigner.load_pkcs12(path, passphrase=passphrase)
            if loaded is None:
                raise RuntimeError(f"cannot read the signing key in {path}")
            return loaded
        ca_cert, _ = self._test_ca()
        key, cert = self._test_fund(issuer)
        return _FastSigner(
            signing_cert=cert,
            signing_key=key,
            cert_registry=SimpleCertificateStore.from_certs([ca_cert]),
        )

    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """What /verify trusts: `SIGNING_TRUST_ROOTS` (PEM), else the local test CA."""
        if self.settings.signing_trust_roots:
            data = Path(self.settings.signing_trust_roots).read_bytes()
            return [_asn1_cert(c) for c in x509.load_pem_x509_certificates(data)]
        if self.settings.signing_pkcs12:
            return []
        return [self._test_ca()[0]]

    def _test_ca(self) -> tuple[asn1_x509.Certificate, rsa.RSAPrivateKey]:
        def make() -> bytes:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Registry test CA"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Registry local test CA"),
                ]
            )
            cert = _test_certificate(name, name, key.public_key(), key, ca=True)
            return _pem(key, cert)

        key, cert = _load_pem(kept_file(self.folder / "test-ca.pem", make, folder_mode=0o700))
        return _asn1_cert(cert), key

    def _test_fund(self, issuer: Issuer) -> tuple[asn1_keys.PrivateKeyInfo, asn1_x509.Certificate]:
        ca_cert, ca_key = self._test_ca()

        def make() -> bytes:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            subject = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer.name),
                    x509.NameAttribute(NameOID.COMMON_NAME, issuer.name[:64]),
                ]
            )
            ca_name = x509.load_der_x509_certificate(ca_cert.dump()).subject
            cert = _test_certificate(subject, ca_name, key.public_key(), ca_key, ca=False)
            return _pem(key, cert)

        key, cert = _load_pem(
            kept_file(self.folder / f"fund-{issuer.fund_id}.pem", make, folder_mode=0o700)
        )
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return asn1_keys.PrivateKeyInfo.load(der), _asn1_cert(cert)


def _test_certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    signing_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    """A certificate of the local test PKI: the CA's own (it signs certificates), or a
    fund's (it signs documents, with non-repudiation)."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(TEST_VALID_FROM)
        .not_valid_after(TEST_VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(signing_key, hashes.SHA256())
    )


def _pem(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)


def _load_pem(data: bytes) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = serialization.load_pem_private_key(data, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key, x509.load_pem_x509_certificate(data)


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _sign(pdf: bytes, signer: signers.Signer, organisation: str, at: datetime, tsa: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec(FIELD_NAME, on_page=0, box=STAMP_BOX))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        name=organisation,
        location="Việt Nam",
        reason="Quyết định / Decision",
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        stamp_style=_stamp(),
        timestamper=timestamps.HTTPTimeStamper(tsa) if tsa else None,
    )
    out = pdf_signer.sign_pdf(
        writer,
        appearance_text_params={"organisation": organisation, "when": iso_signing_time(at)},
    )
    return out.getvalue()


async def sign(settings: Settings, issuer: Issuer, pdf: bytes) -> bytes:
    """`pdf` signed (PAdES B-B, B-T with `TSA_URL`) by the issuer's certificate, with the
    visible stamp on page 1. CPU-bound (and the TSA a network call): runs in a thread."""
    at = clock.now()
    signer = await asyncio.to_thread(Keys(settings).signer, issuer)
    return await asyncio.to_thread(_sign, pdf, signer, issuer.name, at, settings.tsa_url)


def _validate(pdf: bytes, roots: list[asn1_x509.Certificate]) -> Validity:
    try:
        return _validate_parsed(pdf, roots)
    except Exception:
        return Validity(signed=False, valid=False)


def _validate_parsed(pdf: bytes, roots: list[asn1_x509.Certificate]) -> Validity:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return Validity(signed=False, valid=False)
    embedded = signatures[-1]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    status = validate_pdf_signature(embedded, context)
    subject = status.signing_cert.subject.native
    return Validity(
        signed=True,
        valid=bool(status.bottom_line) and status.coverage.name == "ENTIRE_FILE",
        signer=subject.get("organization_name") or subject.get("common_name") or "",
        signed_at=status.signer_reported_dt,
        timestamped=status.timestamp_validity is not None,
    )


async def validate(settings: Settings, pdf: bytes) -> Validity:
    """Whether `pdf`'s last signature is intact, trusted and covers the whole file, and whose
    it is. Only for PDFs this registry stored (verify compares SHA-256 first)."""
    roots = await asyncio.to_thread(Keys(settings).trust_roots)
    return await asyncio.to_thread(_validate, pdf, roots)

"""QR codes for TOTP enrolment, as data: URIs (allowed by the page's CSP; no script)."""

from __future__ import annotations

import segno


def qr_svg_data_uri(text: str) -> str:
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)

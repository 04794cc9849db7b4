"""QR codes printed on documents, as SVG data: URIs (the only URLs a document may load)."""

from __future__ import annotations

import segno


def qr_data_uri(text: str) -> str:
    # Error level M survives a crease or a stamp over a corner; no border: the layout spaces it.
    return segno.make(text, error="m").svg_data_uri(scale=4, border=0)

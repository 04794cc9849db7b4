"""Vietnamese text: NFC storage, search folding and alphabetical order.

Stored and shown text is NFC and never folded. Folding (case, tone and vowel marks, đ -> d) is
for matching only; PostgreSQL does the same through `registry_fold()` (unaccent) in SQL.
"""

from __future__ import annotations

import re
import unicodedata

from registry.domain.errors import InvalidInput

#: Vietnamese alphabet order (a ă â b c d đ e ê ... ư v x y) with the Latin letters that appear in
#: loan words and codes (f j w z) placed where the Latin alphabet has them.
ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {letter: index for index, letter in enumerate(ALPHABET)}
#: Tone marks, in dictionary order: none, huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
#: Primary weights start above digits and space so "5G" sorts before "an" and words before
#: longer words that begin with them.
_FIRST_LETTER_CODE = 0x41


def nfc(text: str) -> str:
    """Precomposed form: what every input is turned into before it is stored or compared."""
    return unicodedata.normalize("NFC", text)


#: Bidirectional controls (embeddings, overrides, isolates, marks): invisible, and they make
#: `hoa-don\u202efdp.exe` show as `hoa-donexe.pdf`. Vietnamese never needs them.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
)


def clean(text: str) -> str:
    """NFC without bidirectional controls, runs of whitespace collapsed, the ends trimmed."""
    return " ".join(nfc(text).translate(_BIDI_CONTROLS).split())


def whole_number(text: str, *, low: int, high: int) -> int | None:
    """`text` (ASCII digits only) as a number within [low, high], else None.

    The length is checked before int(): Python refuses to convert more than 4,300 digits
    (ValueError), and a number that long is out of range anyway.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(high)):
        return None
    number = int(significant)
    return number if low <= number <= high else None


def clean_limited(text: str, *, field: str, limit: int) -> str:
    """`clean(text)`, refused (never cut) when longer than `limit` characters."""
    cleaned = clean(text)
    if len(cleaned) > limit:
        raise InvalidInput("Use at most %(count)s characters.", field=field, count=limit)
    return cleaned


#: The Unicode blocks of combining marks (Vietnamese tone and vowel marks are in the first).
_COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower case without tone or vowel marks, đ as d: `Trí Tuệ` -> `tri tue`.

    Mirrors what `registry_fold()` does in SQL; used for matching and highlighting only.
    """
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return _COMBINING_MARKS.sub("", decomposed)


def _split_tone(char: str) -> tuple[str, int]:
    """A lower-case letter without its tone mark (keeping ă â ê ô ơ ư), and the tone's rank."""
    decomposed = unicodedata.normalize("NFD", char)
    tone = 0
    kept = []
    for part in decomposed:
        if part in _TONES:
            tone = _TONES[part]
        else:
            kept.append(part)
    return unicodedata.normalize("NFC", "".join(kept)), tone


def collation_key(text: str) -> str:
    """A string whose plain code-point order (COLLATE "C") is Vietnamese dictionary order.

    Letters compare first by base letter in the Vietnamese alphabet (a < ă < â < b ... d < đ),
    then by tone (secondary), then lower case before upper case (tertiary). Digits and spaces
    take part in the first level; other punctuation is ignored there. We build the key ourselves
    because the embedded PostgreSQL has no ICU collations.
    """
    primary: list[str] = []
    secondary: list[str] = []
    tertiary: list[str] = []
    for char in nfc(text):
        lower = char.lower()
        base, tone = _split_tone(lower)
        rank = _LETTER_RANK.get(base)
        if rank is not None:
            primary.append(chr(_FIRST_LETTER_CODE + rank))
            secondary.append(str(tone))
            tertiary.append("1" if char != lower else "0")
        elif char.isdigit() and char.isascii():
            primary.append(char)
        elif char.isspace():
            if primary and primary[-1] != " ":
                primary.append(" ")
        elif char.isalpha():
            # Letters outside Vietnamese (rare): after every Vietnamese letter, by code point.
            primary.append(chr(0x80 + min(ord(lower), 0xFFFF - 0x80)))
    return "".join(primary).rstrip() + "\x01" + "".join(secondary) + "\x01" + "".join(tertiary)


def given_name_key(full_name: str) -> str:
    """Collation key for a Vietnamese personal name: given name (last word) first."""
    words = clean(full_name).split(" ")
    return collation_key(" ".join([words[-1], *words[:-1]]))

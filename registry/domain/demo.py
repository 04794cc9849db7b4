"""Realistic, clearly fictional demo projects, generated from fixtures/demo_vocabulary.json.

Pure and deterministic for a given seed, so the same command builds the same data set.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry.domain.text import collation_key, nfc

#: Typical grant sizes in whole đồng by fund kind: (smallest, largest), rounded to 10 million.
AMOUNT_RANGES = {
    "grant": (300_000_000, 8_000_000_000),
    "loan": (1_000_000_000, 50_000_000_000),
    "investment": (5_000_000_000, 200_000_000_000),
}
_ROUNDING = 10_000_000


@dataclass(frozen=True, slots=True)
class DemoProject:
    code: str
    title_vi: str
    title_en: str
    abstract_vi: str
    abstract_en: str
    organisation_code: str
    fund_code: str
    amount_vnd: int
    starts_on: dt.date
    ends_on: dt.date
    province: str
    sort_key: str
    technology_slugs: tuple[str, ...]


def _fill(pattern: Mapping[str, str], language: str, **values: Mapping[str, str] | str) -> str:
    parts = {k: v if isinstance(v, str) else v[language] for k, v in values.items()}
    return nfc(pattern[language].format(**parts))


def generate(
    count: int,
    vocabulary: Mapping[str, Any],
    funds: Sequence[tuple[str, str]],
    *,
    seed: int = 57,
    first_number: int = 1,
) -> Iterator[DemoProject]:
    """Yield `count` projects; `funds` are (code, kind) pairs of the funds to spread them over."""
    rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not secrets)
    topics: Mapping[str, Sequence[Mapping[str, str]]] = vocabulary["topics"]
    slugs = sorted(topics)
    organisations = vocabulary["organisations"]
    patterns = vocabulary["title_patterns"]
    sectors = vocabulary["sectors"]
    sentences = vocabulary["abstract_sentences"]
    # Real abstracts are full of common words whose folded forms collide (đất/đạt/đặt, đa/đà/đã,
    # năng/nắng/nẵng, hòa/hóa/hoa): without them a benchmark of unaccented or broad queries
    # measures text no user writes.
    everyday = vocabulary.get("everyday_sentences", ())
    tails = vocabulary.get("title_tails", ())
    first_start = dt.date(2019, 1, 1).toordinal()
    last_start = dt.date(2026, 10, 1).toordinal()
    for number in range(first_number, first_number + count):
        main = rng.choice(slugs)
        others = rng.sample(slugs, k=rng.choice((0, 0, 1, 1, 2)))
        technology_slugs = tuple(dict.fromkeys([main, *others]))
        topic = rng.choice(topics[main])
        sector = rng.choice(sectors)
        organisation = rng.choice(organisations)
        pattern = rng.choice(patterns)
        fund_code, fund_kind = rng.choice(funds)
        low, high = AMOUNT_RANGES.get(fund_kind, AMOUNT_RANGES["grant"])
        amount = rng.randint(low // _ROUNDING, high // _ROUNDING) * _ROUNDING
        starts_on = dt.date.fromordinal(rng.randint(first_start, last_start))
        ends_on = starts_on + dt.timedelta(days=rng.choice((365, 548, 730, 1095, 1461)))
        chosen = rng.sample(sentences, k=3)
        if everyday:
            chosen += rng.sample(everyday, k=rng.choice((0, 0, 1, 1, 2)))
            rng.shuffle(chosen)
        values = {"topic": topic, "sector": sector, "province": organisation["province"]}
        title_vi = _fill(pattern, "vi", **values)
        title_en = _fill(pattern, "en", **values)
        if tails and rng.random() < 0.3:
            tail = rng.choice(tails)
            title_vi, title_en = title_vi + tail["vi"], title_en + tail["en"]
        yield DemoProject(
            code=f"DEMO-{number:07d}",
            title_vi=title_vi[0].upper() + title_vi[1:],
            title_en=title_en,
            abstract_vi=" ".join(_fill(s, "vi", **values) for s in chosen),
            abstract_en=" ".join(_fill(s, "en", **values) for s in chosen),
            organisation_code=organisation["code"],
            fund_code=fund_code,
            amount_vnd=amount,
            starts_on=starts_on,
            ends_on=ends_on,
            province=organisation["province"],
            sort_key=collation_key(title_vi),
            technology_slugs=technology_slugs,
        )

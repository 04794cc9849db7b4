"""Parts of a results page built outside its templates: the facet panel, rendered once per
language, selection and kept counts (web.templating.FacetPanels), always the one of the
reader's page; and the line under each hit."""

import dataclasses
import datetime as dt

import pytest

from registry.domain.catalogue import Kind, Localized
from registry.domain.search import FacetValue, Filters, Hit, Results
from registry.i18n import speaking
from registry.web.templating import build_environment, hit_meta

pytestmark = pytest.mark.unit


def results(provinces: tuple[FacetValue, ...], **changes: object) -> Results:
    fields: dict[str, object] = {
        "query": "đất hiếm",
        "filters": Filters(),
        "hits": (),
        "total": 7,
        "is_estimate": False,
        "facets": {"province": provinces},
        "next_cursor": None,
        "terms": frozenset(),
    }
    return Results(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_panel_is_rendered_once_for_the_same_counts_and_never_shown_for_others():
    panel = build_environment().globals["facet_panel"]
    kept = (FacetValue("Hà Nội", Localized("Hà Nội"), 5), FacetValue("Huế", Localized("Huế"), 2))

    with speaking("vi"):
        first = panel(results(kept), "/search")
        again = panel(results(kept), "/search")
        chosen = panel(results(kept, filters=Filters(province="Huế")), "/search")
        recounted = panel(
            results((FacetValue("Hà Nội", Localized("Hà Nội"), 6), *kept[1:])), "/search"
        )
        estimated = panel(results(kept, is_estimate=True), "/search")
    with speaking("en"):
        english = panel(results(kept), "/search")

    assert again is first  # the same counts' panel, not rendered again
    assert "<h2>Tỉnh/thành phố</h2>" in first
    assert "<h2>Province</h2>" in english
    # Chosen: its own links (Huế unticked by its link, Hà Nội added to it), not the first's.
    assert 'aria-current="true"' in chosen
    assert 'aria-current="true"' not in first
    assert "province=Hu%E1%BA%BF&amp;province=H%C3%A0+N%E1%BB%99i" in chosen
    assert "province=Hu%E1%BA%BF&amp;" not in first
    assert '<span class="count">6</span>' in recounted
    assert '<span class="count">6</span>' not in first
    assert "≈" in estimated
    assert "≈" not in first


def test_the_line_under_a_hit_names_the_parts_it_has_once_each():
    hit = Hit(
        kind=Kind.PROJECT, id=1, title=Localized("Dự án"), summary=None, province="Cần Thơ",
        year=2026, amount_vnd=1_020_000_000, is_demo=False, is_exact=False,
        organisation=Localized("Viện Hàn lâm", "Academy"), starts_on=dt.date(2026, 1, 2),
    )  # fmt: skip
    without_province = dataclasses.replace(hit, province=None)
    fund = Hit(Kind.FUND, 2, Localized("Quỹ"), None, None, 2025, None, False, False)

    with speaking("vi"):
        assert hit_meta(hit) == "Viện Hàn lâm · Cần Thơ · từ 02/01/2026 · 1.020.000.000 ₫"
        assert hit_meta(without_province) == "Viện Hàn lâm · từ 02/01/2026 · 1.020.000.000 ₫"
        assert hit_meta(fund) == "2025"
    with speaking("en"):
        assert hit_meta(hit).startswith("Academy · Cần Thơ · from 2 Jan 2026 · ")

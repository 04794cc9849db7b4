"""Loading reference data and reading the catalogue, against the real database."""

import copy
import json
import unicodedata
from pathlib import Path

import pytest

from registry import database
from registry.domain.errors import InvalidReferenceData, NotFound
from registry.domain.text import collation_key
from registry.services import catalogue, reference

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]
REFERENCE = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "reference.json").read_text()
)
TABLES = (
    "technology",
    "technology_list",
    "technology_listing",
    "technology_product",
    "organisation",
    "laboratory",
    "laboratory_technology",
    "exchange",
    "fund",
    "zone",
    "search_entry",
)


async def _snapshot() -> dict[str, list[str]]:
    """Every row of every reference table, as text, in id order."""
    snapshot = {}
    for table in TABLES:
        rows = await database.fetch(f"SELECT t::text AS row FROM {table} t ORDER BY id")
        snapshot[table] = [r["row"] for r in rows]
    return snapshot


async def test_loading_the_reference_data_twice_changes_nothing():
    before = await _snapshot()

    report = await reference.load_reference(REFERENCE)

    assert await _snapshot() == before
    assert report.counts["technology_lists"] == len(REFERENCE["technology_lists"])


async def test_a_bad_identifier_stops_the_load_and_leaves_everything_as_it_was():
    before = await _snapshot()
    broken = copy.deepcopy(REFERENCE)
    broken["technologies"][0]["name_vi"] = "Tên đã đổi nhưng không được lưu"
    broken["organisations"][-1]["ror_id"] = "05dxps056"  # wrong check digits

    with pytest.raises(InvalidReferenceData):
        await reference.load_reference(broken)

    assert await _snapshot() == before


async def test_an_unknown_reference_is_named_in_the_error():
    broken = copy.deepcopy(REFERENCE)
    broken["laboratories"][0]["technologies"] = ["no-such-technology"]

    with pytest.raises(InvalidReferenceData) as error:
        await reference.load_reference(broken)

    assert error.value.params["code"] == "no-such-technology"


async def test_reference_text_is_stored_nfc():
    rows = await database.fetch(
        "SELECT name_vi FROM technology UNION ALL SELECT name_vi FROM laboratory "
        "UNION ALL SELECT name_vi FROM organisation"
    )
    assert rows
    assert all(unicodedata.is_normalized("NFC", r["name_vi"]) for r in rows)


async def test_technologies_keep_their_history_across_list_versions():
    technologies = await catalogue.list_technologies()
    histories = [await catalogue.get_technology(t.id) for t in technologies]
    spanning = [t for t in histories if len(t.history) >= 2]

    assert spanning
    decisions = [listing.technology_list.decision_number for listing in spanning[0].history]
    assert decisions == ["1131/QĐ-TTg", "21/2026/QĐ-TTg"]


async def test_lists_come_in_vietnamese_alphabetical_order():
    for items in (
        await catalogue.list_technologies(),
        await catalogue.list_laboratories(),
        await catalogue.list_funds(),
    ):
        names = [item.name.vi for item in items]
        assert names == sorted(names, key=collation_key)


async def test_unverified_items_carry_their_note():
    labs = await catalogue.list_laboratories()
    assert any(lab.note for lab in labs)
    confirmed = [lab for lab in labs if "gen" in lab.name.vi.lower()]
    assert confirmed
    assert confirmed[0].note is None


async def test_funded_totals_match_the_projects():
    overview = await catalogue.overview()
    total = await database.fetchval("SELECT sum(amount_vnd) FROM project")
    count = await database.fetchval("SELECT count(*) FROM project")

    assert overview.funded_total == total
    assert overview.counts["project"] == count
    funds = await catalogue.list_funds()
    assert sum(f.funded_total for f in funds) == total


async def test_unknown_or_impossible_ids_are_not_found():
    with pytest.raises(NotFound):
        await catalogue.get_project(2_000_000_000)
    with pytest.raises(NotFound):
        await catalogue.get_technology(0)

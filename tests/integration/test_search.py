"""Search against the real database: Vietnamese folding, phrases, ranking, facets, paging."""

import unicodedata

import pytest

from registry import database
from registry.domain.catalogue import Kind
from registry.domain.errors import InvalidInput
from registry.domain.search import Filters
from registry.services import search

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]
CAP = 5000


async def _ids(query: str, filters: Filters | None = None) -> list[tuple[str, int]]:
    filters = filters or Filters()
    results = await search.search(query, filters, candidate_cap=CAP, page_size=1000)
    return [(hit.kind, hit.id) for hit in results.hits]


async def test_queries_with_or_without_diacritics_or_case_find_the_same_items():
    plain = await _ids("tri tue nhan tao")
    assert plain
    assert await _ids("TRÍ TUỆ NHÂN TẠO") == plain
    assert sorted(await _ids("trí tuệ nhân tạo")) == sorted(plain)


async def test_a_query_typed_in_nfd_finds_what_nfc_finds():
    nfc = await _ids("đất hiếm")
    assert nfc
    assert await _ids(unicodedata.normalize("NFD", "đất hiếm")) == nfc


async def test_d_stroke_folds_to_d():
    results = await search.search("dat hiem", Filters(), candidate_cap=CAP)
    assert results.total > 0
    assert any("đất hiếm" in hit.title.vi.lower() for hit in results.hits)


async def test_quoted_words_match_as_a_phrase():
    phrase = await _ids('"dữ liệu lớn"', Filters(kind=Kind.PROJECT))
    loose = await _ids("lớn dữ liệu", Filters(kind=Kind.PROJECT))
    # Independently: the folded words in that order anywhere in what is searched of a project.
    rows = await database.fetch(
        r"""SELECT p.id FROM project p JOIN organisation o ON o.id = p.organisation
            WHERE registry_fold(concat_ws(' ', p.title_vi, p.title_en, p.abstract_vi,
                                          p.abstract_en, o.name_vi, o.name_en, p.province))
                  ~ '\mdu\W+lieu\W+lon\M'"""
    )

    assert {object_id for _, object_id in phrase} == {row["id"] for row in rows}
    assert set(phrase) < set(loose)  # without quotes the words may stand anywhere


async def test_exact_diacritic_matches_rank_above_folded_ones():
    # "hóa" (chemistry) and "hòa" fold alike; the query spelled "hòa" ranks "hòa" items first.
    results = await search.search("hòa lạc", Filters(), candidate_cap=CAP, page_size=50)
    assert results.hits
    assert results.hits[0].is_exact
    exact_flags = [hit.is_exact for hit in results.hits]
    assert exact_flags == sorted(exact_flags, reverse=True)


async def test_adjacent_syllables_rank_above_scattered_ones():
    phrase = set(await _ids('"dat hiem"'))
    ranked = await _ids("dat hiem")

    assert phrase
    assert set(ranked) > phrase  # some items hold both syllables apart ("lòng đất", "bảo hiểm")
    assert set(ranked[: len(phrase)]) == phrase


async def test_results_are_highlighted_with_folded_terms():
    results = await search.search("dat hiem", Filters(), candidate_cap=CAP)
    assert results.terms == frozenset({"dat", "hiem"})


async def test_a_typo_gets_a_suggestion_when_nothing_matches():
    results = await search.search("blockchian", Filters(), candidate_cap=CAP)
    assert results.total == 0
    assert results.suggestion == "blockchain"
    corrected = await search.search(results.suggestion, Filters(), candidate_cap=CAP)
    assert corrected.total > 0


async def test_facets_count_the_matches_and_filters_narrow_them():
    everything = await search.search("nghiên cứu", Filters(), candidate_cap=CAP)
    kinds = {facet.value: facet.count for facet in everything.facets["kind"]}
    assert sum(kinds.values()) == everything.total
    projects = await search.search("nghiên cứu", Filters(kind=Kind.PROJECT), candidate_cap=CAP)
    assert projects.total == kinds["project"]
    province = everything.facets["province"][0]
    narrowed = await search.search(
        "nghiên cứu", Filters(province=province.value), candidate_cap=CAP
    )
    assert narrowed.total == province.count
    assert all(hit.province == province.value for hit in narrowed.hits)


async def test_technology_and_year_filters_browse_without_a_query():
    everything = await search.search("", Filters(kind=Kind.PROJECT), candidate_cap=CAP)
    year = everything.facets["year"][0]
    by_year = await search.search(
        "", Filters(kind=Kind.PROJECT, year=int(year.value)), candidate_cap=CAP
    )
    assert by_year.total == year.count
    technology = everything.facets["technology"][0]
    by_technology = await search.search(
        "", Filters(technology=int(technology.value), kind=Kind.PROJECT), candidate_cap=CAP
    )
    assert by_technology.total == technology.count


async def test_cursor_pages_cover_every_match_once():
    first = await search.search("nghiên cứu", Filters(), candidate_cap=CAP, page_size=1000)
    seen: list[tuple[str, int]] = []
    cursor = None
    for _ in range(first.total // 37 + 2):  # bounded: a cursor that repeats must not hang
        page = await search.search(
            "nghiên cứu", Filters(), cursor=cursor, candidate_cap=CAP, page_size=37
        )
        seen.extend((hit.kind, hit.id) for hit in page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert cursor is None
    assert len(seen) == len(set(seen)) == first.total
    assert seen == [(hit.kind, hit.id) for hit in first.hits]


@pytest.mark.parametrize(
    ("query", "sort"),
    [("năng lượng tái tạo", "relevance"), ("nghiên cứu", "newest"), ("hà nội", "amount"),
     ("", "newest"), ("", "amount")],
)  # fmt: skip
async def test_previous_links_give_back_every_page_across_tiers_and_orders(query, sort):
    """Forward to the last page by next_cursor, then back by previous_cursor: the same pages,
    at the same offsets, whatever the order (several words: several tiers of rank)."""
    filters = Filters(province=("Hà Nội", "Đà Nẵng")) if not query else Filters()
    every = await search.search(query, filters, sort=sort, candidate_cap=CAP, page_size=5000)
    assert every.next_cursor is None

    forward = [await search.search(query, filters, sort=sort, candidate_cap=CAP, page_size=11)]
    while forward[-1].next_cursor and len(forward) < 12:
        forward.append(
            await search.search(
                query, filters, sort=sort, cursor=forward[-1].next_cursor, candidate_cap=CAP,
                page_size=11,
            )
        )  # fmt: skip
    assert len(forward) > 2
    assert [hit for page in forward for hit in page.hits] == list(every.hits[: 11 * len(forward)])
    assert [page.offset for page in forward] == [11 * n for n in range(len(forward))]
    assert forward[0].previous_cursor is None

    back = [forward[-1]]
    while back[-1].previous_cursor:
        back.append(
            await search.search(
                query, filters, sort=sort, cursor=back[-1].previous_cursor, candidate_cap=CAP,
                page_size=11,
            )
        )  # fmt: skip
    back.reverse()
    assert [page.hits for page in back] == [page.hits for page in forward]
    assert [page.offset for page in back] == [page.offset for page in forward]
    assert [page.next_cursor is None for page in back] == [
        page.next_cursor is None for page in forward
    ]


async def test_sorts_order_every_match_by_their_key():
    by_year = await search.search("nghiên cứu", Filters(), sort="newest", candidate_cap=CAP,
                                  page_size=5000)  # fmt: skip
    years = [hit.year if hit.year is not None else -1 for hit in by_year.hits]
    assert years == sorted(years, reverse=True)
    assert years[-1] == -1  # items without a year (technologies) come last
    by_amount = await search.search("nghiên cứu", Filters(), sort="amount", candidate_cap=CAP,
                                    page_size=5000)  # fmt: skip
    amounts = [hit.amount_vnd if hit.amount_vnd is not None else -1 for hit in by_amount.hits]
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[-1] == -1
    assert sorted(by_year.hits, key=lambda h: (h.kind, h.id)) == sorted(
        by_amount.hits, key=lambda h: (h.kind, h.id)
    )


async def test_a_cursor_of_another_order_is_refused():
    page = await search.search("nghiên cứu", Filters(), sort="amount", candidate_cap=CAP)
    assert page.next_cursor
    with pytest.raises(InvalidInput) as error:
        await search.search("nghiên cứu", Filters(), cursor=page.next_cursor, candidate_cap=CAP)
    assert error.value.field == "cursor"


async def test_matches_are_all_counted_when_the_sample_is_small():
    # Broad queries are estimated from a sample (test_search_ranking); a few thousand are exact.
    results = await search.search("", Filters(kind=Kind.PROJECT), candidate_cap=100)
    assert not results.is_estimate
    assert results.total == await database.fetchval(
        "SELECT count(*) FROM search_entry WHERE kind = 'project'"
    )
    assert sum(f.count for f in results.facets["kind"]) == results.total


async def test_a_damaged_cursor_is_refused_with_a_message():
    with pytest.raises(InvalidInput) as error:
        await search.search("ai", Filters(), cursor="not-a-cursor", candidate_cap=CAP)
    assert error.value.field == "cursor"


async def test_nothing_and_no_filters_finds_nothing_without_touching_the_table():
    results = await search.search("", Filters(), candidate_cap=CAP)
    assert results.total == 0
    assert results.hits == ()


async def test_a_word_no_entry_holds_any_more_is_never_suggested():
    await database.fetch("INSERT INTO search_term (term, documents) VALUES ('zzvanished', 3)")

    await search.refresh_derived()

    assert (
        await database.fetchval("SELECT count(*) FROM search_term WHERE term = 'zzvanished'") == 0
    )
    assert await database.fetchval("SELECT count(*) FROM search_term") > 0


async def test_entries_a_migration_left_without_tokens_are_found_again_after_migrating():
    before = await _ids("đất hiếm")
    await database.execute("UPDATE search_entry SET terms = NULL WHERE kind = 'project'")
    assert await _ids("đất hiếm") == [hit for hit in before if hit[0] is not Kind.PROJECT]

    indexed = await search.index_missing()

    assert indexed == await database.fetchval(
        "SELECT count(*) FROM search_entry WHERE kind = 'project'"
    )
    assert await _ids("đất hiếm") == before
    assert await search.index_missing() == 0


async def test_a_bulk_load_builds_every_search_index_again_at_the_end():
    """Bulk loads drop the GIN indexes, write, and build them all again (two at once)."""

    async def gin_indexes() -> set[str]:
        rows = await database.fetch(
            """SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_am a ON a.oid = c.relam
               WHERE i.indrelid = 'search_entry'::regclass AND a.amname = 'gin'
                 AND i.indisvalid"""
        )
        return {row["relname"] for row in rows}

    before = await _ids("đất hiếm")
    assert await gin_indexes() == set(search.GIN_INDEXES)

    async with search.indexes_built_after():
        assert await gin_indexes() == set()
        await database.execute("UPDATE search_entry SET terms = NULL WHERE kind = 'project'")
        await search.reindex([Kind.PROJECT])
        assert await _ids("đất hiếm") == before  # found meanwhile, reading the whole table

    assert await gin_indexes() == set(search.GIN_INDEXES)
    assert await _ids("đất hiếm") == before

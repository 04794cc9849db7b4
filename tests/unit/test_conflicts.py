"""Conflicts of interest: who may never review a proposal, and why."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.domain.conflicts import (
    Collaboration,
    History,
    Person,
    ProposalFacts,
    Reason,
    ReviewerFacts,
    conflicted_pairs,
    conflicts,
)

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 3, 5)
AN = "0000-0002-1825-0097"
BINH = "0000-0001-5109-3700"
APPLICANT_ORG = 10
OTHER_ORG = 20

PROPOSAL = ProposalFacts(
    proposal=1,
    organisation=APPLICANT_ORG,
    people=(Person("Trần Thị Bình", BINH), Person("Lê Văn Cường")),
)


NO_HISTORY = History()


def reasons(reviewer, proposal=PROPOSAL, history=NO_HISTORY, today=TODAY):
    return [c.reason for c in conflicts(reviewer, proposal, history, today)]


def test_an_unrelated_reviewer_has_no_conflict():
    assert reasons(ReviewerFacts(7, "Phạm Minh Đức", AN, OTHER_ORG)) == []


def test_working_for_the_applicant_organisation_is_a_conflict():
    found = conflicts(
        ReviewerFacts(7, "Phạm Minh Đức", "", APPLICANT_ORG), PROPOSAL, History(), TODAY
    )
    assert [c.reason for c in found] == [Reason.SAME_ORGANISATION]
    assert "works for the applicant organisation" in found[0].message


def test_an_applicant_of_the_organisation_works_for_it_too():
    reviewer = ReviewerFacts(
        7, "Phạm Minh Đức", "", OTHER_ORG, member_of=frozenset({APPLICANT_ORG})
    )
    assert reasons(reviewer) == [Reason.SAME_ORGANISATION]


def test_being_on_the_team_is_found_by_orcid_whatever_the_spelling():
    reviewer = ReviewerFacts(7, "T. T. Binh", BINH.lower(), OTHER_ORG)
    found = conflicts(reviewer, PROPOSAL, History(), TODAY)
    assert [c.reason for c in found] == [Reason.ON_THE_TEAM]
    assert found[0].params == {"name": "Trần Thị Bình"}
    assert "same ORCID" in found[0].message


def test_two_different_orcids_are_two_people_even_with_one_name():
    assert reasons(ReviewerFacts(7, "Trần Thị Bình", AN, OTHER_ORG)) == []


@pytest.mark.parametrize(
    "name",
    ["Lê Văn Cường", "LE VAN  CUONG", "le van cuong", unicodedata.normalize("NFD", "Lê Văn Cường")],
)
def test_without_orcid_the_folded_name_decides(name):
    assert reasons(ReviewerFacts(7, name, AN, OTHER_ORG)) == [Reason.ON_THE_TEAM]


def test_a_blank_name_matches_nobody():
    proposal = ProposalFacts(1, APPLICANT_ORG, (Person(""),))
    assert reasons(ReviewerFacts(7, "", "", OTHER_ORG), proposal) == []


def past(on, *, organisation=None, people=(), accounts=frozenset(), proposal=None):
    return Collaboration(
        organisation, tuple(people), on, "QPTKHCN-2024-000012-V1", accounts, proposal
    )


REVIEWER = ReviewerFacts(7, "Phạm Minh Đức", AN, OTHER_ORG)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (dt.date(2024, 6, 1), [Reason.CO_APPLICANT]),
        (dt.date(2023, 3, 5), [Reason.CO_APPLICANT]),  # exactly three years ago still counts
        (dt.date(2023, 3, 4), []),
        (dt.date(2019, 1, 1), []),
    ],
)
def test_applying_with_the_applicant_organisation_counts_for_three_years(on, expected):
    history = History.of(
        [past(on, organisation=APPLICANT_ORG, people=[Person("Phạm Minh Đức", AN)])]
    )
    assert reasons(REVIEWER, history=history) == expected


def test_applying_with_a_team_member_is_a_conflict_and_names_them():
    history = History.of(
        [
            past(
                dt.date(2025, 1, 10),
                organisation=99,
                people=[Person("Pham Minh Duc"), Person("Bình", BINH)],
            )
        ]
    )
    found = conflicts(REVIEWER, PROPOSAL, history, TODAY)
    assert [c.reason for c in found] == [Reason.CO_APPLICANT]
    assert found[0].params["name"] == "Trần Thị Bình"
    assert found[0].params["date"] == dt.date(2025, 1, 10)


def test_the_account_that_wrote_a_past_proposal_applied_too():
    history = History.of(
        [
            past(
                dt.date(2025, 1, 10),
                organisation=APPLICANT_ORG,
                accounts=frozenset({REVIEWER.account}),
            )
        ]
    )
    assert reasons(REVIEWER, history=history) == [Reason.CO_APPLICANT]


def test_collaborations_the_reviewer_was_not_part_of_do_not_count():
    history = History.of(
        [past(dt.date(2025, 1, 10), organisation=APPLICANT_ORG, people=[Person("Lê Văn Cường")])]
    )
    assert reasons(REVIEWER, history=history) == []


def test_the_proposal_is_not_a_collaboration_with_itself():
    history = History.of(
        [
            past(
                dt.date(2026, 1, 10),
                organisation=APPLICANT_ORG,
                people=[Person("Đức", AN)],
                proposal=1,
            )
        ]
    )
    assert reasons(REVIEWER, history=history) == []


def test_declared_relations_are_conflicts():
    reviewer = ReviewerFacts(
        7,
        "Phạm Minh Đức",
        AN,
        OTHER_ORG,
        declared_organisations=frozenset({APPLICANT_ORG}),
        declared_people=(Person("Tran Thi Binh"),),
    )
    found = conflicts(reviewer, PROPOSAL, History(), TODAY)
    assert [c.reason for c in found] == [Reason.DECLARED_ORGANISATION, Reason.DECLARED_PERSON]
    assert found[1].params == {"name": "Trần Thị Bình"}


def test_every_reason_is_reported_at_once():
    reviewer = ReviewerFacts(
        7,
        "Lê Văn Cường",
        "",
        APPLICANT_ORG,
        declared_organisations=frozenset({APPLICANT_ORG}),
    )
    assert set(reasons(reviewer)) == {
        Reason.SAME_ORGANISATION,
        Reason.ON_THE_TEAM,
        Reason.DECLARED_ORGANISATION,
    }


def test_29_february_reaches_back_to_28_february():
    history = History.of(
        [past(dt.date(2025, 2, 28), organisation=APPLICANT_ORG, people=[Person("Đức", AN)])]
    )
    assert reasons(REVIEWER, history=history, today=dt.date(2028, 2, 29)) == [Reason.CO_APPLICANT]


# Every pair at once --------------------------------------------------------------------------

NAMES = ["Nguyễn Văn An", "nguyen van an", "Trần Thị Bình", "Lê Văn Cường", "Phạm Minh Đức"]
ORCIDS = ["", "", AN, BINH]
people = st.builds(Person, st.sampled_from(NAMES), st.sampled_from(ORCIDS))
organisations = st.sampled_from([1, 2, 3])


@st.composite
def worlds(draw):
    reviewers = [
        ReviewerFacts(
            account,
            draw(st.sampled_from(NAMES)),
            draw(st.sampled_from(ORCIDS)),
            draw(st.none() | organisations),
            frozenset(draw(st.lists(organisations, max_size=1))),
            frozenset(draw(st.lists(organisations, max_size=1))),
            tuple(draw(st.lists(people, max_size=1))),
        )
        for account in range(1, draw(st.integers(1, 4)) + 1)
    ]
    proposals = [
        ProposalFacts(number, draw(organisations), tuple(draw(st.lists(people, max_size=3))))
        for number in range(100, 100 + draw(st.integers(1, 4)))
    ]
    history = History.of(
        Collaboration(
            draw(st.none() | organisations),
            tuple(draw(st.lists(people, max_size=3))),
            TODAY - dt.timedelta(days=draw(st.integers(0, 5 * 365))),
            "past",
            frozenset(draw(st.lists(st.integers(1, 4), max_size=1))),
            draw(st.none() | st.sampled_from([100, 101])),
        )
        for _ in range(draw(st.integers(0, 4)))
    )
    return reviewers, proposals, history


@settings(max_examples=200)
@given(worlds())
def test_the_indexed_search_finds_exactly_what_asking_every_pair_finds(world):
    reviewers, proposals, history = world
    every_pair = {
        (p.proposal, r.account): found
        for p in proposals
        for r in reviewers
        if (found := conflicts(r, p, history, TODAY))
    }
    assert conflicted_pairs(reviewers, proposals, history, TODAY) == every_pair

"""The review form's rules and the blind copy, without a database: marks on the scale and its
step (typed as people type them), what submitting needs, comments keeping their paragraphs,
scale labels, and a blind copy that holds nothing of the applicant."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.catalogue import Localized
from registry.domain.errors import InvalidForm
from registry.domain.permissions import Target, may_see_applicant, may_see_title
from registry.domain.reviews import (
    ReviewDraft,
    ReviewInput,
    clean_comment,
    proposal_copy,
    read_review,
    scale_choices,
    submission_problems,
)
from registry.domain.scoring import PRESETS, Criteria, Scale
from tests.factories import service_actor

pytestmark = pytest.mark.unit

CRITERIA = PRESETS["horizon_ria"]  # three criteria, 0-5 in steps of 0.5


def typed(*marks: str, comments: tuple[str, ...] = ("a", "b", "c"), overall: str = "x"):  # type: ignore[no-untyped-def]
    return ReviewInput(tuple(marks), comments, overall)


@given(st.integers(min_value=-20, max_value=80), st.sampled_from([".", ","]))
def test_a_mark_is_kept_exactly_when_it_is_on_the_scale_and_its_step(tenths: int, comma: str):
    whole, rest = divmod(abs(tenths), 10)
    text = ("-" if tenths < 0 else "") + (f"{whole}{comma}{rest}" if rest else f"{whole}")
    on_scale = tenths in CRITERIA.items[0].scale.marks()
    try:
        draft = read_review(CRITERIA, typed(text, "", ""))
    except InvalidForm as refused:
        assert not on_scale
        [problem] = refused.problems
        assert problem.field == "mark-0"
        assert problem.message == "Give a mark from %(low)s to %(high)s in steps of %(step)s."
    else:
        assert on_scale
        assert draft.marks == (tenths, None, None)


@pytest.mark.parametrize("text", ["3.25", "3.50", "1e1", "½", "٣", " 3 .5", "3..5", "0x1", "nan"])
def test_marks_written_otherwise_are_refused_at_their_field(text: str):
    if text == "3.50":  # an exact half, written with a trailing zero: fine
        assert read_review(CRITERIA, typed("", text, "")).marks == (None, 35, None)
        return
    with pytest.raises(InvalidForm) as refused:
        read_review(CRITERIA, typed("", text, ""))
    assert [p.field for p in refused.value.problems] == ["mark-1"]


def test_every_bad_field_is_named_at_once():
    with pytest.raises(InvalidForm) as refused:
        read_review(CRITERIA, typed("6", "2.2", "4", comments=("a", "b" * 5001, "c")))
    assert [p.field for p in refused.value.problems] == ["mark-0", "mark-1", "comment-1"]


def test_a_draft_may_be_incomplete_but_submitting_needs_every_mark_and_comment():
    draft = read_review(CRITERIA, typed("4", "", "3", comments=("Tốt", " ", ""), overall=""))
    assert draft == ReviewDraft((40, None, 30), ("Tốt", "", ""), "")
    assert [p.field for p in submission_problems(CRITERIA, draft)] == [
        "mark-1", "comment-1", "comment-2", "overall_comment",
    ]  # fmt: skip
    complete = read_review(CRITERIA, typed("4", "0", "5"))
    assert submission_problems(CRITERIA, complete) == []
    assert ReviewDraft.blank(CRITERIA) == ReviewDraft((None,) * 3, ("",) * 3, "")


def test_comments_keep_their_paragraphs_and_lose_invisible_controls():
    text = "  Điểm mạnh:\r\n- phương pháp   \r\n\r\nĐiểm yếu\u202e: kinh phí \n\n"
    assert clean_comment(text) == "Điểm mạnh:\n- phương pháp\n\nĐiểm yếu: kinh phí"
    decomposed = "Tie\u0302\u0301u chi\u0301"  # NFD
    assert clean_comment(decomposed) == "Tiếu chí"


def test_horizon_labels_sit_on_whole_marks_and_a_label_per_mark_is_kept():
    choices = scale_choices(CRITERIA.items[0].scale)
    assert [mark for mark, _ in choices] == list(range(0, 51, 5))
    assert [(m, label.en) for m, label in choices if label] == [
        (0, "Not addressed"), (10, "Poor"), (20, "Fair"), (30, "Good"), (40, "Very good"),
        (50, "Excellent"),
    ]  # fmt: skip
    three = Scale(0, 20, 10, (Localized("Kém"), Localized("Đạt"), Localized("Tốt")))
    assert [label.vi for _, label in scale_choices(three)] == ["Kém", "Đạt", "Tốt"]
    assert scale_choices(Scale(0, 10, 5, ())) == ((0, None), (5, None), (10, None))


# The blind copy -------------------------------------------------------------------------------

names = st.text(alphabet="ABCDEGHKLMNOPQRSTUVXYĐƯƠÂÊÔĂáàảãạ", min_size=6, max_size=20)


@given(
    organisation=names,
    pi=names,
    team=st.lists(st.tuples(names, names, names), max_size=4),
    filenames=st.lists(names, min_size=1, max_size=3),
)
def test_a_blind_copy_holds_nothing_of_the_applicant(organisation, pi, team, filenames):
    content = {
        "proposal": {
            "title_vi": "Tiêu đề",
            "abstract_vi": "Tóm tắt",
            "technologies": [1],
            "pi_name": pi,
            "pi_orcid": "0000-0002-1825-0097",
            "team": [{"name": n, "orcid": o, "role": r} for n, o, r in team],
            "budget": [{"category": "personnel", "requested": 10, "own": 3}],
            "duration_months": 12,
            "milestones": [{"month": 12, "text": "Kết quả"}],
        },
        "files": [
            {
                "kind": "description",
                "filename": f"{name}.pdf",
                "sha256": "a" * 64,
                "stripped_sha256": "b" * 64,
                "size": 1,
                "pages": 1,
            }
            for name in filenames
        ],
    }
    blind = proposal_copy(
        content,
        reference="NAFOSTED-2026-000001",
        version=1,
        organisation=Localized(organisation, organisation),
        see_applicant=False,
    )
    shown = repr(blind)
    for secret in (organisation, pi, "0000-0002-1825-0097", "a" * 64, *filenames):
        assert secret not in shown
    for name, orcid, role in team:
        assert name not in shown
        assert orcid not in shown
        assert role not in shown
    assert blind.team_size == len(team)
    assert [f.sha256 for f in blind.files] == ["b" * 64] * len(filenames)
    assert blind.requested_vnd == 10
    seen = proposal_copy(
        content,
        reference="NAFOSTED-2026-000001",
        version=1,
        organisation=Localized(organisation),
        see_applicant=True,
    )
    assert seen.organisation == Localized(organisation)
    assert seen.pi_name == pi
    assert json.dumps([f.filename for f in seen.files], ensure_ascii=False) == json.dumps(
        [f"{name}.pdf" for name in filenames], ensure_ascii=False
    )


def test_who_sees_the_applicant_and_the_title():
    from registry.domain.accounts import Grant, Role
    from tests.factories import Person

    reviewer = service_actor(Person(7, "r@example.vn"), Grant(Role.REVIEWER))
    manager = service_actor(Person(8, "m@example.vn"), Grant(Role.FUND_MANAGER, 3))
    accepted_blind = Target(organisation=1, fund=3, reviewers=frozenset({7}), blind=True)
    accepted_open = Target(organisation=1, fund=3, reviewers=frozenset({7}), blind=False)
    asked_blind = Target(organisation=1, fund=3, blind=True)
    asked_open = Target(organisation=1, fund=3, blind=False)
    assert not may_see_applicant(reviewer, accepted_blind)
    assert may_see_applicant(reviewer, accepted_open)
    assert not may_see_applicant(reviewer, asked_open)  # not before accepting
    assert may_see_applicant(manager, accepted_blind)
    assert may_see_title(reviewer, accepted_blind)
    assert may_see_title(reviewer, asked_open)
    assert not may_see_title(reviewer, asked_blind)


def test_criteria_of_another_size_are_read_by_their_own_count():
    one = Criteria(CRITERIA.items[:1], overall_threshold=0)
    assert read_review(one, typed("2", "9", "9")).marks == (20,)

"""Every shared edit form's service refuses an edit made from a version a co-reviewer has
replaced since, writes nothing then, saves from the fresh version, counts versions, and
writes only the fields it was given (synthesis.concurrency)."""

import pytest

from synthesis.concurrency import EditConflict
from tests.concurrency import CONFLICT, SAVED, at_the_same_moment
from tests.synthesis.edit_conflict_cases import CASES, value_of

pytestmark = pytest.mark.django_db


def _fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_stale_edit_is_refused_and_a_fresh_one_saved(case, review, users):
    first, late = (users[n] for n in case.editors)
    first.first_name, first.last_name = "Ravi", "First"
    first.save()
    obj = case.make(review, users)
    (a, a_value), (b, b_value) = case.a, case.b
    a_before = value_of(_fresh(obj), a)
    assert case.version(_fresh(obj)) == 1
    mine, theirs = _fresh(obj), _fresh(obj)

    assert case.version(case.update(first, theirs, 1, **{b: b_value})) == 2

    with pytest.raises(EditConflict) as caught:
        case.update(late, mine, 1, **{a: a_value})
    message = caught.value.message_text
    assert "Ravi First saved" in message and "(version 2)" in message
    assert "(version 1)" in message and caught.value.version == 2
    row = _fresh(obj)
    assert (value_of(row, a), value_of(row, b), case.version(row)) == (a_before, b_value, 2)

    # From the version saved now it applies; `mine` is still the copy read before the first
    # save, and only the field given is written: the first editor's change stays.
    assert case.version(case.update(late, mine, 2, **{a: a_value})) == 3
    row = _fresh(obj)
    assert (value_of(row, a), value_of(row, b), case.version(row)) == (a_value, b_value, 3)

    # Without a version (scripts, old API clients) the update applies as before.
    case.update(first, _fresh(obj), None, **{a: a_before})
    row = _fresh(obj)
    assert (value_of(row, a), case.version(row)) == (a_before, 4)


def test_a_concept_renamed_since_the_description_was_opened_is_a_conflict(review, users):
    from cmoc.services import coding

    concept = coding.concept_create(user=users["reviewer"], review=review, label="Trust")
    coding.concept_rename(user=users["reviewer2"], concept=_fresh(concept), label="Mutual trust")
    with pytest.raises(EditConflict):
        coding.concept_update(
            user=users["reviewer"], concept=concept, description="x", expected_version=1
        )
    assert _fresh(concept).description == ""


def test_an_edit_of_a_deleted_object_says_so(review, users):
    from django.core.exceptions import ValidationError

    from cmoc.services import coding

    dr = coding.demi_regularity_create(user=users["reviewer"], review=review, label="Trust")
    coding.demi_regularity_delete(user=users["reviewer2"], demi_regularity=_fresh(dr))
    with pytest.raises(ValidationError, match="deleted by a co-reviewer"):
        coding.demi_regularity_update(
            user=users["reviewer"], demi_regularity=dr, summary="x", expected_version=1
        )


def test_the_review_details_and_the_screening_settings_never_conflict(review, users):
    """Two forms edit the review, each with its own version: owners saving one each from
    the page they opened both save, and neither writes the other's fields."""
    from synthesis import services as review_services
    from synthesis.models import Review

    owner, other = users["owner"], users["reviewer2"]
    review.memberships.filter(user=other).update(role="owner")
    details, screening = _fresh(review), _fresh(review)
    review_services.review_screening_update(
        user=other, review=screening, expected_version=1, maybe_counts_as="exclude"
    )
    review_services.review_update(
        user=owner, review=details, expected_version=1, registration="CRD42020000000"
    )
    review_services.review_screening_update(
        user=other, review=screening, expected_version=2, highlight_include_terms="partner*"
    )
    row = Review.objects.get(pk=review.pk)
    assert (row.version, row.screening_version) == (2, 3)
    assert (row.registration, row.maybe_counts_as, row.highlight_include_terms) == (
        "CRD42020000000", "exclude", "partner*"
    )  # fmt: skip
    with pytest.raises(ValueError, match="Unknown review setting: dual_seed"):
        review_services.review_update(user=owner, review=row, dual_seed=1)
    with pytest.raises(ValueError, match="Unknown review setting: title"):
        review_services.review_screening_update(user=owner, review=row, title="x")


THREADED = [c for c in CASES if c.name in ("search", "demi-regularity", "concept")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", THREADED, ids=[c.name for c in THREADED])
def test_two_saves_from_one_version_at_the_same_moment_one_wins(case, review, users):
    obj = case.make(review, users)
    field = case.a[0]

    def save(who: str, value: str):
        case.update(users[who], _fresh(obj), 1, **{field: value})

    outcomes = dict(zip(("reviewer", "reviewer2"), at_the_same_moment(
        lambda: save("reviewer", "Mine"), lambda: save("reviewer2", "Theirs"),
    ), strict=True))  # fmt: skip
    assert sorted(outcomes.values()) == [CONFLICT, SAVED], outcomes
    winner = next(who for who, how in outcomes.items() if how == SAVED)
    row = _fresh(obj)
    assert (row.version, getattr(row, field)) == (
        2, {"reviewer": "Mine", "reviewer2": "Theirs"}[winner]
    )  # fmt: skip


def test_a_role_changed_by_another_owner_since_the_page_was_opened_is_a_conflict(review, users):
    """Membership.version counts role changes: a change from a replaced version is refused
    (naming who changed it), one from the saved version applies, and the last-owner rule
    still holds with a version given."""
    from synthesis import services as review_services
    from synthesis.models import Membership, Role

    owner, other = users["owner"], users["reviewer2"]
    review.memberships.filter(user=other).update(role="owner")
    member = users["reviewer"]
    row = Membership.objects.get(review=review, user=member)
    assert row.version == 1
    review_services.membership_set(
        user=other, review=review, member=member, role=Role.ANALYST, expected_version=1
    )
    with pytest.raises(EditConflict, match=f"saved the role of {member}.*\\(version 2\\)"):
        review_services.membership_set(
            user=owner, review=review, member=member, role=Role.VIEWER, expected_version=1
        )
    assert (_fresh(row).role, _fresh(row).version) == (Role.ANALYST, 2)
    review_services.membership_set(
        user=owner, review=review, member=member, role=Role.VIEWER, expected_version=2
    )
    assert (_fresh(row).role, _fresh(row).version) == (Role.VIEWER, 3)
    # The same role again changes nothing, so no version either; no version: applies as before.
    review_services.membership_set(
        user=owner, review=review, member=member, role=Role.VIEWER, expected_version=3
    )
    review_services.membership_set(user=owner, review=review, member=member, role=Role.REVIEWER)
    assert (_fresh(row).role, _fresh(row).version) == (Role.REVIEWER, 4)
    # The last owner stays, from a fresh version too.
    review_services.membership_set(
        user=owner, review=review, member=other, role=Role.REVIEWER, expected_version=1
    )
    mine = Membership.objects.get(review=review, user=owner)
    with pytest.raises(ValueError, match="at least one owner"):
        review_services.membership_set(
            user=owner, review=review, member=owner, role=Role.REVIEWER,
            expected_version=mine.version,
        )  # fmt: skip
    assert _fresh(mine).role == Role.OWNER

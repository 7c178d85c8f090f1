"""Rename, move and merge in the codebook from a page opened before a co-reviewer changed the
concept: refused with who changed it, nothing changed, the reviewer's choices kept (service
and page). A concept merged or deleted meanwhile is a clear error, not a 500."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cmoc.models import CMOCElement, Concept
from cmoc.services import coding as svc

pytestmark = pytest.mark.django_db


@pytest.fixture
def second(users):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    return users["reviewer2"]


@pytest.fixture
def trust(review, users):
    return svc.concept_create(user=users["reviewer"], review=review, label="Trust")


def _fresh(concept):
    return Concept.objects.get(pk=concept.pk)


def test_a_rename_or_move_from_a_replaced_version_is_refused(review, users, second, trust):
    relational = svc.concept_create(user=users["reviewer"], review=review, label="Relational")
    svc.concept_rename(user=second, concept=_fresh(trust), label="Mutual trust", expected_version=1)

    with pytest.raises(svc.EditConflict, match="Ravi Second saved “Mutual trust”"):
        svc.concept_rename(user=users["reviewer"], concept=trust, label="Faith", expected_version=1)
    with pytest.raises(svc.EditConflict, match=r"\(version 2\)"):
        svc.concept_move(
            user=users["reviewer"], concept=trust, parent=relational, expected_version=1
        )
    row = _fresh(trust)
    assert (row.label, row.parent_id, row.version) == ("Mutual trust", None, 2)
    # From the version saved now, both apply.
    svc.concept_move(user=users["reviewer"], concept=trust, parent=relational, expected_version=2)
    svc.concept_rename(user=users["reviewer"], concept=trust, label="Faith", expected_version=3)
    row = _fresh(trust)
    assert (row.label, row.parent_id, row.version) == ("Faith", relational.pk, 4)


def test_a_merge_whose_source_changed_or_went_is_refused(review, users, second, trust):
    target = svc.concept_create(user=users["reviewer"], review=review, label="Goodwill")
    svc.concept_rename(user=second, concept=_fresh(trust), label="Mutual trust")
    with pytest.raises(svc.EditConflict, match="Ravi Second saved “Mutual trust”"):
        svc.concept_merge(
            user=users["reviewer"], source=trust, target=target, expected_source_version=1
        )
    assert _fresh(trust).label == "Mutual trust" and _fresh(target).synonyms == []

    # Merged away meanwhile (by a co-reviewer, from another page): refused, with words.
    other = svc.concept_create(user=users["reviewer"], review=review, label="Confidence")
    svc.concept_merge(user=second, source=_fresh(trust), target=other)
    with pytest.raises(ValidationError, match="deleted by a co-reviewer"):
        svc.concept_merge(
            user=users["reviewer"], source=trust, target=target, expected_source_version=2
        )
    assert _fresh(target).synonyms == [] and _fresh(other).synonyms == ["Mutual trust"]
    # A deleted target too.
    with pytest.raises(ValidationError, match="deleted by a co-reviewer"):
        svc.concept_merge(user=users["reviewer"], source=_fresh(other), target=trust)

    # From the version saved now the merge applies, with the source's label as saved now.
    svc.concept_rename(user=second, concept=_fresh(other), label="Confidence in partners")
    svc.concept_merge(
        user=users["reviewer"], source=_fresh(other), target=target,
        expected_source_version=_fresh(other).version,
    )  # fmt: skip
    assert _fresh(target).synonyms == ["Confidence in partners", "Mutual trust"]


def _codebook(client, review):
    return client.get(reverse("codebook", args=[review.pk])).content.decode()


def test_a_stale_rename_on_the_codebook_page_is_refused_and_keeps_the_input(
    client_for, review, users, second, trust
):
    client = client_for("reviewer")
    page = _codebook(client, review)
    assert f'name="versions" value="{trust.pk}:1"' in page
    svc.concept_rename(user=second, concept=_fresh(trust), label="Mutual trust")
    url = reverse("coding-codebook-action", args=[review.pk])
    form = {"action": "rename", "concept": trust.pk, "label": "Faith in partners"}

    resp = client.post(url, form | {"versions": f"{trust.pk}:1"})
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "Ravi Second saved “Mutual trust”" in page and "Nothing was saved" in page
    assert 'value="Faith in partners"' in page  # the reviewer's label is still there
    assert f'<option value="{trust.pk}" selected>Mutual trust</option>' in page
    assert "Saved version: <q>Mutual trust</q>" in page
    assert f'name="versions" value="{trust.pk}:2"' in page
    assert _fresh(trust).label == "Mutual trust"

    # Saving again from the page shown now renames, knowingly.
    resp = client.post(url, form | {"versions": f"{trust.pk}:2"})
    assert resp.status_code == 302 and _fresh(trust).label == "Faith in partners"


def test_a_stale_move_and_merge_on_the_codebook_page(client_for, review, users, second, trust):
    relational = svc.concept_create(user=users["reviewer"], review=review, label="Relational")
    goodwill = svc.concept_create(user=users["reviewer"], review=review, label="Goodwill")
    client = client_for("reviewer")
    versions = f"{trust.pk}:1 {relational.pk}:1 {goodwill.pk}:1"
    svc.concept_move(user=second, concept=_fresh(trust), parent=goodwill)
    url = reverse("coding-codebook-action", args=[review.pk])

    resp = client.post(
        url, {"action": "move", "concept": trust.pk, "parent": relational.pk, "versions": versions}
    )
    page = resp.content.decode()
    assert resp.status_code == 200 and "Ravi Second saved “Trust”" in page
    assert f'<option value="{relational.pk}" selected>Relational</option>' in page
    assert "Saved version: <q>Goodwill</q>" in page
    assert _fresh(trust).parent_id == goodwill.pk

    resp = client.post(
        url, {"action": "merge", "concept": trust.pk, "target": relational.pk, "versions": versions}
    )
    page = resp.content.decode()
    assert resp.status_code == 200 and "Ravi Second saved “Trust”" in page
    assert f'<option value="{relational.pk}" selected>Relational</option>' in page
    assert Concept.objects.filter(pk=trust.pk).exists()


def test_a_concept_merged_away_since_the_page_was_opened_is_a_clear_error(
    client_for, review, users, second, trust
):
    goodwill = svc.concept_create(user=users["reviewer"], review=review, label="Goodwill")
    cmoc = svc.cmoc_create(
        user=users["reviewer"], review=review, statement="Trust builds commitment.",
        elements=[svc.ElementSpec(role="mechanism", concept=trust)],
    )  # fmt: skip
    client = client_for("reviewer")
    svc.concept_merge(user=second, source=_fresh(trust), target=goodwill)
    url = reverse("coding-codebook-action", args=[review.pk])
    for form in (
        {"action": "rename", "concept": trust.pk, "label": "Faith"},
        {"action": "merge", "concept": goodwill.pk, "target": trust.pk},
        {"action": "move", "concept": goodwill.pk, "parent": trust.pk},
    ):
        resp = client.post(url, form | {"versions": f"{trust.pk}:1 {goodwill.pk}:1"}, follow=True)
        assert resp.status_code == 200
        assert "a co-reviewer merged or deleted it" in resp.content.decode()
    row = _fresh(goodwill)
    assert (row.label, row.parent_id, row.synonyms) == ("Goodwill", None, ["Trust"])
    assert CMOCElement.objects.get(cmoc=cmoc, role="mechanism").concept_id == goodwill.pk

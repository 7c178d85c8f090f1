"""The edit pages of shared objects: a form opened before a co-reviewer saved is refused with
who saved it, keeps what the reviewer typed, shows the saved value under each field that
differs, and saves on the second, knowing, try. Plus the concept API's 409."""

import pytest
from django.urls import reverse

from cmoc.models import Concept
from cmoc.services import coding
from studies.models import Document, ScreeningStage, Search, Study
from studies.services import identification, screening
from synthesis import services as review_services
from synthesis.models import Review

pytestmark = pytest.mark.django_db

CONFLICT = "after the version you edited (version 1) was opened"


def _journey(client, url, form: dict, *, mine: str, saved: str, page_url=None, done=302):
    """`form` is what the stale page posts (version 1), with the reviewer's text `mine`;
    `saved` the co-reviewer's value the page must show."""
    resp = client.post(url, form | {"version": 1})
    assert resp.status_code == 200, resp.status_code
    page = resp.content.decode()
    assert CONFLICT in page and "Ravi Second saved" in page
    assert mine in page  # the reviewer's input is still in the form
    assert f"Saved version: <q>{saved}</q>" in page
    assert 'name="version" value="2"' in page
    resp = client.post(url, form | {"version": 2})
    assert resp.status_code == done, resp.status_code


@pytest.fixture
def second(users):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    return users["reviewer2"]


@pytest.fixture
def second_owner(review, users, second):
    review.memberships.filter(user=second).update(role="owner")
    return second


def _opened_at_version_1(client, url):
    assert 'name="version" value="1"' in client.get(url).content.decode()


def test_search_log_entry(client_for, review, users, second):
    search = identification.search_create(
        user=users["reviewer"], review=review, source="MEDLINE (Ovid)", query="collaborat*"
    )
    url = reverse("identification-search-edit", args=[review.pk, search.pk])
    client = client_for("reviewer")
    _opened_at_version_1(client, url)
    identification.search_update(user=second, search=search, expected_version=1, limits="2000-")
    form = {
        "source": "MEDLINE (Ovid)", "kind": "database", "phase": "", "run_on": "",
        "query": "partnership*", "limits": "", "reported_hits": "", "notes": "",
    }  # fmt: skip
    _journey(client, url, form, mine="partnership*", saved="2000-")
    row = Search.objects.get(pk=search.pk)
    assert (row.query, row.limits, row.version) == ("partnership*", "", 3)


def test_screening_stage_criteria_and_reasons(client_for, review, users, second_owner):
    stage = screening.stage_create(
        user=users["owner"], review=review, name="Full text", kind="full_text",
        reasons=["Wrong design"],
    )  # fmt: skip
    url = reverse("screening-stage-edit", args=[review.pk, stage.pk])
    client = client_for("owner")
    _opened_at_version_1(client, url)
    screening.stage_update(
        user=second_owner, stage=stage, expected_version=1,
        reasons=["Wrong design", "No outcome data"],
    )  # fmt: skip
    form = {
        "name": "Full text", "inclusion_criteria": "Empirical studies",
        "exclusion_criteria": "", "reasons": "Wrong design", "reason_required": "on",
    }  # fmt: skip
    _journey(client, url, form, mine="Empirical studies", saved="Wrong design; No outcome data")
    row = ScreeningStage.objects.get(pk=stage.pk)
    assert row.inclusion_criteria == "Empirical studies" and row.version == 3
    assert list(row.reasons.values_list("label", flat=True)) == ["Wrong design"]


def test_demi_regularity(client_for, review, users, second):
    dr = coding.demi_regularity_create(user=users["reviewer"], review=review, label="Trust")
    url = reverse("coding-demi-regularity-edit", args=[review.pk, dr.pk])
    client = client_for("reviewer")
    _opened_at_version_1(client, url)
    coding.demi_regularity_update(
        user=second, demi_regularity=dr, expected_version=1, summary="Shared goals build trust."
    )
    form = {"label": "Trust and goodwill", "summary": "", "cmocs": ""}
    _journey(client, url, form, mine="Trust and goodwill", saved="Shared goals build trust.")
    dr.refresh_from_db()
    assert (dr.label, dr.version) == ("Trust and goodwill", 3)


def test_middle_range_theory(client_for, review, users, second):
    mrt = coding.middle_range_theory_create(
        user=users["reviewer"], review=review, name="Social exchange"
    )
    url = reverse("coding-theory-edit", args=[review.pk, mrt.pk])
    client = client_for("reviewer")
    _opened_at_version_1(client, url)
    coding.middle_range_theory_update(user=second, theory=mrt, expected_version=1, citation="Blau")
    form = {"name": "Social exchange", "citation": "", "description": "Reciprocity matters."}
    _journey(client, url, form, mine="Reciprocity matters.", saved="Blau")
    mrt.refresh_from_db()
    assert (mrt.description, mrt.citation, mrt.version) == ("Reciprocity matters.", "", 3)


def test_excerpt(client_for, review, users, second):
    study = Study.objects.create(review=review, label="Mervyn et al. 2019")
    doc = Document.objects.create(
        review=review, study=study, title="Mervyn", text="Trust grew between the partners."
    )
    excerpt = coding.excerpt_create(user=users["reviewer"], document=doc, start=0, end=10)
    url = reverse("coding-excerpt-edit", args=[review.pk, excerpt.pk])
    client = client_for("reviewer")
    _opened_at_version_1(client, url)
    coding.excerpt_update(user=second, excerpt=excerpt, expected_version=1, note="An outcome")
    form = {"note": "", "interviewee_stance": "", "page": "", "start": 0, "end": 15}
    _journey(client, url, form, mine='value="15"', saved="An outcome")
    excerpt.refresh_from_db()
    assert (excerpt.text, excerpt.note, excerpt.version) == ("Trust grew betw", "", 3)


def test_participant(client_for, review, users, second):
    participant = coding.participant_create(user=users["reviewer"], review=review, code="P01")
    client = client_for("reviewer")
    listing = client.get(reverse("coding-participants", args=[review.pk])).content.decode()
    url = reverse("coding-participant-edit", args=[review.pk, participant.pk])
    assert f'href="{url}"' in listing
    _opened_at_version_1(client, url)
    coding.participant_update(
        user=second, participant=participant, expected_version=1, role="Programme manager"
    )
    form = {
        "code": "P01", "role": "", "case": "Vanguard A", "organisation_type": "",
        "interview_phase": "", "notes": "",
    }  # fmt: skip
    _journey(client, url, form, mine='value="Vanguard A"', saved="Programme manager")
    participant.refresh_from_db()
    assert (participant.case, participant.role, participant.version) == ("Vanguard A", "", 3)


def test_concept_description_in_the_codebook(client_for, review, users, second):
    concept = coding.concept_create(user=users["reviewer"], review=review, label="Trust")
    client = client_for("reviewer")
    page = client.get(reverse("codebook", args=[review.pk]) + f"?concept={concept.pk}")
    assert 'name="version" value="1"' in page.content.decode()
    coding.concept_update(
        user=second, concept=concept, expected_version=1, description="Goodwill expected"
    )
    form = {
        "action": "update", "concept": concept.pk, "mechanism_type": "reasoning",
        "synonyms": "confidence", "description": "",
    }  # fmt: skip
    url = reverse("coding-codebook-action", args=[review.pk])
    _journey(client, url, form, mine='value="confidence"', saved="Goodwill expected")
    row = Concept.objects.get(pk=concept.pk)
    assert (row.synonyms, row.description, row.version) == (["confidence"], "", 3)


def test_review_details_on_the_settings_page(client_for, review, users, second_owner):
    url = reverse("review-settings", args=[review.pk])
    client = client_for("owner")
    _opened_at_version_1(client, url)
    review_services.review_update(
        user=second_owner, review=review, expected_version=1, registration="CRD42020000000"
    )
    form = {
        "action": "details", "title": "Collaboration review", "question": "What works?",
        "registration": "", "description": "Realist synthesis", "auto_merge_threshold": "0.97",
    }  # fmt: skip
    _journey(client, url, form, mine="Realist synthesis", saved="CRD42020000000")
    row = Review.objects.get(pk=review.pk)
    assert (row.description, row.registration, row.version) == ("Realist synthesis", "", 3)


def test_screening_settings_of_the_review(client_for, review, users, second_owner):
    client = client_for("owner")
    home = reverse("screening-home", args=[review.pk])
    _opened_at_version_1(client, home)
    review_services.review_screening_update(
        user=second_owner, review=review, expected_version=1,
        highlight_include_terms="partnership\ncollaborat*",
    )  # fmt: skip
    form = {
        "blind_screening": "on", "dual_fraction": "0.100", "dual_seed": "20200220",
        "maybe_counts_as": "include", "highlight_include_terms": "",
        "highlight_exclude_terms": "child*",
    }  # fmt: skip
    url = reverse("screening-settings", args=[review.pk])
    _journey(client, url, form, mine="child*", saved="partnership; collaborat*")
    row = Review.objects.get(pk=review.pk)
    assert (row.highlight_exclude_terms, row.highlight_include_terms, row.screening_version) == (
        "child*", "", 3
    )  # fmt: skip
    assert row.version == 1  # the details' version: untouched


def test_the_details_and_the_screening_settings_save_from_pages_opened_together(
    client_for, review, users, second_owner
):
    """Owners saving the two forms of the review, each from the page they opened before the
    other saved, are both saved: neither form conflicts with the other's fields."""
    mine, theirs = client_for("owner"), client_for("reviewer2")
    settings_url = reverse("review-settings", args=[review.pk])
    _opened_at_version_1(mine, settings_url)
    _opened_at_version_1(theirs, reverse("screening-home", args=[review.pk]))
    resp = theirs.post(
        reverse("screening-settings", args=[review.pk]),
        {
            "blind_screening": "on", "dual_fraction": "0.200", "dual_seed": "20200220",
            "maybe_counts_as": "exclude", "highlight_include_terms": "partner*",
            "highlight_exclude_terms": "", "version": 1,
        },
    )  # fmt: skip
    assert resp.status_code == 302
    resp = mine.post(
        settings_url,
        {
            "action": "details", "title": "Collaboration review", "question": "What works?",
            "registration": "CRD42020000000", "description": "", "auto_merge_threshold": "0.97",
            "version": 1,
        },
    )  # fmt: skip
    assert resp.status_code == 302
    row = Review.objects.get(pk=review.pk)
    assert (row.registration, row.maybe_counts_as, str(row.dual_fraction)) == (
        "CRD42020000000", "exclude", "0.200"
    )  # fmt: skip
    assert (row.version, row.screening_version) == (2, 2)
    # and the conflict names who saved that form (its own audit verb)
    events = row.events.order_by("id").values_list("verb", flat=True)
    assert list(events)[-2:] == ["screening.settings", "review.update"]


def test_the_concept_api_answers_409_to_an_update_from_a_replaced_version(
    client_for, review, users, second
):
    concept = coding.concept_create(user=users["reviewer"], review=review, label="Trust")
    url = f"/api/v1/reviews/{review.pk}/concepts/{concept.pk}/"
    client = client_for("reviewer")
    assert client.get(url).json()["version"] == 1
    coding.concept_update(user=second, concept=concept, expected_version=1, source="Table 7")

    resp = client.patch(url, {"description": "Mine", "version": 1}, content_type="application/json")
    assert resp.status_code == 409
    body = resp.json()
    assert body["current_version"] == 2 and "Ravi Second saved" in body["version"][0]
    assert Concept.objects.get(pk=concept.pk).description == ""

    resp = client.patch(
        url, {"label": "Mutual trust", "description": "Mine", "version": 2},
        content_type="application/json",
    )  # fmt: skip
    assert resp.status_code == 200
    row = Concept.objects.get(pk=concept.pk)
    assert (row.label, row.description, row.source) == ("Mutual trust", "Mine", "Table 7")
    assert resp.json()["version"] == row.version > 2
    resp = client.patch(url, {"synonyms": ["confidence"]}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["version"] == row.version + 1
    resp = client.post(
        f"/api/v1/reviews/{review.pk}/concepts/", {"label": "Goodwill", "version": 7},
        content_type="application/json",
    )  # fmt: skip
    assert resp.status_code == 201 and resp.json()["version"] == 1


def test_a_phase_on_the_settings_page(client_for, review, users, second_owner):
    phase = review_services.phase_create(user=users["owner"], review=review, name="Gleaning")
    url = reverse("review-settings", args=[review.pk])
    client = client_for("owner")
    _opened_at_version_1(client, url)
    review_services.phase_update(
        user=second_owner, phase=phase, expected_version=1, description="From the literature"
    )
    form = {
        "action": "phase-update", "phase": phase.pk, "name": "Gleaning theories", "order": 1,
        "description": "",
    }  # fmt: skip
    _journey(client, url, form, mine='value="Gleaning theories"', saved="From the literature")
    phase.refresh_from_db()
    assert (phase.name, phase.description, phase.version) == ("Gleaning theories", "", 3)


def test_a_member_role_on_the_settings_page(client_for, review, users, second_owner):
    """The role chosen stays selected, the message says who changed the role, the saved role
    is shown; the second, knowing, change applies. A junk role is a field error."""
    from synthesis.models import Membership

    member = Membership.objects.get(review=review, user=users["reviewer"])
    url = reverse("review-settings", args=[review.pk])
    client = client_for("owner")
    _opened_at_version_1(client, url)
    review_services.membership_set(
        user=second_owner, review=review, member=member.user, role="analyst", expected_version=1
    )
    form = {"action": "member-role", "membership": member.pk, "role": "viewer"}
    resp = client.post(url, form | {"version": 1})
    assert resp.status_code == 200
    page = resp.content.decode()
    assert CONFLICT in page and "Ravi Second saved the role of reviewer" in page
    assert '<option value="viewer" selected>' in page
    assert "Saved version: <q>Analyst</q>" in page
    assert (
        f'name="membership" value="{member.pk}"><input type="hidden" name="version" value="2"'
        in page
    )
    member.refresh_from_db()
    assert (member.role, member.version) == ("analyst", 2)
    assert client.post(url, form | {"version": 2}).status_code == 302
    member.refresh_from_db()
    assert (member.role, member.version) == ("viewer", 3)
    for junk in (
        {"role": "boss"},
        {"role": ""},
        {"version": "x"},
        {"version": "99999999999999999999"},
    ):
        resp = client.post(url, form | {"version": 3} | junk)
        assert resp.status_code == 200 and 'class="error"' in resp.content.decode()
    member.refresh_from_db()
    assert member.role == "viewer"

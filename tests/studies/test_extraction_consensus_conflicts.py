"""The consensus answers of a study are shared by every extractor (one per field), so two
reviewers consolidating the same study could overwrite each other; a consolidation form
opened before someone else saved the consensus is refused and nothing is lost. Each
extractor's own answers are theirs alone (one per extractor and field)."""

import pytest
from django.urls import reverse

from studies.models import ExtractionAnswer
from studies.selectors_appraisal import consolidation
from studies.services.extraction import answer_save, extraction_form_create_default
from synthesis.concurrency import EditConflict
from tests.concurrency import CONFLICT, SAVED, at_the_same_moment
from tests.studies.appraisal_helpers import make_studies

pytestmark = pytest.mark.django_db

ANSWERS = {
    "study": "Mervyn et al.", "country": "England", "partnership_type": "Integrated care",
    "sector": "Health and social care", "methods_and_sample": "Interviews (n = 27)",
    "phase_of_use": "Refinement", "primary_driver": "Consolidation",
    "mandated_voluntary": "Voluntary",
}  # fmt: skip


@pytest.fixture
def form(review, users):
    return extraction_form_create_default(user=users["owner"], review=review)


@pytest.fixture
def study(review):
    return make_studies(review, 1)[0]


def _consensus(study) -> dict:
    return {
        a.field.key: (a.value, a.version)
        for a in ExtractionAnswer.objects.filter(study=study, is_consensus=True).select_related(
            "field"
        )
    }


def _version(form, study) -> str:
    return consolidation(form=form, study=study)[2]


def test_a_consensus_saved_since_the_form_was_opened_is_not_overwritten(users, form, study):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    opened = _version(form, study)
    answer_save(user=users["reviewer2"], study=study, form=form, consensus=True,
                values={**ANSWERS, "country": "UK"}, expected_version=opened)  # fmt: skip
    assert _version(form, study) != opened

    with pytest.raises(EditConflict) as caught:
        answer_save(user=users["reviewer"], study=study, form=form, consensus=True,
                    values={**ANSWERS, "sector": "Health"}, expected_version=opened)  # fmt: skip
    assert "Ravi Second saved the consensus answers" in caught.value.message_text
    assert caught.value.current.values["country"] == "UK"
    saved = _consensus(study)
    assert saved["country"] == ("UK", 1) and saved["sector"] == ("Health and social care", 1)

    # From the version saved now it applies; changed answers count a version.
    answer_save(user=users["reviewer"], study=study, form=form, consensus=True,
                values={**ANSWERS, "sector": "Health"},
                expected_version=_version(form, study))  # fmt: skip
    saved = _consensus(study)
    assert saved["country"] == ("England", 2) and saved["sector"] == ("Health", 2)
    # (an unchanged answer is re-saved too when another reviewer saves the consensus)
    assert saved["study"] == ("Mervyn et al.", 2)

    # A cleared answer is a new version of the consensus too.
    before = _version(form, study)
    answer_save(user=users["reviewer"], study=study, form=form, consensus=True,
                values={**ANSWERS, "sector": "Health", "methods_and_sample": ""},
                expected_version=before)  # fmt: skip
    assert _version(form, study) != before and "methods_and_sample" not in _consensus(study)


def test_own_answers_are_per_extractor_and_never_shared(users, form, study):
    answer_save(user=users["reviewer"], study=study, form=form, values=ANSWERS)
    answer_save(user=users["reviewer2"], study=study, form=form,
                values={**ANSWERS, "country": "UK"})  # fmt: skip
    mine = ExtractionAnswer.objects.get(
        study=study, field__key="country", extractor=users["reviewer"], is_consensus=False
    )
    assert mine.value == "England"


def test_the_consolidation_page_shows_the_conflict_and_saves_on_the_second_try(
    client_for, users, form, study, review
):
    url = reverse("extraction-consolidate", args=[review.pk, form.pk, study.pk])
    client = client_for("reviewer")
    assert 'name="version" value="0"' in client.get(url).content.decode()
    answer_save(user=users["reviewer2"], study=study, form=form, consensus=True,
                values={**ANSWERS, "country": "Scotland"}, expected_version="0")  # fmt: skip

    data = {f"f-{k}": v for k, v in ANSWERS.items()} | {"f-sector": "Primary care"}
    resp = client.post(url, data | {"version": "0"})
    assert resp.status_code == 409
    page = resp.content.decode()
    assert "reviewer2 saved the consensus answers" in page
    assert 'value="Primary care"' in page  # the reviewer's input is still in the form
    assert "Saved version: <q>Scotland</q>" in page
    assert "Saved version: <q>Health and social care</q>" in page
    now = _version(form, study)
    assert f'name="version" value="{now}"' in page
    assert _consensus(study)["sector"] == ("Health and social care", 1)

    assert client.post(url, data | {"version": now}).status_code == 302
    saved = _consensus(study)
    assert saved["sector"][0] == "Primary care" and saved["country"][0] == "England"


@pytest.mark.django_db(transaction=True)
def test_two_consensus_saves_from_one_version_at_the_same_moment_one_wins(users, form, study):
    def save(who: str, country: str):
        answer_save(user=users[who], study=study, form=form, consensus=True,
                    values={**ANSWERS, "country": country}, expected_version="0")  # fmt: skip

    outcomes = dict(zip(("reviewer", "reviewer2"), at_the_same_moment(
        lambda: save("reviewer", "England"), lambda: save("reviewer2", "UK"),
    ), strict=True))  # fmt: skip
    assert sorted(outcomes.values()) == [CONFLICT, SAVED], outcomes
    winner = next(who for who, how in outcomes.items() if how == SAVED)
    assert _consensus(study)["country"] == ({"reviewer": "England", "reviewer2": "UK"}[winner], 1)

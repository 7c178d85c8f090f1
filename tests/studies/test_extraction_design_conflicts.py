"""An extraction field (or the dual-extraction setting) saved on the design page from a version another owner has replaced
since is refused with who saved it, nothing written (no new form version either), the typed
values kept; the version follows the field into a new form version (service and page)."""

import pytest
from django.urls import reverse

from studies.models import ExtractionField, ExtractionForm
from studies.services.extraction import (
    answer_save,
    extraction_form_create_default,
    field_update,
    form_update,
)
from synthesis.concurrency import EditConflict
from synthesis.models import Membership
from tests.studies.appraisal_helpers import make_studies

pytestmark = pytest.mark.django_db

ANSWERS = {
    "study": "Mervyn et al.", "country": "England", "partnership_type": "Integrated care",
    "sector": "Health and social care", "phase_of_use": "Refinement",
}  # fmt: skip


@pytest.fixture
def second_owner(review, users):
    other = users["reviewer2"]
    other.first_name, other.last_name = "Ravi", "Second"
    other.save()
    Membership.objects.filter(review=review, user=other).update(role="owner")
    return other


@pytest.fixture
def form(review, users):
    return extraction_form_create_default(user=users["owner"], review=review)


def _field(form, key="country"):
    return ExtractionField.objects.get(form=form, key=key)


def test_a_stale_field_save_is_refused_across_a_new_form_version(review, users, form, second_owner):
    study = make_studies(review, 1)[0]
    answer_save(user=users["reviewer"], study=study, form=form, values=ANSWERS)
    stale = _field(form)
    label = stale.label
    # The other owner's save makes version 2 of the form (v1 has answers); the field's
    # edit version goes with it.
    saved = field_update(
        user=second_owner, field=stale, label=label, type=stale.type, help_text="As reported",
        expected_version=1,
    )  # fmt: skip
    assert saved.form.version == 2 and saved.edit_version == 2
    with pytest.raises(EditConflict, match=f"Ravi Second saved the field {label}.*version 2"):
        field_update(
            user=users["owner"], field=stale, label="Country of study", type=stale.type,
            expected_version=1,
        )  # fmt: skip
    row = ExtractionField.objects.get(pk=saved.pk)
    assert (row.label, row.help_text, row.edit_version) == (label, "As reported", 2)
    assert ExtractionForm.objects.filter(review=review).count() == 2
    field_update(
        user=users["owner"], field=stale, label="Country of study", type=stale.type,
        expected_version=2,
    )  # fmt: skip
    row = ExtractionField.objects.get(pk=saved.pk)
    assert (row.label, row.help_text, row.edit_version) == ("Country of study", "", 3)
    # Without a version (scripts) it applies as before.
    field_update(user=users["owner"], field=row, label="Country", type=row.type)
    assert _field(saved.form).edit_version == 4


def test_the_design_page_keeps_what_was_typed(client_for, review, users, form, second_owner):
    field = _field(form)
    url = reverse("extraction-form-design", args=[review.pk, form.pk])
    change = reverse("extraction-field-change", args=[review.pk, form.pk, field.pk])
    client = client_for("owner")
    page = client.get(url).content.decode()
    assert 'name="action" value="update"><input type="hidden" name="version" value="1"' in page
    field_update(
        user=second_owner, field=field, label=field.label, type=field.type,
        help_text="As reported", expected_version=1,
    )  # fmt: skip
    post = {"action": "update", "label": "Country of study", "type": field.type,
            "choices": "", "help_text": "", "version": 1}  # fmt: skip
    resp = client.post(change, post)
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "Ravi Second saved the field" in page and "(version 1) was opened" in page
    assert 'value="Country of study"' in page  # what was typed
    assert "Saved version: <q>As reported</q>" in page
    assert 'name="action" value="update"><input type="hidden" name="version" value="2"' in page
    row = _field(form)
    assert (row.label, row.help_text) == (field.label, "As reported")
    # Saved again from the version shown now: the owner's, knowingly.
    assert client.post(change, post | {"version": 2}).status_code == 302
    row = _field(form)
    assert (row.label, row.help_text, row.edit_version) == ("Country of study", "", 3)
    for junk in ("x", "99999999999999999999", ""):  # no version: applies as before
        assert client.post(change, post | {"version": junk}).status_code == 302


def test_the_dual_extraction_setting_from_a_stale_page(
    client_for, review, users, form, second_owner
):
    url = reverse("extraction-form-settings", args=[review.pk, form.pk])
    client = client_for("owner")
    design = reverse("extraction-form-design", args=[review.pk, form.pk])
    page = client.get(design).content.decode()
    assert 'name="version" value="1">' in page

    form_update(user=second_owner, form=form, dual_extraction=True, expected_version=1)
    with pytest.raises(EditConflict, match="Ravi Second saved the settings of"):
        form_update(user=users["owner"], form=form, dual_extraction=False, expected_version=1)
    resp = client.post(url, {"version": 1})  # unticked, from the page opened before
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "Ravi Second saved the settings of" in page and "Saved version: <q>Yes</q>" in page
    assert 'name="dual_extraction" value="1" >' in page  # still unticked, as the owner left it
    form.refresh_from_db()
    assert (form.dual_extraction, form.settings_version) == (True, 2)
    assert client.post(url, {"version": 2}).status_code == 302
    form.refresh_from_db()
    assert (form.dual_extraction, form.settings_version) == (False, 3)

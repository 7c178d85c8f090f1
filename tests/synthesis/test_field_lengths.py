"""Text longer than its column is a field error with nothing saved, on SQLite as on
PostgreSQL (which refused it with a DataError, a server error, where SQLite stored it whole)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cmoc.models import Concept
from cmoc.services import coding as svc
from studies.models import ScreeningStage
from synthesis.field_lengths import too_long
from tests.studies.screening_fixtures import make_stages

pytestmark = pytest.mark.django_db


def test_too_long_names_each_field_over_its_max_length(review):
    stage = ScreeningStage(review=review, name="x" * 121, kind="title_abstract")
    assert too_long(stage) == {"name": "At most 120 characters, please (121 given)."}
    stage.name = "x" * 120
    assert too_long(stage) == {}


def test_a_service_refuses_an_over_long_label_and_saves_nothing(review, users):
    with pytest.raises(ValidationError) as exc:
        svc.concept_create(user=users["reviewer"], review=review, label="Trust " * 40)
    assert "label" in exc.value.message_dict
    assert not Concept.objects.filter(review=review).exists()


def test_an_update_naming_its_fields_is_checked_on_those_fields(review, users):
    concept = svc.concept_create(user=users["reviewer"], review=review, label="Trust")
    Concept.objects.filter(pk=concept.pk).update(description="kept")
    concept.label = "T" * 201
    with pytest.raises(ValidationError):
        concept.save(update_fields=["label"])
    assert Concept.objects.get(pk=concept.pk).label == "Trust"


def test_pages_show_the_error_instead_of_a_server_error(review, users, client_for):
    ta, _ = make_stages(review, users["owner"])
    owner = client_for("owner")
    resp = owner.post(
        reverse("screening-stage-edit", args=[review.pk, ta.pk]),
        {"name": "N" * 500, "kind": ta.kind, "version": ta.version},
    )
    assert resp.status_code == 200
    assert "At most 120 characters" in resp.content.decode()
    assert ScreeningStage.objects.get(pk=ta.pk).name == ta.name
    resp = client_for("reviewer").post(
        reverse("coding-codebook-action", args=[review.pk]),
        {"action": "create", "label": "L" * 300},
        follow=True,
    )
    assert resp.status_code == 200
    assert "At most 200 characters" in resp.content.decode()
    assert not Concept.objects.filter(review=review).exists()

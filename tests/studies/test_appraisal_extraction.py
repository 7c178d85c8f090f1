"""Extraction forms (versions, validation, dual extraction), the characteristics table and
its exports, and the progress page."""

import csv
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from studies import extraction_values as ev
from studies.models import (
    ExtractionAnswer,
    ExtractionForm,
    Record,
    ScreeningDecision,
    ScreeningStage,
)
from studies.selectors_appraisal import characteristics_table, progress_summary
from studies.services.appraisal import appraisal_record
from studies.services.extraction import (
    DEFAULT_FIELDS,
    answer_save,
    extraction_form_create_default,
    field_add,
    field_move,
    field_remove,
    field_update,
    form_create,
    form_update,
)
from tests.studies.appraisal_helpers import make_cmoc, make_excerpt, make_studies

pytestmark = pytest.mark.django_db

ANSWERS = {
    "study": "Mervyn et al.",
    "country": "England",
    "partnership_type": "Integrated care",
    "sector": "Health and social care",
    "methods_and_sample": "Interviews (n = 27)",
    "phase_of_use": "Refinement",
    "primary_driver": "Consolidation",
    "mandated_voluntary": "Voluntary",
}


@pytest.fixture
def form(review, users):
    return extraction_form_create_default(user=users["owner"], review=review)


# ---------------------------------------------------------------- values (plain Python)


def test_clean_answer_by_type():
    assert ev.clean_answer("number", " 1,200 ") == 1200
    assert ev.clean_answer("number", "3.5") == 3.5
    assert ev.clean_answer("yes_no_unclear", "UNCLEAR") == "Unclear"
    assert ev.clean_answer("multi_choice", ["B", "A", "B"], choices=["A", "B"]) == ["A", "B"]
    assert ev.clean_answer("short_text", "  ") is None
    for t, raw, kw in [
        ("number", "many", {}),
        ("number", "nan", {}),
        ("single_choice", "Z", {"choices": ["A"]}),
        ("multi_choice", ["Z"], {"choices": ["A"]}),
        ("yes_no_unclear", "maybe", {}),
        ("short_text", "", {"required": True}),
        ("short_text", "x" * 501, {}),
    ]:
        with pytest.raises(ev.AnswerError):
            ev.clean_answer(t, raw, **kw)


@given(
    st.one_of(
        st.integers(-(10**9), 10**9),
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    )
)
def test_numbers_round_trip(x):
    assert ev.clean_answer("number", str(x)) == pytest.approx(x)


@given(st.lists(st.text(max_size=8), max_size=6), st.lists(st.text(max_size=8), max_size=6))
def test_multi_choice_is_subset_in_form_order(choices, picked):
    choices = ev.clean_choices(choices)
    try:
        value = ev.clean_answer("multi_choice", picked, choices=choices)
    except ev.AnswerError:
        assert any(p.strip() and p.strip() not in choices for p in picked)
        return
    if value is not None:
        assert value == [c for c in choices if c in value]


# ---------------------------------------------------------------- forms and versions


def test_default_form_from_seed(form):
    assert [f.key for f in form.fields.order_by("order")] == [f["key"] for f in DEFAULT_FIELDS]
    mv = form.fields.get(key="mandated_voluntary")
    assert mv.choices == ["Mandated", "Voluntary", "Unclear"]
    with pytest.raises(ValidationError):
        extraction_form_create_default(user=form.review.memberships.get(role="owner").user,
                                       review=form.review)  # fmt: skip


def test_only_owner_designs(review, users, form):
    for name in ("reviewer", "analyst", "viewer"):
        with pytest.raises(PermissionDenied):
            field_add(user=users[name], form=form, label="Funding")
    with pytest.raises(Http404):
        form_create(user=users["outsider"], review=review, name="X")


def test_editing_a_form_without_answers_edits_in_place(users, form):
    field = field_add(user=users["owner"], form=form, label="Funding source",
                      type="single_choice", choices="Public\nPrivate\n\nPublic")  # fmt: skip
    assert field.form_id == form.pk and field.key == "funding_source"
    assert field.choices == ["Public", "Private"]
    field_move(user=users["owner"], field=field, offset=-1)
    keys = list(form.fields.order_by("order").values_list("key", flat=True))
    assert keys[-2:] == ["funding_source", "mandated_voluntary"]
    assert ExtractionForm.objects.count() == 1


def test_changing_a_form_with_answers_makes_a_version(review, users, form):
    s1, s2 = make_studies(review, 2)
    answer_save(user=users["reviewer"], study=s1, form=form, values=ANSWERS)
    added = field_add(user=users["owner"], form=form, label="Number of sites", type="number")
    v2 = added.form
    assert v2.version == 2 and v2.is_current
    form.refresh_from_db()
    assert not form.is_current
    assert v2.fields.count() == len(DEFAULT_FIELDS) + 1
    # Old answers stay on version 1 and readable.
    assert ExtractionAnswer.objects.filter(field__form=form).count() == len(ANSWERS)
    # Saving against the old version is refused.
    with pytest.raises(ValueError, match="newer version"):
        answer_save(user=users["reviewer"], study=s2, form=form, values=ANSWERS)
    # Further edits on v2 while it has no answers stay in v2.
    sites = field_update(user=users["owner"], field=added, label="Sites", type="number")
    assert sites.form_id == v2.pk
    answer_save(
        user=users["reviewer"], study=s2, form=v2, values={**ANSWERS, "number_of_sites": "4"}
    )
    # Removing a field from an answered v2 makes v3; the v2 answer is kept.
    v3 = field_remove(user=users["owner"], field=sites)
    assert v3.version == 3 and not v3.fields.filter(key="number_of_sites").exists()
    assert ExtractionAnswer.objects.filter(field__form=v2, field__key="number_of_sites").exists()
    # Through all that the table still shows both studies, using the newest answers per key.
    columns, rows = characteristics_table(review=review, form=v3)
    # The "study" field names the row (seed Table 6), not a second column.
    assert [r.study_label for r in rows] == ["Mervyn et al.", "Mervyn et al."]
    assert {r.study_id for r in rows} == {s1.pk, s2.pk}
    assert "study" not in [c.key for c in columns] and rows[0].cells[0] == "England"


def test_field_validation_errors(users, form):
    with pytest.raises(ValidationError) as exc:
        field_add(user=users["owner"], form=form, label="", type="single_choice")
    assert set(exc.value.message_dict) == {"label", "choices"}
    with pytest.raises(ValidationError) as exc:
        field_add(user=users["owner"], form=form, label="X", type="colour")
    assert "type" in exc.value.message_dict


def test_answer_validation_writes_nothing(review, users, form):
    study = make_studies(review, 1)[0]
    bad = {**ANSWERS, "country": "", "phase_of_use": "Sometimes"}
    with pytest.raises(ValidationError) as exc:
        answer_save(user=users["reviewer"], study=study, form=form, values=bad)
    assert set(exc.value.message_dict) == {"country", "phase_of_use"}
    assert not ExtractionAnswer.objects.exists()


def test_answer_save_updates_and_clears(review, users, form):
    study = make_studies(review, 1)[0]
    answer_save(user=users["reviewer"], study=study, form=form, values=ANSWERS)
    answer_save(user=users["reviewer"], study=study, form=form,
                values={**ANSWERS, "country": "Scotland", "primary_driver": ""})  # fmt: skip
    mine = dict(ExtractionAnswer.objects.filter(study=study).values_list("field__key", "value"))
    assert mine["country"] == "Scotland" and "primary_driver" not in mine


def test_extraction_permissions(review, users, form):
    study = make_studies(review, 1)[0]
    for name in ("viewer", "analyst"):
        with pytest.raises(PermissionDenied):
            answer_save(user=users[name], study=study, form=form, values=ANSWERS)


def test_dual_extraction_and_consensus(review, users, form):
    form = form_update(user=users["owner"], form=form, dual_extraction=True)
    study = make_studies(review, 1)[0]
    answer_save(user=users["reviewer"], study=study, form=form, values=ANSWERS)
    answer_save(user=users["reviewer2"], study=study, form=form,
                values={**ANSWERS, "country": "UK"})  # fmt: skip
    _, rows = characteristics_table(review=review, form=form)
    assert rows[0].conflicts[0] and rows[0].cells[0] == "England | UK"
    assert not rows[0].conflicts[1]
    # One of the extractors writes the consensus (allowed alongside their own answer).
    answer_save(user=users["reviewer"], study=study, form=form,
                values={**ANSWERS, "country": "England"}, consensus=True)  # fmt: skip
    _, rows = characteristics_table(review=review, form=form)
    assert rows[0].cells[0] == "England" and not rows[0].conflicts[0]
    assert ExtractionAnswer.objects.filter(is_consensus=True).count() == len(ANSWERS)


# ---------------------------------------------------------------- table, exports


def _fill(review, users, form, n, prefix="S"):
    studies = make_studies(review, n, prefix)
    countries = ["England", "Scotland", "USA"]
    for i, s in enumerate(studies):
        answer_save(user=users["reviewer"], study=s, form=form,
                    values={**ANSWERS, "study": s.label, "country": countries[i % 3]})  # fmt: skip
    return studies


def test_table_sort_filter_search(review, users, form):
    _fill(review, users, form, 6)
    _, rows = characteristics_table(review=review, form=form, sort="country", desc=True)
    assert [r.cells[0] for r in rows][:2] == ["USA", "USA"]
    _, rows = characteristics_table(review=review, form=form, filters={"country": "scotland"})
    assert {r.cells[0] for r in rows} == {"Scotland"} and len(rows) == 2
    _, rows = characteristics_table(review=review, form=form, q="S 003")
    assert [r.study_label for r in rows] == ["S 003"]


def test_table_page_query_count_constant(client_for, review, users, form,
                                         django_assert_max_num_queries):  # fmt: skip
    _fill(review, users, form, 2)
    c = client_for("viewer")
    url = reverse("characteristics", args=[review.pk])
    with django_assert_max_num_queries(15) as ctx:
        assert c.get(url).status_code == 200
    small = len(ctx.captured_queries)
    _fill(review, users, form, 30, prefix="T")
    with django_assert_max_num_queries(small):
        r = c.get(url + "?sort=country")
    assert r.content.decode().count("data-study=") == 32


def test_exports_csv_and_xlsx(client_for, review, users, form):
    _fill(review, users, form, 3)
    c = client_for("analyst")
    r = c.get(reverse("characteristics-csv", args=[review.pk]) + "?f-country=England")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert rows[0] == [f["label"] for f in DEFAULT_FIELDS]
    assert len(rows) == 2 and rows[1][:2] == ["S 000", "England"]
    r = c.get(reverse("characteristics-xlsx", args=[review.pk]))
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header == ["Study", "Country", "Collaboration/partnership type", "Sector",
                      "Methods and sample (where applicable)", "Phase of use in synthesis",
                      "Primary driver", "Mandated or voluntary"]  # fmt: skip
    assert sheet.max_row == 4 and sheet.cell(2, 2).value == "England"


def test_export_permissions(client_for, review, form):
    assert (
        client_for("viewer").get(reverse("characteristics-csv", args=[review.pk])).status_code
        == 403
    )
    assert (
        client_for("outsider").get(reverse("characteristics-xlsx", args=[review.pk])).status_code
        == 404
    )


# ---------------------------------------------------------------- pages


def test_designer_pages(client_for, review, form):
    url = reverse("extraction-form-design", args=[review.pk, form.pk])
    assert client_for("reviewer").get(url).status_code == 403
    c = client_for("owner")
    r = c.post(url, {"label": "Setting", "type": "multi_choice", "choices": ""})
    assert r.status_code == 400 and "Give at least one choice" in r.content.decode()
    r = c.post(url, {"label": "Setting", "type": "multi_choice", "choices": "Urban\nRural"})
    assert r.status_code == 302
    assert form.fields.filter(key="setting", choices=["Urban", "Rural"]).exists()


def test_extraction_page_errors_and_save(client_for, review, form):
    study = make_studies(review, 1)[0]
    url = reverse("extraction-study", args=[review.pk, form.pk, study.pk])
    for name, status in (("viewer", 403), ("analyst", 403), ("outsider", 404)):
        assert client_for(name).get(url).status_code == status
    c = client_for("reviewer")
    assert c.get(url).status_code == 200
    data = {f"f-{k}": v for k, v in ANSWERS.items()}
    r = c.post(url, {**data, "f-phase_of_use": "Later", "f-country": ""})
    assert r.status_code == 400
    body = r.content.decode()
    assert "This field is required." in body and "Not one of the choices" in body
    assert 'value="Mervyn et al."' in body  # what was typed is kept
    assert not ExtractionAnswer.objects.exists()
    assert c.post(url, data).status_code == 302
    assert ExtractionAnswer.objects.count() == len(ANSWERS)


def test_earlier_version_answers_shown_on_extraction_page(client_for, review, users, form):
    study = make_studies(review, 1)[0]
    answer_save(user=users["reviewer"], study=study, form=form, values=ANSWERS)
    v2 = field_add(user=users["owner"], form=form, label="Sites", type="number").form
    c = client_for("reviewer")
    r = c.get(reverse("extraction-study", args=[review.pk, form.pk, study.pk]))
    assert r.status_code == 302  # old version id redirects to the current version
    body = c.get(reverse("extraction-study", args=[review.pk, v2.pk, study.pk])).content.decode()
    assert "Answers to earlier versions" in body and "version 1" in body
    assert "carried over from an earlier version" in body


def test_consolidation_page(client_for, review, users, form):
    study = make_studies(review, 1)[0]
    answer_save(user=users["reviewer"], study=study, form=form, values=ANSWERS)
    answer_save(user=users["reviewer2"], study=study, form=form,
                values={**ANSWERS, "country": "UK"})  # fmt: skip
    c = client_for("owner")
    url = reverse("extraction-consolidate", args=[review.pk, form.pk, study.pk])
    body = c.get(url).content.decode()
    assert "differ" in body and "UK" in body
    data = {f"f-{k}": v for k, v in ANSWERS.items()}
    assert c.post(url, {**data, "f-country": "UK"}).status_code == 302
    _, rows = characteristics_table(review=review, form=form)
    assert rows[0].cells[0] == "UK"


def test_progress_page(client_for, review, users, form, django_assert_max_num_queries):
    def build(n, prefix):
        studies = make_studies(review, n, prefix)
        stage, _ = ScreeningStage.objects.get_or_create(
            review=review, order=1, defaults={"kind": "title_abstract", "name": "T/A"}
        )
        for i, s in enumerate(studies):
            rec = Record.objects.create(review=review, study=s, title=s.label)
            ScreeningDecision.objects.create(record=rec, stage=stage, reviewer=users["reviewer"],
                                             decision="include")  # fmt: skip
            if i % 2 == 0:
                appraisal_record(user=users["reviewer"], review=review, study=s, relevance="high")
                e = make_excerpt(review, s)
                make_cmoc(review, code=f"{prefix}{i}", excerpt=e)
        return studies

    build(2, "A")
    c = client_for("viewer")
    url = reverse("progress", args=[review.pk])
    with django_assert_max_num_queries(12) as ctx:
        r = c.get(url)
    assert r.status_code == 200
    small = len(ctx.captured_queries)
    build(20, "B")
    with django_assert_max_num_queries(small):
        r = c.get(url)
    assert r.content.decode().count("data-study=") == 22
    summary = progress_summary(review=review)
    assert summary == {"total": 22, "screened": 22, "full_text": 11, "appraised": 11,
                       "extracted": 0, "coded": 11}  # fmt: skip
    r = c.get(url + "?missing=appraised")
    assert r.content.decode().count("data-study=") == 11

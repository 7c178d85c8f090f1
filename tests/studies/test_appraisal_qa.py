"""Found in an exploratory pass over the appraisal and extraction pages."""

from django.urls import reverse

from studies.models import Study
from studies.services.extraction import answer_save, extraction_form_create_default


def test_agreement_table_names_the_cmoc_level_as_the_rest_of_the_app(client_for, review):
    html = client_for("reviewer").get(reverse("appraisal-list", args=[review.pk])).content
    assert b"<td>CMOC</td>" in html and b"<td>Cmoc</td>" not in html
    assert b"<td>Study</td>" in html and b"<td>Excerpt</td>" in html


def test_study_page_says_whose_answer_when_extractors_differ(client_for, review, users):
    form = extraction_form_create_default(user=users["owner"], review=review)
    study = Study.objects.create(review=review, label="Ball et al. 2010")
    base = {"study": "Ball et al.", "partnership_type": "Partnerships (mixed)",
            "sector": "Health and social care", "phase_of_use": "Refinement"}  # fmt: skip
    answer_save(user=users["reviewer"], study=study, form=form,
                values={**base, "country": "Scotland"})  # fmt: skip
    answer_save(user=users["reviewer2"], study=study, form=form,
                values={**base, "country": "England"})  # fmt: skip
    html = client_for("viewer").get(reverse("study-detail", args=[review.pk, study.pk]))
    dl = html.content.decode().split('id="characteristics"')[1].split("</dl>")[0]
    # one entry per field, each differing answer with its extractor's name
    assert dl.count("<dt>Country</dt>") == 1 and dl.count("<dt>Sector</dt>") == 1
    assert "Scotland <span" in dl and "(reviewer)" in dl and "(reviewer2)" in dl
    # a consensus answer is what the study shows, as in the characteristics table
    answer_save(user=users["owner"], study=study, form=form, consensus=True,
                values={**base, "country": "Scotland"})  # fmt: skip
    html = client_for("viewer").get(reverse("study-detail", args=[review.pk, study.pk]))
    dl = html.content.decode().split('id="characteristics"')[1].split("</dl>")[0]
    assert "England" not in dl and dl.count("Scotland") == 1

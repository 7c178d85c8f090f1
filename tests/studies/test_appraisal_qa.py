"""Found in an exploratory pass over the appraisal and extraction pages."""

from django.urls import reverse


def test_agreement_table_names_the_cmoc_level_as_the_rest_of_the_app(client_for, review):
    html = client_for("reviewer").get(reverse("appraisal-list", args=[review.pk])).content
    assert b"<td>CMOC</td>" in html and b"<td>Cmoc</td>" not in html
    assert b"<td>Study</td>" in html and b"<td>Excerpt</td>" in html

"""Small wording rules on pages."""

from django.urls import reverse

from studies.services import screening as screening_svc


def test_stage_heading_names_its_kind_only_when_the_name_does_not(review, users, client_for):
    owner = users["owner"]
    screening_svc.stage_create(user=owner, review=review, name="Title and abstract")
    screening_svc.stage_create(user=owner, review=review, name="Pilot round")
    html = client_for("reviewer").get(reverse("screening-home", args=[review.pk])).content.decode()
    assert "Title and abstract <span" not in html and "(Title and abstract)" in html
    assert html.count("(Title and abstract)") == 1  # the pilot round's, not the stage's own

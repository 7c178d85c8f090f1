"""Realist appraisal: services, the never-automatic exclusion rule, agreement, pages."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from studies.appraisal_agreement import agreement_by_dimension, percent_agreement
from studies.models import Appraisal
from studies.services.appraisal import appraisal_agreement, appraisal_record
from synthesis.models import ReviewEvent
from tests.studies.appraisal_helpers import make_cmoc, make_excerpt, make_reason, make_studies

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(review):
    return make_studies(review, 1)[0]


# ---------------------------------------------------------------- agreement (plain Python)


def test_percent_agreement_ignores_blank_ratings():
    assert percent_agreement([("high", "high"), ("low", "high"), ("", "low"), ("low", None)]) == (
        2,
        1,
    )


def test_agreement_by_dimension():
    pairs = [
        ({"relevance": "high", "rigour": "low"}, {"relevance": "high", "rigour": "moderate"}),
        ({"relevance": "low", "rigour": "low"}, {"relevance": "low", "rigour": "low"}),
    ]
    by = {d.dimension: d for d in agreement_by_dimension(pairs)}
    assert by["relevance"].percent == 100.0
    assert by["rigour"].percent == 50.0
    assert by["verdict"].n == 0 and by["verdict"].percent is None


ratings = st.sampled_from(["", "high", "moderate", "low", "none"])


@given(st.lists(st.tuples(ratings, ratings), max_size=30))
def test_percent_agreement_bounds_and_symmetry(pairs):
    n, agreed = percent_agreement(pairs)
    assert 0 <= agreed <= n <= len(pairs)
    assert percent_agreement([(b, a) for a, b in pairs]) == (n, agreed)
    same_n, same_agreed = percent_agreement([(a, a) for a, _ in pairs])
    assert same_n == same_agreed


# ---------------------------------------------------------------- services


def test_record_study_appraisal_and_update(review, users, study):
    cmoc = make_cmoc(review)
    a = appraisal_record(
        user=users["reviewer"], review=review, study=study, relevance="high",
        informs="Trust MRT", informs_cmocs=[cmoc], richness="thicker",
        richness_criteria=["context", "mechanism"], rigour="moderate", method_described=True,
        data_supports_claim="partly", external_tool="CASP", external_score="8/10",
        verdict="include", verdict_reason="Rich account of trust-building",
    )  # fmt: skip
    assert a.target == study and list(a.informs_cmocs.all()) == [cmoc]
    again = appraisal_record(
        user=users["reviewer"], review=review, study=study, relevance="moderate",
        verdict="include", verdict_reason="Still useful",
    )  # fmt: skip
    assert again.pk == a.pk and again.relevance == "moderate"
    assert not again.informs_cmocs.exists()
    assert Appraisal.objects.count() == 1
    verbs = list(ReviewEvent.objects.values_list("verb", flat=True).order_by("id"))
    assert verbs == ["appraisal.create", "appraisal.update"]


def test_high_relevance_low_rigour_is_never_excluded_automatically(review, users, study):
    # No verdict given: ratings alone decide nothing.
    a = appraisal_record(
        user=users["reviewer"], review=review, study=study, relevance="high", rigour="low",
        data_supports_claim="no",
    )  # fmt: skip
    assert a.verdict == ""
    # A rule (not an appraiser) proposing exclusion is refused, and nothing changes.
    with pytest.raises(ValueError, match="explicit verdict"):
        appraisal_record(
            user=users["reviewer"], review=review, study=study, relevance="high", rigour="low",
            verdict="exclude", verdict_reason="Low rigour", verdict_explicit=False,
        )  # fmt: skip
    a.refresh_from_db()
    assert a.verdict == "" and a.rigour == "low"
    # An explicit verdict with a reason does exclude.
    a = appraisal_record(
        user=users["reviewer"], review=review, study=study, relevance="high", rigour="low",
        verdict="exclude", verdict_reason="Claims not supported by any data reported",
    )  # fmt: skip
    assert a.verdict == "exclude"


def test_reason_required_for_every_decision_including_inclusion(review, users, study):
    with pytest.raises(ValidationError) as exc:
        appraisal_record(user=users["reviewer"], review=review, study=study, verdict="include")
    assert "verdict_reason" in exc.value.message_dict
    assert not Appraisal.objects.exists()


def test_include_specific_needs_cmocs(review, users, study):
    with pytest.raises(ValidationError) as exc:
        appraisal_record(
            user=users["reviewer"], review=review, study=study, verdict="include_specific",
            verdict_reason="Only the governance part",
        )  # fmt: skip
    assert "informs_cmocs" in exc.value.message_dict
    cmoc = make_cmoc(review, "C7")
    a = appraisal_record(
        user=users["reviewer"], review=review, study=study, verdict="include_specific",
        verdict_reason="Only the governance part", informs_cmocs=[cmoc],
    )  # fmt: skip
    assert a.verdict == "include_specific"


def test_study_exclusion_maps_to_prisma_reason(review, users, study):
    reason = make_reason(review)
    with pytest.raises(ValidationError) as exc:
        appraisal_record(
            user=users["reviewer"], review=review, study=study, verdict="exclude",
            verdict_reason="Thin",
        )  # fmt: skip
    assert "exclusion_reason" in exc.value.message_dict
    a = appraisal_record(
        user=users["reviewer"], review=review, study=study, verdict="exclude",
        verdict_reason="Thin description", exclusion_reason=reason,
    )  # fmt: skip
    assert a.exclusion_reason == reason
    with pytest.raises(ValidationError) as exc:
        appraisal_record(
            user=users["reviewer"], review=review, study=study, verdict="include",
            verdict_reason="ok", exclusion_reason=reason,
        )  # fmt: skip
    assert "exclusion_reason" in exc.value.message_dict


def test_fragment_level_excerpt_and_cmoc(review, users, study):
    excerpt = make_excerpt(review, study)
    cmoc = make_cmoc(review, excerpt=excerpt)
    a = appraisal_record(
        user=users["reviewer"], review=review, excerpt=excerpt, relevance="high",
        rigour="low", verdict="include", verdict_reason="Relevant despite thin method",
    )  # fmt: skip
    b = appraisal_record(user=users["owner"], review=review, cmoc=cmoc, rigour="high")
    assert a.excerpt == excerpt and b.cmoc == cmoc
    with pytest.raises(ValueError):
        appraisal_record(user=users["owner"], review=review, cmoc=cmoc, study=study)


def test_bad_choices_are_field_errors(review, users, study):
    with pytest.raises(ValidationError) as exc:
        appraisal_record(
            user=users["reviewer"], review=review, study=study, relevance="huge",
            richness_criteria=["nonsense"], external_score="7",
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"relevance", "richness_criteria", "external_tool"}


def test_permissions_in_service(review, users, study):
    for name in ("viewer", "analyst"):
        with pytest.raises(PermissionDenied):
            appraisal_record(user=users[name], review=review, study=study, relevance="high")
    with pytest.raises(Http404):
        appraisal_record(user=users["outsider"], review=review, study=study, relevance="high")


def test_target_from_other_review_refused(review, users):
    from synthesis.models import Membership, Review

    other = Review.objects.create(title="Other")
    Membership.objects.create(review=other, user=users["reviewer"], role="reviewer")
    foreign = make_studies(other, 1)[0]
    with pytest.raises(ValueError, match="another review"):
        appraisal_record(user=users["reviewer"], review=review, study=foreign, relevance="low")


def test_second_appraiser_agreement(review, users):
    s1, s2 = make_studies(review, 2)
    for s, r2 in ((s1, "high"), (s2, "low")):
        appraisal_record(user=users["reviewer"], review=review, study=s, relevance="high",
                         rigour="moderate")  # fmt: skip
        appraisal_record(user=users["reviewer2"], review=review, study=s, relevance=r2,
                         rigour="moderate")  # fmt: skip
    result = appraisal_agreement(review=review, kind="study")
    by = {d.dimension: d for d in result["dimensions"]}
    assert result["n_targets"] == 2
    assert by["relevance"].percent == 50.0 and by["rigour"].percent == 100.0


# ---------------------------------------------------------------- pages


def _url(review, kind, pk):
    return reverse("appraisal-target", args=[review.pk, kind, pk])


@pytest.mark.parametrize("name,status", [("viewer", 403), ("analyst", 403), ("outsider", 404)])
def test_page_permissions(client_for, review, study, name, status):
    c = client_for(name)
    assert c.get(_url(review, "study", study.pk)).status_code == status
    r = c.post(_url(review, "study", study.pk), {"relevance": "high"})
    assert r.status_code == status
    assert not Appraisal.objects.exists()


def test_unknown_target_kind_404(client_for, review, study):
    assert client_for("reviewer").get(_url(review, "paper", study.pk)).status_code == 404


def test_page_post_saves_and_redirects(client_for, review, study):
    cmoc = make_cmoc(review, "C3")
    c = client_for("reviewer")
    assert c.get(_url(review, "study", study.pk)).status_code == 200
    r = c.post(
        _url(review, "study", study.pk),
        {"relevance": "high", "informs_codes": "C3", "rigour": "low", "method_described": "no",
         "richness_criteria": ["context"], "verdict": "include",
         "verdict_reason": "High relevance, kept despite low rigour"},
    )  # fmt: skip
    assert r.status_code == 302
    a = Appraisal.objects.get()
    assert a.method_described is False and list(a.informs_cmocs.all()) == [cmoc]
    assert a.richness_criteria == ["context"]


def test_page_field_errors_not_500(client_for, review, study):
    c = client_for("reviewer")
    r = c.post(_url(review, "study", study.pk), {"verdict": "include", "informs_codes": "C99"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "No CMOC with code C99" in body
    r = c.post(_url(review, "study", study.pk), {"verdict": "include"})
    assert r.status_code == 400 and "Record the reason" in r.content.decode()
    assert not Appraisal.objects.exists()


def test_htmx_post_returns_partial(client_for, review, study):
    excerpt = make_excerpt(review, study)
    c = client_for("reviewer")
    r = c.post(
        _url(review, "excerpt", excerpt.pk),
        {"relevance": "moderate", "verdict": "include", "verdict_reason": "Illustrates trust"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "Appraisal saved" in body and "<html" not in body
    assert Appraisal.objects.get().excerpt == excerpt


def test_second_appraiser_sees_first_only_after_saving(client_for, review, users, study):
    appraisal_record(user=users["reviewer"], review=review, study=study, relevance="high",
                     verdict="include", verdict_reason="first appraiser's secret reason")  # fmt: skip
    c = client_for("reviewer2")
    body = c.get(_url(review, "study", study.pk)).content.decode()
    assert "secret reason" not in body and "shown once you have saved yours" in body
    appraisal_record(user=users["reviewer2"], review=review, study=study, relevance="low")
    body = c.get(_url(review, "study", study.pk)).content.decode()
    assert "secret reason" in body


def test_appraisal_list_query_count_constant(
    client_for, review, users, django_assert_max_num_queries
):
    c = client_for("viewer")
    url = reverse("appraisal-list", args=[review.pk])

    def add(n, prefix):
        for s in make_studies(review, n, prefix):
            appraisal_record(user=users["reviewer"], review=review, study=s, relevance="high")
            e = make_excerpt(review, s)
            appraisal_record(user=users["reviewer2"], review=review, excerpt=e, rigour="low")

    add(2, "A")
    with django_assert_max_num_queries(12) as ctx:
        assert c.get(url).status_code == 200
    small = len(ctx.captured_queries)
    add(15, "B")
    with django_assert_max_num_queries(small) as ctx:
        r = c.get(url)
    assert r.content.decode().count("<tr>") >= 34


def test_appraise_cmoc_by_code(client_for, review):
    cmoc = make_cmoc(review, "B1-01")
    c = client_for("reviewer")
    url = reverse("appraisal-cmoc-by-code", args=[review.pk])
    r = c.get(url, {"code": "b1-01"})
    assert r.status_code == 302 and r.url == _url(review, "cmoc", cmoc.pk)
    assert c.get(url, {"code": "nope"}).url == reverse("appraisal-list", args=[review.pk])
    assert client_for("viewer").get(url, {"code": "B1-01"}).status_code == 403

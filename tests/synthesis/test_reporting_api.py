import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cmoc.models import CMOC, CMOCElement, CMOCEvidence, Concept, Excerpt
from studies.models import ScreeningDecision
from synthesis.models import ReviewEvent
from tests.synthesis.reporting_data import build

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "phases", "searches", "records", "studies", "documents", "screening-stages",
    "screening-decisions", "appraisals", "extraction-answers", "concepts", "excerpts", "cmocs",
    "cmoc-evidence", "demi-regularities", "theory-versions", "chains",
]  # fmt: skip


@pytest.fixture
def data(review, users):
    return build(review, users)


@pytest.fixture
def api(users):
    def as_user(name):
        client = APIClient()
        client.force_authenticate(users[name])
        return client

    return as_user


def results(resp):
    body = resp.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_lists_for_members_and_hides_from_outsiders(name, api, review, data):
    url = f"/api/v1/reviews/{review.pk}/{name}/"
    resp = api("viewer").get(url)
    assert resp.status_code == 200, resp.content
    assert len(results(resp)) >= 1
    assert api("outsider").get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)
    assert api("viewer").get(f"/api/v1/reviews/999999/{name}/").status_code == 404


@pytest.mark.parametrize("name", [e for e in ENDPOINTS if e != "chains"])
def test_every_endpoint_has_detail(name, api, review, data):
    first = results(api("viewer").get(f"/api/v1/reviews/{review.pk}/{name}/"))[0]
    detail = api("viewer").get(f"/api/v1/reviews/{review.pk}/{name}/{first['id']}/")
    assert detail.status_code == 200
    assert (
        api("outsider").get(f"/api/v1/reviews/{review.pk}/{name}/{first['id']}/").status_code == 404
    )
    huge = api("viewer").get(f"/api/v1/reviews/{review.pk}/{name}/99999999999999999999999/")
    assert huge.status_code == 404


def test_reviews_list_only_mine_with_role(api, review, data):
    body = results(api("analyst").get("/api/v1/reviews/"))
    assert [(r["id"], r["role"]) for r in body] == [(review.pk, "analyst")]
    assert results(api("outsider").get("/api/v1/reviews/")) == []
    assert api("outsider").get(f"/api/v1/reviews/{review.pk}/").status_code == 404


def test_cmoc_shape_with_elements_and_evidence(api, review, data):
    body = results(api("viewer").get(f"/api/v1/reviews/{review.pk}/cmocs/"))
    c1 = next(c for c in body if c["code"] == "C1")
    assert {(e["role"], e["concept_label"], e["direction"]) for e in c1["elements"]} == {
        ("context", "Shared goals", "increase"),
        ("mechanism", "Trust", "increase"),
        ("outcome", "Engagement", "increase"),
    }
    sources = {e["source"] for e in c1["evidence"]}
    assert sources == {"Mervyn et al. 2019", "Smith 2015"}
    ev = next(e for e in c1["evidence"] if e["source"] == "Mervyn et al. 2019")
    assert ev["locator"] == "p. 1, chars 15–53" and ev["quote"].startswith("Trust grew")
    assert c1["is_supported"] is True


@pytest.mark.parametrize(
    "query, codes",
    [
        ("min_sources=2", {"C1"}),
        ("relation=refines", {"C2"}),
        ("checked=false", {"C1", "C2"}),
        ("q=sustains", {"C2"}),
        # every word anywhere, as on the CMOC list page (the whole string found nothing)
        ("q=trust+shared", {"C1"}),
        ("q=trust+engagement", {"C1", "C2"}),
        ("q=%22sustains+trust%22", {"C2"}),
        ("q=%22trust+sustains%22", set()),
        ("role=outcome&concept={trust}", {"C2"}),
        ("role=mechanism&concept={trust}", {"C1"}),
        ("concept={trust}", {"C1", "C2"}),
        ("study={study_b}", {"C1"}),
        ("phase={phase2}", {"C2"}),
        ("updated_since=2000-01-01T00:00:00Z", {"C1", "C2"}),
        ("updated_since=2999-01-01T00:00:00Z", set()),
    ],
)
def test_cmoc_filters(query, codes, api, review, data):
    query = query.format(
        trust=data["concepts"][0].pk,
        study_b=data["studies"][1].pk,
        phase2=review.phases.get(order=2).pk,
    )
    body = results(api("viewer").get(f"/api/v1/reviews/{review.pk}/cmocs/?{query}"))
    assert {c["code"] for c in body} == codes


def test_bad_filter_values_are_400_not_500(api, review, data):
    c = api("viewer")
    assert c.get(f"/api/v1/reviews/{review.pk}/cmocs/?min_sources=abc").status_code == 400
    assert (
        c.get(f"/api/v1/reviews/{review.pk}/cmocs/?concept=99999999999999999999999").status_code
        == 400
    )
    assert c.get(f"/api/v1/reviews/{review.pk}/cmocs/?relation=nonsense").status_code == 400
    assert c.get(f"/api/v1/reviews/{review.pk}/cmocs/?cursor=garbage").status_code == 404


def test_chains_computed_from_concepts_and_asserted_by_reviewers(api, review, users, data):
    from cmoc.models import CMOCLink

    c1, c2 = data["cmocs"]
    c3 = CMOC.objects.create(review=review, code="C3", statement="Trust lowers friction.")
    CMOCLink.objects.create(
        review=review, source=c2, target=c3, kind="countervailing", note="Weakens C3"
    )
    url = f"/api/v1/reviews/{review.pk}/chains/"
    body = results(api("viewer").get(url))
    rows = [
        (r["source_code"], r["target_code"], r["kind"], r["concept_label"], r["note"]) for r in body
    ]
    assert rows == [
        ("C1", "C2", "concept", "Engagement", ""),
        ("C1", "C2", "outcome_context", None, ""),
        ("C2", "C3", "countervailing", None, "Weakens C3"),
    ]
    computed = body[0]
    assert (computed["source"], computed["target"]) == (c1.pk, c2.pk)
    assert computed["outcome_direction"] == computed["context_direction"] == "increase"
    assert computed["link"] is None
    link = CMOCLink.objects.get(kind="countervailing")
    assert body[2]["link"] == link.pk and body[2]["concept"] is None
    trust = data["concepts"][0].pk
    engagement = data["concepts"][2].pk
    assert results(api("viewer").get(f"{url}?concept={trust}")) == []
    assert [r["kind"] for r in results(api("viewer").get(f"{url}?concept={engagement}"))] == [
        "concept"
    ]
    assert [r["kind"] for r in results(api("viewer").get(f"{url}?kind=countervailing"))] == [
        "countervailing"
    ]
    assert len(results(api("viewer").get(f"{url}?kind=concept"))) == 1
    assert [r["target_code"] for r in results(api("viewer").get(f"{url}?cmoc={c3.pk}"))] == ["C3"]
    assert len(results(api("viewer").get(f"{url}?cmoc={c2.pk}"))) == 3
    assert api("viewer").get(f"{url}?kind=nonsense").status_code == 400


def test_ordering_and_cursor_pagination(api, review, data):
    c = api("viewer")
    body = results(c.get(f"/api/v1/reviews/{review.pk}/cmocs/?ordering=-code"))
    assert [x["code"] for x in body] == ["C2", "C1"]
    page = c.get(f"/api/v1/reviews/{review.pk}/records/?page_size=5").json()
    assert len(page["results"]) == 5 and page["next"]
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = c.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == 13


def test_records_filters(api, review, data):
    c = api("viewer")
    medline = data["searches"][0].pk
    assert len(results(c.get(f"/api/v1/reviews/{review.pk}/records/?search={medline}"))) == 6
    hmic = data["searches"][1].pk
    assert len(results(c.get(f"/api/v1/reviews/{review.pk}/records/?search={hmic}"))) == 4
    duplicates = results(c.get(f"/api/v1/reviews/{review.pk}/records/?is_duplicate=true"))
    assert len(duplicates) == 2 and {r["searches"][0] for r in duplicates} == {hmic}
    assert len(results(c.get(f"/api/v1/reviews/{review.pk}/records/?included=true"))) == 2


def test_blind_votes_never_leak(api, review, users, data):
    """The API applies the screening pages' rule: with every record dual-screened, another
    reviewer's vote shows only once the record has both votes at that stage; a resolution
    does not reveal a lone vote either."""
    review.dual_fraction = 1
    review.save()
    rec = data["records"]
    ta, ft = data["stages"]
    ScreeningDecision.objects.create(
        record=rec[7], stage=ta, reviewer=users["reviewer2"], decision="exclude"
    )
    url = f"/api/v1/reviews/{review.pk}/screening-decisions/?page_size=500"
    as_reviewer = results(api("reviewer").get(url))
    others = {(d["record"], d["stage"]) for d in as_reviewer if d["reviewer"] != "reviewer"}
    assert others == {(rec[i].pk, ta.pk) for i in (1, 4, 6)}  # both voted at title/abstract
    assert all(d["record"] != rec[7].pk for d in as_reviewer)  # reviewer2's lone blind vote
    as_reviewer2 = results(api("reviewer2").get(url))
    assert {(d["record"], d["reviewer"]) for d in as_reviewer2 if d["record"] == rec[7].pk} == {
        (rec[7].pk, "reviewer2")
    }
    # Full text: only reviewer voted, so reviewer2 and the viewer see none of those votes.
    assert not [d for d in as_reviewer2 if d["stage"] == ft.pk]
    as_viewer = results(api("viewer").get(url))
    assert {d["record"] for d in as_viewer} == {rec[i].pk for i in (1, 4, 6)}
    # Filters cannot pry either.
    lone = api("viewer").get(f"{url}&record={rec[7].pk}")
    assert results(lone) == []
    assert results(api("viewer").get(f"{url}&reviewer=reviewer2&stage={ta.pk}")) == [
        d for d in as_viewer if d["reviewer"] == "reviewer2"
    ]
    # Once reviewer votes on r7 too, both votes are visible to everyone.
    ScreeningDecision.objects.create(
        record=rec[7], stage=ta, reviewer=users["reviewer"], decision="include"
    )
    assert len([d for d in results(api("viewer").get(url)) if d["record"] == rec[7].pk]) == 2
    review.blind_screening = False
    review.save()
    assert len(results(api("viewer").get(url))) == ScreeningDecision.objects.count()


def test_single_screened_votes_are_not_blind(api, review, users, data):
    """Records outside the dual subset need one vote only: once cast it is no secret."""
    review.dual_fraction = 0
    review.save()
    url = f"/api/v1/reviews/{review.pk}/screening-decisions/?page_size=500"
    assert len(results(api("viewer").get(url))) == ScreeningDecision.objects.count()


def test_writes_need_edit_rights(api, review, data):
    url = f"/api/v1/reviews/{review.pk}/concepts/"
    for name in ("viewer", "analyst"):
        assert api(name).post(url, {"label": "Power"}, format="json").status_code == 403
    assert api("outsider").post(url, {"label": "Power"}, format="json").status_code == 404
    resp = api("reviewer").post(
        url, {"label": "Power", "parent": data["concepts"][0].pk}, format="json"
    )
    assert resp.status_code == 201, resp.content
    assert Concept.objects.get(pk=resp.json()["id"]).parent == data["concepts"][0]
    assert ReviewEvent.objects.filter(verb="concept.create").exists()
    dup = api("reviewer").post(url, {"label": "power"}, format="json")
    assert dup.status_code == 400 and "label" in dup.json()
    patch = api("reviewer").patch(
        f"{url}{resp.json()['id']}/", {"description": "Who decides"}, format="json"
    )
    assert patch.status_code == 200 and patch.json()["description"] == "Who decides"


def test_excerpt_cmoc_and_evidence_writes(api, review, users, data):
    c = api("reviewer")
    doc_a = data["documents"][0]
    start = doc_a.text.index("engagement rose")
    ex = c.post(
        f"/api/v1/reviews/{review.pk}/excerpts/",
        {"document": doc_a.pk, "start": start, "end": start + 15},
        format="json",
    )
    assert ex.status_code == 201, ex.content
    excerpt = Excerpt.objects.get(pk=ex.json()["id"])
    assert excerpt.text == "engagement rose" and excerpt.page == 2
    bad = c.post(
        f"/api/v1/reviews/{review.pk}/excerpts/",
        {"document": doc_a.pk, "start": 9, "end": 3},
        format="json",
    )
    assert bad.status_code == 400
    trust, goals, engagement = data["concepts"]
    payload = {
        "code": "C3", "statement": "Goals raise engagement.", "relation": "novel_context",
        "elements": [
            {"role": "context", "concept": goals.pk, "direction": "increase"},
            {"role": "outcome", "concept": engagement.pk, "direction": "increase"},
        ],
    }  # fmt: skip
    assert (
        api("analyst")
        .post(f"/api/v1/reviews/{review.pk}/cmocs/", payload, format="json")
        .status_code
        == 403
    )
    resp = c.post(f"/api/v1/reviews/{review.pk}/cmocs/", payload, format="json")
    assert resp.status_code == 201, resp.content
    cmoc = CMOC.objects.get(code="C3")
    assert CMOCElement.objects.filter(cmoc=cmoc).count() == 2
    assert c.post(f"/api/v1/reviews/{review.pk}/cmocs/", payload, format="json").status_code == 400
    resp = c.patch(
        f"/api/v1/reviews/{review.pk}/cmocs/{cmoc.pk}/",
        {"elements": [{"role": "mechanism", "concept": trust.pk}]},
        format="json",
    )
    assert resp.status_code == 200 and [e["role"] for e in resp.json()["elements"]] == ["mechanism"]
    ev_url = f"/api/v1/reviews/{review.pk}/cmoc-evidence/"
    for e in (data["excerpts"][0], data["excerpts"][1], excerpt):
        assert c.post(ev_url, {"cmoc": cmoc.pk, "excerpt": e.pk}, format="json").status_code == 201
    cmoc.refresh_from_db()
    assert cmoc.source_count == 2  # two studies, three excerpts
    evidence = CMOCEvidence.objects.filter(cmoc=cmoc, excerpt=excerpt).get()
    assert api("viewer").delete(f"{ev_url}{evidence.pk}/").status_code == 403
    assert c.delete(f"{ev_url}{evidence.pk}/").status_code == 204


def test_token_auth_and_token_page(review, users, data, client_for):
    token = Token.objects.create(user=users["analyst"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"/api/v1/reviews/{review.pk}/cmocs/").status_code == 200
    c = client_for("viewer")
    assert c.post(f"/reviews/{review.pk}/reporting/api/").status_code == 302
    page = c.get(f"/reviews/{review.pk}/reporting/api/")
    assert Token.objects.get(user=users["viewer"]).key in page.content.decode()


def test_schema_and_docs_without_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/reviews/{review_pk}/cmocs/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize(
    "name",
    [
        "cmocs",
        "records",
        "studies",
        "screening-decisions",
        "excerpts",
        "concepts",
        "chains",
        "appraisals",
        "extraction-answers",
        "documents",
    ],
)
def test_query_count_constant_as_data_grows(
    name, api, review, users, data, django_assert_max_num_queries
):
    url = f"/api/v1/reviews/{review.pk}/{name}/"
    c = api("reviewer")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert c.get(url).status_code == 200
    _grow(review, users, data)
    with django_assert_max_num_queries(len(small)):
        assert c.get(url).status_code == 200
    assert len(small) <= 8


def _grow(review, users, data):
    """Ten more of everything that lists, with relations."""
    from studies.models import Appraisal, ExtractionAnswer, ImportBatch, Record, Study

    trust, goals, engagement = data["concepts"]
    ta = data["stages"][0]
    field = data["studies"][0].answers.first().field
    batch = ImportBatch.objects.create(review=review, search=data["searches"][0], filename="g.ris")
    for i in range(10):
        s = Study.objects.create(review=review, label=f"Grown {i}")
        rec = Record.objects.create(
            review=review, title=f"grown {i}", study=s, position=100 + i, batch=batch
        )
        ScreeningDecision.objects.create(
            record=rec, stage=ta, reviewer=users["reviewer"], decision="include"
        )
        ScreeningDecision.objects.create(
            record=rec, stage=ta, reviewer=users["reviewer2"], decision="include"
        )
        doc = data["documents"][0].__class__.objects.create(
            review=review, study=s, title=f"doc {i}", text="x" * 50
        )
        ex = Excerpt.objects.create(review=review, document=doc, text="xxxx", start=0, end=4)
        cm = CMOC.objects.create(review=review, code=f"G{i:02}", statement="grown")
        CMOCElement.objects.create(cmoc=cm, role="context", concept=engagement)
        CMOCElement.objects.create(cmoc=cm, role="outcome", concept=goals)
        CMOCEvidence.objects.create(cmoc=cm, excerpt=ex)
        Concept.objects.create(review=review, label=f"grown concept {i}", parent=trust)
        Appraisal.objects.create(
            review=review, study=s, appraiser=users["reviewer"], relevance="low"
        )
        ExtractionAnswer.objects.create(
            study=s, field=field, extractor=users["reviewer"], value="x"
        )


def test_cmoc_list_fast_path_matches_serializer_and_detail(api, review, data):
    """The list builds rows without model instances; it must equal the serializer's shape."""
    from synthesis.api.serializers import CMOCSerializer
    from synthesis.selectors_reporting import cmoc_export_queryset

    c = api("viewer")
    listed = results(c.get(f"/api/v1/reviews/{review.pk}/cmocs/"))
    assert [x["code"] for x in listed] == ["C1", "C2"]
    for item in listed:
        instance = cmoc_export_queryset(review=review).get(pk=item["id"])
        assert item == CMOCSerializer(instance).data
        assert item == c.get(f"/api/v1/reviews/{review.pk}/cmocs/{item['id']}/").json()
    c2 = listed[1]
    assert c2["prior"] == data["cmocs"][0].pk and c2["evidence"][0]["source"] == "Interview P1"


def test_cmoc_list_query_count_is_pinned(api, review, data, django_assert_num_queries):
    c = api("viewer")
    # review, role, page of CMOCs (with phase), elements, evidence
    with django_assert_num_queries(5):
        body = c.get(f"/api/v1/reviews/{review.pk}/cmocs/?min_sources=1&page_size=1").json()
    with django_assert_num_queries(5):
        assert len(c.get(body["next"]).json()["results"]) == 1


def test_api_is_throttled_per_user(api, review, data, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    c = api("viewer")
    url = f"/api/v1/reviews/{review.pk}/phases/"
    assert [c.get(url).status_code for _ in range(3)] == [200, 200, 200]
    over = c.get(url)
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert api("reviewer").get(url).status_code == 200  # another user has their own budget
    cache.clear()


@pytest.mark.parametrize(
    ("name", "forms"),
    [
        ("analyst", False),
        ("viewer", False),
        ("reviewer", True),
    ],
)
def test_browsable_api_offers_write_forms_only_to_roles_that_may_write(
    name, forms, client_for, review, data
):
    """An analyst browsing the API was shown the create and edit forms of CMOCs, and every
    use of them answered 403."""
    client = client_for(name)
    cmoc = CMOC.objects.filter(review=review).first()
    listing = client.get(f"/api/v1/reviews/{review.pk}/cmocs/", HTTP_ACCEPT="text/html")
    detail = client.get(f"/api/v1/reviews/{review.pk}/cmocs/{cmoc.pk}/", HTTP_ACCEPT="text/html")
    assert listing.status_code == detail.status_code == 200
    listing, detail = listing.content.decode(), detail.content.decode()
    assert ('id="post-object-form"' in listing) is forms
    assert ('id="post-generic-content-form"' in listing) is forms
    assert ('id="put-object-form"' in detail) is forms

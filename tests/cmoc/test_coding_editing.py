"""Editing after coding: an excerpt's note, stance, page and location; demi-regularities and
middle-range theories edited and deleted. Services audit; views 404 outsiders, 403 viewers."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cmoc.models import CMOC, DemiRegularity, MiddleRangeTheory
from cmoc.services import coding as svc
from studies.models import Document, Study
from synthesis.models import ReviewEvent

TEXT = "Trust between partners grew slowly.\fShared goals made partners commit.\fThe end."


@pytest.fixture
def doc(review):
    study = Study.objects.create(review=review, label="Mervyn et al. 2019")
    return Document.objects.create(review=review, study=study, title="Mervyn", text=TEXT,
                                   page_map=[0, 36, 71])  # fmt: skip


def url(name, review, *args):
    return reverse(name, args=[review.pk, *args])


def test_excerpt_update_recuts_text_and_page(users, doc):
    u = users["reviewer"]
    e = svc.excerpt_create(user=u, document=doc, start=0, end=5)
    svc.excerpt_update(user=u, excerpt=e, note=" checked quote ", interviewee_stance="refines")
    e.refresh_from_db()
    assert (e.note, e.interviewee_stance, e.text, e.page) == (
        "checked quote",
        "refines",
        "Trust",
        1,
    )
    svc.excerpt_update(user=u, excerpt=e, start=36, end=48)
    e.refresh_from_db()
    assert (e.text, e.page) == ("Shared goals", 2)  # re-cut and re-paged from the text
    svc.excerpt_update(user=u, excerpt=e, page=7)
    e.refresh_from_db()
    assert e.page == 7
    event = ReviewEvent.objects.filter(verb="excerpt.update").order_by("-id").first()
    assert event.data["changed"] == {"page": [2, 7]}
    for bad in ({"start": 40, "end": 500}, {"start": 9, "end": 3}, {"page": 0},
                {"interviewee_stance": "maybe"}, {"start": "x"}):  # fmt: skip
        with pytest.raises(ValidationError):
            svc.excerpt_update(user=u, excerpt=e, **bad)
    e.refresh_from_db()
    assert (e.start, e.end, e.page) == (36, 48, 7)
    with pytest.raises(PermissionDenied):
        svc.excerpt_update(user=users["viewer"], excerpt=e, note="x")
    n = ReviewEvent.objects.filter(verb="excerpt.update").count()
    svc.excerpt_update(user=u, excerpt=e, note="checked quote")  # no change, no event
    assert ReviewEvent.objects.filter(verb="excerpt.update").count() == n


def test_demi_regularity_and_theory_update_delete(users, review):
    u = users["reviewer"]
    a = svc.cmoc_create(user=u, review=review, statement="a", code="A1")
    b = svc.cmoc_create(user=u, review=review, statement="b", code="B1")
    dr = svc.demi_regularity_create(user=u, review=review, label="Trust first", cmocs=[a])
    svc.demi_regularity_create(user=u, review=review, label="Other")
    svc.demi_regularity_update(user=u, demi_regularity=dr, summary="Trust precedes", cmocs=[a, b])
    assert set(dr.cmocs.all()) == {a, b}
    event = ReviewEvent.objects.filter(verb="demi_regularity.update").get()
    assert event.data["cmocs"] == {"added": [b.pk], "removed": []}
    for bad in ("Other", "  "):
        with pytest.raises(ValidationError):
            svc.demi_regularity_update(user=u, demi_regularity=dr, label=bad)
    svc.demi_regularity_delete(user=u, demi_regularity=dr)
    assert not DemiRegularity.objects.filter(pk=dr.pk).exists() and CMOC.objects.count() == 2
    assert ReviewEvent.objects.filter(verb="demi_regularity.delete").get().data["cmocs"] == sorted(
        [a.pk, b.pk]
    )
    t = svc.middle_range_theory_create(user=u, review=review, name="Social exchange")
    svc.middle_range_theory_create(user=u, review=review, name="Resource dependency")
    svc.middle_range_theory_link(user=u, theory=t, cmoc=a)
    svc.middle_range_theory_update(user=u, theory=t, citation="Blau 1964", description=" d ")
    t.refresh_from_db()
    assert (t.citation, t.description) == ("Blau 1964", "d")
    with pytest.raises(ValidationError):
        svc.middle_range_theory_update(user=u, theory=t, name="Resource dependency")
    with pytest.raises(PermissionDenied):
        svc.middle_range_theory_delete(user=users["analyst"], theory=t)
    svc.middle_range_theory_delete(user=u, theory=t)
    assert not MiddleRangeTheory.objects.filter(pk=t.pk).exists()
    assert list(a.middle_range_theories.all()) == []


def test_excerpt_edit_view(client_for, users, review, doc):
    u = users["reviewer"]
    e = svc.excerpt_create(user=u, document=doc, start=0, end=5)
    cmoc = svc.cmoc_create(user=u, review=review, statement="s", excerpt=e)
    c = client_for("reviewer")
    html = c.get(url("coding-reader", review, doc.pk) + f"?excerpt={e.pk}").content.decode()
    assert url("coding-excerpt-edit", review, e.pk) in html
    r = c.get(url("coding-excerpt-edit", review, e.pk))
    assert r.status_code == 200 and 'name="note"' in r.content.decode()
    assert f'id="stance-{cmoc.evidence.get().pk}"' in r.content.decode()
    data = {"note": "n", "interviewee_stance": "", "page": 1, "start": 36, "end": 48}
    r = c.post(url("coding-excerpt-edit", review, e.pk), data)
    assert r.status_code == 302 and f"excerpt={e.pk}" in r["Location"]
    e.refresh_from_db()
    # the old page in the box does not pin the page when the location moves
    assert (e.text, e.page, e.note) == ("Shared goals", 2, "n")
    r = c.post(url("coding-excerpt-edit", review, e.pk), {**data, "end": 9999})
    assert r.status_code == 200 and "fall outside the text" in r.content.decode()
    # the link's stance is changed from the same page and comes back to it
    ev = cmoc.evidence.get()
    r = c.post(url("coding-evidence", review, ev.pk), {"stance": "contradicts", "from": "excerpt"})
    assert r["Location"] == url("coding-excerpt-edit", review, e.pk)
    cmoc.refresh_from_db()
    assert cmoc.source_count == 0


def test_theory_pages_edit_and_delete(client_for, users, review):
    u = users["reviewer"]
    a = svc.cmoc_create(user=u, review=review, statement="a", code="A1")
    svc.cmoc_create(user=u, review=review, statement="b", code="B1")
    dr = svc.demi_regularity_create(user=u, review=review, label="Trust first", cmocs=[a])
    t = svc.middle_range_theory_create(user=u, review=review, name="Social exchange")
    svc.middle_range_theory_link(user=u, theory=t, cmoc=a)
    c = client_for("reviewer")
    html = c.get(url("coding-theory-links", review)).content.decode()
    assert url("coding-demi-regularity-edit", review, dr.pk) in html
    assert url("coding-theory-edit", review, t.pk) in html
    r = c.get(url("coding-demi-regularity-edit", review, dr.pk))
    assert 'value="A1"' in r.content.decode()
    r = c.post(url("coding-demi-regularity-edit", review, dr.pk),
               {"label": "Trust first", "summary": "S", "cmocs": "A1, ZZ"})  # fmt: skip
    assert r.status_code == 200 and "No CMOC with code ZZ" in r.content.decode()
    r = c.post(url("coding-demi-regularity-edit", review, dr.pk),
               {"label": "Trust comes first", "summary": "S", "cmocs": "A1, B1"})  # fmt: skip
    assert r.status_code == 302
    dr.refresh_from_db()
    assert dr.label == "Trust comes first" and dr.cmocs.count() == 2
    r = c.post(url("coding-theory-edit", review, t.pk),
               {"name": "Social exchange theory", "citation": "Blau", "description": "",
                "unlink": [a.pk]})  # fmt: skip
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.name == "Social exchange theory" and t.cmocs.count() == 0
    r = c.post(url("coding-theory-edit", review, t.pk), {"name": ""})
    assert r.status_code == 200 and "needs a name" in r.content.decode()
    assert c.post(url("coding-demi-regularity-delete", review, dr.pk)).status_code == 302
    assert c.post(url("coding-theory-delete", review, t.pk)).status_code == 302
    assert not DemiRegularity.objects.exists() and not MiddleRangeTheory.objects.exists()
    assert CMOC.objects.count() == 2


@pytest.mark.parametrize("name, status", [("viewer", 403), ("analyst", 403), ("outsider", 404)])
def test_editing_views_need_editing_role(client_for, users, review, doc, name, status):
    u = users["reviewer"]
    e = svc.excerpt_create(user=u, document=doc, start=0, end=5)
    dr = svc.demi_regularity_create(user=u, review=review, label="Trust first")
    t = svc.middle_range_theory_create(user=u, review=review, name="Social exchange")
    c = client_for(name)
    pages = [
        (url("coding-excerpt-edit", review, e.pk), {"note": "x", "start": 0, "end": 5}),
        (url("coding-demi-regularity-edit", review, dr.pk), {"label": "x"}),
        (url("coding-theory-edit", review, t.pk), {"name": "x"}),
    ]
    for u_, data in pages:
        assert c.get(u_).status_code == status, u_
        assert c.post(u_, data).status_code == status, u_
    for u_ in (url("coding-demi-regularity-delete", review, dr.pk),
               url("coding-theory-delete", review, t.pk)):  # fmt: skip
        assert c.post(u_).status_code == status, u_
    e.refresh_from_db()
    assert e.note == "" and DemiRegularity.objects.get().label == "Trust first"
    assert MiddleRangeTheory.objects.get().name == "Social exchange"
    # another review's objects are 404 even for an editor of this one
    assert client_for("reviewer").get(url("coding-excerpt-edit", review, 999999)).status_code == 404


def test_study_detail_links_documents_to_the_reader(client_for, review, doc):
    r = client_for("viewer").get(url("study-detail", review, doc.study_id))
    assert url("coding-reader", review, doc.pk) in r.content.decode()


def test_codebook_role_counts_link_to_the_filtered_list(client_for, users, review):
    from cmoc.services.coding import ElementSpec

    u = users["reviewer"]
    for role in ("context", "mechanism", "mechanism"):
        svc.cmoc_create(user=u, review=review, statement=f"s {role}",
                        elements=[ElementSpec(role=role, label="Trust")])  # fmt: skip
    trust = review.concepts.get(label="Trust")
    html = client_for("viewer").get(reverse("codebook", args=[review.pk])).content.decode()
    list_url = reverse("cmoc-list", args=[review.pk])
    assert (
        f'{list_url}?concept={trust.pk}&amp;role=mechanism" title="CMOCs with Trust as mechanism">2<'
        in html
    )
    assert f'{list_url}?concept={trust.pk}&amp;role=context"' in html
    assert "role=outcome" not in html  # no link for a zero count
    r = client_for("viewer").get(f"{list_url}?concept={trust.pk}&role=mechanism")
    assert '<span class="result-count">2</span>' in r.content.decode()


def test_concept_suggest_finds_synonyms(client_for, users, review):
    u = users["reviewer"]
    svc.concept_create(user=u, review=review, label="Trust", synonyms=["faith in partners"])
    svc.concept_create(user=u, review=review, label="Conflict")
    html = (
        client_for("reviewer")
        .get(reverse("coding-concept-suggest", args=[review.pk]) + "?q=faith")
        .content.decode()
    )
    assert 'value="Trust"' in html and "also: faith in partners" in html
    assert "Conflict" not in html


def test_cmoc_detail_sums_interviewee_stances(client_for, users, review):
    u = users["reviewer"]
    text = "P1: We trusted them. P2: We never did. P3: Trust grew."
    doc = Document.objects.create(review=review, title="Interviews", text=text, kind="transcript")
    cmoc = svc.cmoc_create(user=u, review=review, statement="Trust grows")
    for phrase, stance in [("We trusted them.", "confirms"), ("We never did.", "refutes"),
                           ("Trust grew.", "confirms")]:  # fmt: skip
        start = text.index(phrase)
        e = svc.excerpt_create(user=u, document=doc, start=start, end=start + len(phrase),
                               interviewee_stance=stance)  # fmt: skip
        svc.evidence_add(user=u, cmoc=cmoc, excerpt=e)
    html = client_for("viewer").get(reverse("cmoc-detail", args=[review.pk, cmoc.pk])).content
    html = html.decode()
    assert "confirms the theory × 2; refutes the theory × 1" in html

"""Coding pages: reader, excerpt and CMOC creation over HTTP, list filters with pinned query
counts, codebook actions, permissions and field errors (never a 500)."""

import pytest
from django.urls import reverse

from cmoc.forms_coding import CMOCForm
from cmoc.models import CMOC, CMOCElement, CMOCEvidence, Concept, Excerpt
from cmoc.services import coding as svc
from cmoc.services.coding import ElementSpec
from studies.models import Document, Study

TEXT = "Trust between partners grew slowly.\fShared goals made partners commit.\fThe end."


@pytest.fixture
def doc(review):
    study = Study.objects.create(review=review, label="Mervyn et al. 2019")
    return Document.objects.create(review=review, study=study, title="Mervyn", text=TEXT,
                                   page_map=[0, 36, 71])  # fmt: skip


def url(name, review, *args):
    return reverse(name, args=[review.pk, *args])


def test_reader_renders_offsets_pages_and_highlights(client_for, users, review, doc):
    svc.excerpt_create(user=users["reviewer"], document=doc, start=36, end=48)
    r = client_for("viewer").get(url("coding-reader", review, doc.pk))
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-offset="36" class="hl" data-excerpts="' in html
    assert 'data-label="p. 2"' in html
    assert "Create excerpt" not in html  # viewers read, they do not code


def test_excerpt_then_cmoc_from_reader(client_for, users, review, doc):
    c = client_for("reviewer")
    r = c.post(url("coding-excerpt-create", review, doc.pk),
               {"start": 36, "end": 48, "text": "Shared goals"}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert r.status_code == 200 and 'id="current-excerpt"' in r.content.decode()
    e = Excerpt.objects.get()
    assert (e.text, e.page) == ("Shared goals", 2)
    # a stale selection gets a message, not a 500
    r = c.post(url("coding-excerpt-create", review, doc.pk),
               {"start": 0, "end": 5, "text": "Other"}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert r.status_code == 200 and "does not match" in r.content.decode()
    # new CMOC from the excerpt, with concepts made on the fly
    r = c.get(url("coding-cmoc-new", review) + f"?excerpt={e.pk}&panel=1")
    assert 'name="context_concept"' in r.content.decode()
    r = c.post(url("coding-cmoc-new", review), {
        "excerpt": e.pk, "panel": "1", "statement": "", "context": "Shared goals",
        "outcome": "Commitment", "origin": "stated", "stance": "supports",
        "context_concept": ["shared goals", ""], "context_direction": ["increase", ""],
        "outcome_concept": ["commitment"], "outcome_direction": ["increase"],
    }, HTTP_HX_REQUEST="true")  # fmt: skip
    assert r.status_code == 204 and f"excerpt={e.pk}" in r["HX-Redirect"]
    cmoc = CMOC.objects.get()
    assert cmoc.source_count == 1 and cmoc.origin == "stated"
    assert sorted(cmoc.elements.values_list("role", "concept__label")) == [
        ("context", "shared goals"), ("outcome", "commitment")]  # fmt: skip
    # attach the same excerpt to a second CMOC by code
    other = svc.cmoc_create(user=users["owner"], review=review, statement="Other", code="B1-02")
    r = c.post(url("coding-attach", review, e.pk), {"q": "b1-02", "stance": "contradicts"},
               HTTP_HX_REQUEST="true")  # fmt: skip
    assert "Excerpt attached to B1-02" in r.content.decode()
    assert CMOCEvidence.objects.get(cmoc=other).stance == "contradicts"


def test_cmoc_editor_field_errors_not_500(client_for, review):
    c = client_for("reviewer")
    r = c.post(url("coding-cmoc-new", review), {"origin": "stated", "relation": "refines",
                                                "prior_code": "NOPE", "statement": "x"})  # fmt: skip
    assert r.status_code == 200 and "No CMOC with code NOPE" in r.content.decode()
    r = c.post(url("coding-cmoc-new", review), {"origin": "stated", "relation": "refines",
                                                "statement": "x"})  # fmt: skip
    assert r.status_code == 200 and "Say which prior CMOC" in r.content.decode()
    r = c.post(url("coding-cmoc-new", review), {"origin": "bogus"})
    assert r.status_code == 200 and "Select a valid choice" in r.content.decode()
    # a ticked theory id beyond any integer column (SQLite raised OverflowError), or no number
    for junk in ["9" * 20, "abc"]:
        r = c.post(url("coding-cmoc-new", review), {"statement": "x", "outcome": "y",
                                                    "middle_range_theories": junk})  # fmt: skip
        assert r.status_code == 200
        form = CMOCForm({"middle_range_theories": [junk]}, review=review)
        assert form.errors["middle_range_theories"] == [f"“{junk}” is not a valid value."]
    assert not CMOC.objects.exists()
    r = c.post(url("coding-compose", review), {"context": "A", "outcome": "B"})
    assert "In the context of a, leading to b." in r.content.decode()


def test_cmoc_edit(client_for, users, review):
    cmoc = svc.cmoc_create(user=users["reviewer"], review=review, statement="s",
                           elements=[ElementSpec("mechanism", "Trust", direction="increase")])  # fmt: skip
    c = client_for("reviewer")
    r = c.get(url("coding-cmoc-edit", review, cmoc.pk))
    assert 'value="Trust"' in r.content.decode()
    r = c.post(url("coding-cmoc-edit", review, cmoc.pk), {
        "statement": "New statement", "origin": "inferred", "tags": "mandated, voluntary",
        "mechanism_concept": ["Trust", "Faith"], "mechanism_direction": ["decrease", "increase"],
        "confidence": "moderate", "confidence_note": "Two case studies",
    })  # fmt: skip
    assert r.status_code == 302
    cmoc.refresh_from_db()
    assert cmoc.statement == "New statement" and cmoc.tags == ["mandated", "voluntary"]
    assert sorted(cmoc.elements.values_list("concept__label", "direction")) == [
        ("Faith", "increase"), ("Trust", "decrease")]  # fmt: skip


@pytest.mark.parametrize("name, status", [("analyst", 403), ("viewer", 403), ("outsider", 404)])
def test_write_views_need_editing_role(client_for, users, review, doc, name, status):
    c = client_for(name)
    e = svc.excerpt_create(user=users["reviewer"], document=doc, start=0, end=5)
    cmoc = svc.cmoc_create(user=users["reviewer"], review=review, statement="s")
    for u, data in [
        (url("coding-excerpt-create", review, doc.pk), {"start": 0, "end": 5}),
        (url("coding-cmoc-new", review), {"statement": "x", "origin": "stated"}),
        (url("coding-attach", review, e.pk), {"cmoc": cmoc.pk}),
        (url("coding-cmoc-check", review, cmoc.pk), {"checked": "1"}),
        (url("coding-codebook-action", review), {"action": "create", "label": "x"}),
        (url("coding-participants", review), {"code": "P1"}),
    ]:
        assert c.post(u, data).status_code == status, u
    assert Excerpt.objects.count() == 1 and CMOC.objects.count() == 1
    assert not Concept.objects.exists()


def test_codebook_actions(client_for, users, review):
    u = users["reviewer"]
    trust = svc.concept_create(user=u, review=review, label="Trust")
    faith = svc.concept_create(user=u, review=review, label="Faith")
    svc.cmoc_create(user=u, review=review, statement="s",
                    elements=[ElementSpec("outcome", concept=faith)])  # fmt: skip
    c = client_for("reviewer")
    action = url("coding-codebook-action", review)
    c.post(action, {"action": "rename", "concept": trust.pk, "label": "Mutual trust"})
    r = c.post(action, {"action": "move", "concept": trust.pk, "parent": trust.pk}, follow=True)
    assert "sub-concepts" in r.content.decode()
    c.post(action, {"action": "update", "concept": faith.pk, "synonyms": "belief, hope",
                    "description": "Belief that partners deliver", "mechanism_type": "reasoning"})  # fmt: skip
    faith.refresh_from_db()
    assert faith.synonyms == ["belief", "hope"] and faith.mechanism_type == "reasoning"
    c.post(action, {"action": "merge", "concept": faith.pk, "target": trust.pk})
    assert list(Concept.objects.values_list("label", flat=True)) == ["Mutual trust"]
    assert CMOCElement.objects.get().concept_id == trust.pk
    r = c.get(url("codebook", review))
    assert "Mutual trust" in r.content.decode() and 'id="concept-merge"' in r.content.decode()


def test_detail_shows_evidence_side_by_side_and_comments(client_for, users, review, doc):
    u = users["reviewer"]
    cmoc = svc.cmoc_create(user=u, review=review, statement="s")
    e1 = svc.excerpt_create(user=u, document=doc, start=0, end=5)
    e2 = svc.excerpt_create(user=u, document=doc, start=36, end=48)
    svc.evidence_add(user=u, cmoc=cmoc, excerpt=e1)
    ev2 = svc.evidence_add(user=u, cmoc=cmoc, excerpt=e2, stance="contradicts")
    c = client_for("reviewer2")
    c.post(url("coding-cmoc-check", review, cmoc.pk), {"checked": "1", "comment": "Agree."})
    html = c.get(url("cmoc-detail", review, cmoc.pk)).content.decode()
    assert "Supporting (1)" in html and "Contradicting (1)" in html and "Agree." in html
    assert "Checked by reviewer2" in html
    c.post(url("coding-evidence", review, ev2.pk), {"stance": "supports"})
    assert CMOCEvidence.objects.get(pk=ev2.pk).stance == "supports"
    c.post(url("coding-evidence", review, ev2.pk), {"remove": "1"})
    assert not CMOCEvidence.objects.filter(pk=ev2.pk).exists()


def _populate(review, user, n, offset=0):
    """n CMOCs each with two concepts and one supporting excerpt from its own study."""
    concept = Concept.objects.get_or_create(review=review, label="Trust")[0]
    for i in range(offset, offset + n):
        study = Study.objects.create(review=review, label=f"S{i}")
        d = Document.objects.create(review=review, study=study, title=f"D{i}", text=TEXT)
        cmoc = svc.cmoc_create(user=user, review=review, statement=f"Trust story {i}",
                               elements=[ElementSpec("mechanism", concept=concept),
                                         ElementSpec("outcome", f"Outcome {i}")])  # fmt: skip
        e = svc.excerpt_create(user=user, document=d, start=0, end=5)
        svc.evidence_add(user=user, cmoc=cmoc, excerpt=e)


FILTERS = [
    "", "?q=trust", "?concept={c}&role=mechanism", "?supported=no", "?min_sources=1",
    "?checked=no&sort=-sources", "?study={s}", "?relation=affirms&phase=1", "?sort=-updated",
]  # fmt: skip


def test_cmoc_list_filters_with_constant_queries(
    client_for, users, review, django_assert_max_num_queries
):
    c = client_for("reviewer")
    _populate(review, users["reviewer"], 3)
    concept = Concept.objects.get(label="Trust")
    study = Study.objects.first()

    def counts():
        out = []
        for f in FILTERS:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                r = c.get(url("cmoc-list", review) + f.format(c=concept.pk, s=study.pk))
            assert r.status_code == 200
            out.append(len(ctx))
        return out

    small = counts()
    _populate(review, users["reviewer"], 12, offset=3)
    assert counts() == small
    # session, user, review, role, count, page, elements, phases, concepts, studies
    with django_assert_max_num_queries(10):
        c.get(url("cmoc-list", review) + f"?concept={concept.pk}&role=mechanism")
    r = c.get(url("cmoc-list", review) + "?supported=yes")
    assert "No CMOCs match" in r.content.decode()
    r = c.get(url("cmoc-list", review) + f"?study={study.pk}", HTTP_HX_REQUEST="true")
    assert "1</span> CMOC match" in r.content.decode()


def test_reader_and_search_queries_constant(
    client_for, users, review, doc, django_assert_max_num_queries
):
    c = client_for("reviewer")
    u = users["reviewer"]
    for i in range(8):
        e = svc.excerpt_create(user=u, document=doc, start=i, end=i + 10)
        cmoc = svc.cmoc_create(user=u, review=review, statement=f"Trust {i}")
        svc.evidence_add(user=u, cmoc=cmoc, excerpt=e)
    with django_assert_max_num_queries(9):
        r = c.get(url("coding-reader", review, doc.pk) + f"?excerpt={e.pk}")
    assert r.content.decode().count('class="chip') >= 8
    # auth (4) + by code + by words, + the FTS selectivity look on SQLite (cmoc/search.py)
    with django_assert_max_num_queries(7):
        r = c.get(url("coding-cmoc-search", review) + "?q=trust")
    assert r.content.decode().count('name="cmoc"') == 8
    with django_assert_max_num_queries(5):
        r = c.get(url("coding-concept-suggest", review) + "?context_concept=")
    assert r.status_code == 200


def test_documents_participants_and_transcript_upload(client_for, review):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client_for("reviewer")
    r = c.post(url("coding-participants", review), {"code": "P01", "role": "Manager"})
    assert r.status_code == 302
    r = c.post(url("coding-participants", review), {"code": "P01"})
    assert "already exists" in r.content.decode()
    from studies.models import Participant

    p = Participant.objects.get()
    bad = SimpleUploadedFile("p01.vtt", b"not vtt")
    r = c.post(url("coding-documents", review), {"form": "transcript", "file": bad,
                                                 "kind": "transcript"})  # fmt: skip
    assert r.status_code == 200 and "p01.vtt, line 1" in r.content.decode()
    good = SimpleUploadedFile("p01.txt", b"Interviewer: Hi\n\nP01: Trust matters.")
    r = c.post(url("coding-documents", review), {"form": "transcript", "file": good,
                                                 "kind": "transcript", "participant": p.pk})  # fmt: skip
    d = Document.objects.get()
    assert r.status_code == 302 and d.participant == p and d.kind == "transcript"
    html = c.get(url("coding-reader", review, d.pk)).content.decode()
    assert "Interviewee&#x27;s stance" in html or "Interviewee's stance" in html
    r = c.post(url("coding-documents", review), {"form": "text", "title": "Paper",
                                                 "kind": "full_text", "text": "One\fTwo"})  # fmt: skip
    assert Document.objects.get(title="Paper").page_map == [0, 4]


def test_theory_links_page(client_for, users, review):
    svc.cmoc_create(user=users["reviewer"], review=review, statement="a", code="A1")
    c = client_for("reviewer")
    c.post(url("coding-theory-links", review), {"action": "theory", "name": "Social exchange"})
    r = c.post(url("coding-theory-links", review),
               {"action": "demi_regularity", "label": "Trust first", "cmocs": "A1, ZZ"})  # fmt: skip
    assert "No CMOC with code ZZ" in r.content.decode()
    c.post(url("coding-theory-links", review),
           {"action": "demi_regularity", "label": "Trust first", "cmocs": "A1"})  # fmt: skip
    from cmoc.models import MiddleRangeTheory

    mrt = MiddleRangeTheory.objects.get()
    c.post(url("coding-theory-links", review), {"action": "link", "theory": mrt.pk, "cmocs": "A1"})
    html = c.get(url("coding-theory-links", review)).content.decode()
    assert "Trust first" in html and "Social exchange" in html and mrt.cmocs.count() == 1


def test_junk_ids_never_500(client_for, review, doc):
    c = client_for("reviewer")
    assert c.get(url("coding-reader", review, doc.pk) + "?excerpt=abc").status_code == 200
    assert c.get(url("coding-cmoc-new", review) + "?excerpt=abc").status_code == 200
    r = c.post(url("coding-codebook-action", review), {"action": "rename", "concept": "x"},
               follow=True)  # fmt: skip
    assert "Choose a concept" in r.content.decode()
    r = c.post(url("coding-theory-links", review), {"action": "link", "theory": "x", "cmocs": "A"})
    assert r.status_code == 404
    assert c.get(url("coding-reader", review, 999999)).status_code == 404


def test_codebook_describe_form_shows_the_chosen_concepts_values(client_for, users, review):
    u = users["reviewer"]
    svc.concept_create(user=u, review=review, label="Agency", description="Acting")
    faith = svc.concept_create(user=u, review=review, label="Faith", synonyms=["belief"],
                               description="Belief that partners deliver")  # fmt: skip
    c = client_for("reviewer")
    page = c.get(url("codebook", review), {"concept": faith.pk}).content.decode()
    assert f'<option value="{faith.pk}" selected>Faith</option>' in page
    assert 'name="synonyms" value="belief"' in page
    assert ">Belief that partners deliver</textarea>" in page
    r = c.post(url("coding-codebook-action", review),
               {"action": "update", "concept": faith.pk, "mechanism_type": "reasoning",
                "synonyms": "belief", "description": "Belief that partners deliver"})  # fmt: skip
    assert r.url == url("codebook", review) + f"?concept={faith.pk}#concept-update"


def test_documents_page_forms_have_distinct_ids_for_their_labels(client_for, review):
    """The transcript and pasted-text forms both have title, study and kind: with Django's
    default ids the second form's labels pointed at the first form's fields."""
    import re
    from collections import Counter

    html = client_for("reviewer").get(url("coding-documents", review)).content.decode()
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []
    targets = re.findall(r'<label for="([^"]+)"', html)
    assert len(targets) >= 9 and all(ids[t] == 1 for t in targets)


def test_theory_links_keep_what_was_typed_on_error_and_confirm_success(client_for, users, review):
    """A demi-regularity with one mistyped code came back with an empty form: label, summary
    and the other codes had to be typed again. Success said nothing."""
    svc.cmoc_create(user=users["reviewer"], review=review, statement="a", code="A1")
    mrt = svc.middle_range_theory_create(user=users["reviewer"], review=review, name="Exchange")
    svc.middle_range_theory_create(user=users["reviewer"], review=review, name="Agency")
    c = client_for("reviewer")
    links = url("coding-theory-links", review)
    r = c.post(links, {"action": "demi_regularity", "label": "Trust first",
                       "summary": "Trust precedes commitment", "cmocs": "A1, ZZ"})  # fmt: skip
    html = r.content.decode()
    assert "No CMOC with code ZZ" in html
    assert 'name="label" required value="Trust first"' in html
    assert ">Trust precedes commitment</textarea>" in html
    assert 'name="cmocs" value="A1, ZZ"' in html
    r = c.post(links, {"action": "link", "theory": mrt.pk, "cmocs": "A1, ZZ"})
    html = r.content.decode()
    assert f'<option value="{mrt.pk}" selected>Exchange</option>' in html
    assert 'name="cmocs" required value="A1, ZZ"' in html
    r = c.post(links, {"action": "demi_regularity", "label": "Trust first", "cmocs": "A1"},
               follow=True)  # fmt: skip
    assert "Created the demi-regularity “Trust first”." in r.content.decode()
    r = c.post(links, {"action": "link", "theory": mrt.pk, "cmocs": "A1"}, follow=True)
    assert "Linked 1 CMOC(s) to “Exchange”." in r.content.decode()


def test_second_coder_actions_confirm_what_happened(client_for, users, review):
    """Mark checked, uncheck and a comment reloaded the page without a word."""
    cmoc = svc.cmoc_create(user=users["reviewer"], review=review, statement="s", code="A1")
    c = client_for("reviewer2")
    check = url("coding-cmoc-check", review, cmoc.pk)
    r = c.post(check, {"checked": "1", "comment": ""}, follow=True)
    assert "A1 marked checked." in r.content.decode()
    r = c.post(check, {"checked": "0"}, follow=True)
    assert "A1 marked not checked." in r.content.decode()
    r = c.post(check, {"comment": "Is this inferred?"}, follow=True)
    assert "Comment added." in r.content.decode()


def test_excerpt_offsets_in_the_wrong_order_say_so(client_for, users, review, doc):
    e = svc.excerpt_create(user=users["reviewer"], document=doc, start=0, end=5)
    r = client_for("reviewer").post(
        url("coding-excerpt-edit", review, e.pk), {"note": "", "start": 36, "end": 5}
    )
    html = r.content.decode()
    assert "The excerpt must end after it starts (starts at 36, ends at 5)." in html
    assert "fall outside the text" not in html


def test_theory_links_accept_codes_in_any_case(client_for, users, review):
    """ "b1-01" for B1-01 answered "No CMOC with code b1-01"."""
    svc.cmoc_create(user=users["reviewer"], review=review, statement="a", code="B1-01")
    r = client_for("reviewer").post(
        url("coding-theory-links", review),
        {"action": "demi_regularity", "label": "Faith", "cmocs": "b1-01"},
    )
    assert r.status_code == 302
    from cmoc.models import DemiRegularity

    assert [c.code for c in DemiRegularity.objects.get().cmocs.all()] == ["B1-01"]

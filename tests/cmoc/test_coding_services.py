"""Coding services: excerpts, CMOCs with concepts, evidence and the two-source rule,
codebook rename/move/merge, second coder, participants and transcripts."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from cmoc import selectors
from cmoc.models import CMOC, CMOCElement, Concept, Excerpt
from cmoc.services import coding as svc
from cmoc.services.coding import ElementSpec
from studies.models import Document, Participant, Study
from synthesis.models import ReviewEvent

TEXT = (
    "Trust between partners grew slowly.\fShared goals made partners commit.\f"
    "Frustration with the pace of impact eroded faith in the network."
)


@pytest.fixture
def docs(review):
    s1 = Study.objects.create(review=review, label="Mervyn et al. 2019")
    s2 = Study.objects.create(review=review, label="Aunger et al. 2021")
    d1 = Document.objects.create(review=review, study=s1, title="Mervyn", text=TEXT,
                                 page_map=[0, 36, 71])  # fmt: skip
    d1b = Document.objects.create(review=review, study=s1, title="Mervyn appendix", text=TEXT)
    d2 = Document.objects.create(review=review, study=s2, title="Aunger", text=TEXT)
    return d1, d1b, d2


def excerpt(user, doc, phrase):
    start = doc.text.index(phrase)
    return svc.excerpt_create(user=user, document=doc, start=start, end=start + len(phrase))


def test_excerpt_create_checks_offsets_and_text(users, docs):
    d1 = docs[0]
    start = TEXT.index("Shared goals")
    e = svc.excerpt_create(
        user=users["reviewer"], document=d1, start=start, end=start + 12, text="Shared goals"
    )
    assert (e.text, e.page, e.review_id) == ("Shared goals", 2, d1.review_id)
    with pytest.raises(ValidationError, match="does not match"):
        svc.excerpt_create(user=users["reviewer"], document=d1, start=0, end=5, text="Other")
    with pytest.raises(ValidationError, match="outside the text"):
        svc.excerpt_create(user=users["reviewer"], document=d1, start=5, end=10_000)
    with pytest.raises(ValidationError, match="outside the text"):
        svc.excerpt_create(user=users["reviewer"], document=d1, start=9, end=9)
    with pytest.raises(ValidationError, match="white space"):
        svc.excerpt_create(user=users["reviewer"], document=d1, start=35, end=36)
    assert Excerpt.objects.count() == 1
    assert ReviewEvent.objects.filter(verb="excerpt.create").count() == 1


@pytest.mark.parametrize("name, exc", [("analyst", PermissionDenied), ("viewer", PermissionDenied),
                                       ("outsider", Http404)])  # fmt: skip
def test_only_editors_code(users, docs, name, exc):
    with pytest.raises(exc):
        svc.excerpt_create(user=users[name], document=docs[0], start=0, end=5)
    with pytest.raises(exc):
        svc.cmoc_create(user=users[name], review=docs[0].review, statement="x")
    assert not Excerpt.objects.exists() and not CMOC.objects.exists()


def test_cmoc_create_with_new_concepts_case_insensitive(users, review, docs):
    Concept.objects.create(review=review, label="Trust")
    e = excerpt(users["reviewer"], docs[0], "Trust between partners grew slowly.")
    cmoc = svc.cmoc_create(
        user=users["reviewer"], review=review, context="Partners with shared goals",
        outcome="Commitment",
        elements=[ElementSpec("context", "shared goals", direction="increase"),
                  ElementSpec("mechanism", "trust", direction="increase"),
                  ElementSpec("outcome", "Commitment")],
        excerpt=e,
    )  # fmt: skip
    assert cmoc.code == "C001" and cmoc.statement.startswith("In the context of partners")
    assert cmoc.source_count == 1
    labels = sorted(Concept.objects.filter(review=review).values_list("label", flat=True))
    assert labels == ["Commitment", "Trust", "shared goals"]
    el = cmoc.elements.get(role="mechanism")
    assert (el.concept.label, el.direction) == ("Trust", "increase")
    ev = ReviewEvent.objects.get(verb="cmoc.create")
    assert ev.data["new_concepts"] == ["shared goals", "Commitment"]
    # update replaces elements, keeps the rest
    svc.cmoc_update(user=users["reviewer"], cmoc=cmoc, phase=review.phases.first(),
                    elements=[ElementSpec("mechanism", "TRUST", direction="decrease")])  # fmt: skip
    assert list(cmoc.elements.values_list("concept__label", "direction")) == [("Trust", "decrease")]


def test_cmoc_validation(users, review):
    with pytest.raises(ValidationError, match="Write a statement"):
        svc.cmoc_create(user=users["reviewer"], review=review)
    with pytest.raises(ValidationError, match="prior CMOC"):
        svc.cmoc_create(user=users["reviewer"], review=review, statement="s", relation="refines")
    a = svc.cmoc_create(user=users["reviewer"], review=review, statement="a", code="B1-01")
    with pytest.raises(ValidationError, match="already used"):
        svc.cmoc_create(user=users["reviewer"], review=review, statement="b", code="B1-01")
    b = svc.cmoc_create(user=users["reviewer"], review=review, statement="b", relation="refines",
                        prior=a)  # fmt: skip
    assert b.prior == a and b.code == "C002"


def test_source_count_counts_distinct_studies_among_supporting(users, review, docs):
    d1, d1b, d2 = docs
    u = users["reviewer"]
    cmoc = svc.cmoc_create(user=u, review=review, statement="Trust sustains networks")
    e1 = excerpt(u, d1, "Trust between partners")
    e1b = excerpt(u, d1b, "Shared goals")  # same study, other document
    e2 = excerpt(u, d2, "eroded faith")
    svc.evidence_add(user=u, cmoc=cmoc, excerpt=e1)
    svc.evidence_add(user=u, cmoc=cmoc, excerpt=e1b)
    cmoc.refresh_from_db()
    assert cmoc.source_count == 1 and not cmoc.is_supported
    ev2 = svc.evidence_add(user=u, cmoc=cmoc, excerpt=e2, stance="contradicts")
    cmoc.refresh_from_db()
    assert cmoc.source_count == 1
    svc.evidence_set_stance(user=u, evidence=ev2, stance="supports")
    cmoc.refresh_from_db()
    assert cmoc.source_count == 2 and cmoc.is_supported
    svc.evidence_remove(user=u, evidence=ev2)
    cmoc.refresh_from_db()
    assert cmoc.source_count == 1
    # transcripts without a study count per participant
    p = Participant.objects.create(review=review, code="P01")
    t = Document.objects.create(review=review, participant=p, kind="transcript", title="P01",
                                text="Trust matters a lot.")  # fmt: skip
    svc.evidence_add(user=u, cmoc=cmoc, excerpt=excerpt(u, t, "Trust matters"))
    cmoc.refresh_from_db()
    assert cmoc.source_count == 2
    svc.excerpt_delete(user=u, excerpt=Excerpt.objects.get(document=t))
    cmoc.refresh_from_db()
    assert cmoc.source_count == 1
    verbs = set(ReviewEvent.objects.values_list("verb", flat=True))
    assert {"evidence.add", "evidence.stance", "evidence.remove", "excerpt.delete"} <= verbs


def test_concept_rename_move_merge(users, review):
    u = users["reviewer"]
    trust = svc.concept_create(user=u, review=review, label="Trust")
    faith = svc.concept_create(user=u, review=review, label="Faith", synonyms=["belief"])
    relational = svc.concept_create(user=u, review=review, label="Relational")
    child = svc.concept_create(user=u, review=review, label="Confidence", parent=faith)
    with pytest.raises(ValidationError, match="already has"):
        svc.concept_create(user=u, review=review, label="trust")
    with pytest.raises(ValidationError, match="merge the two"):
        svc.concept_rename(user=u, concept=faith, label="TRUST")
    svc.concept_rename(user=u, concept=trust, label="Mutual trust")
    svc.concept_move(user=u, concept=trust, parent=relational)
    svc.concept_move(user=u, concept=faith, parent=relational)
    with pytest.raises(ValidationError, match="sub-concepts"):
        svc.concept_move(
            user=u, concept=relational, parent=child.__class__.objects.get(pk=child.pk)
        )
    with pytest.raises(ValidationError, match="sub-concepts"):
        svc.concept_move(user=u, concept=relational, parent=relational)
    # merge: one CMOC uses both (duplicate collapses), another only faith (re-pointed)
    both = svc.cmoc_create(user=u, review=review, statement="both", elements=[
        ElementSpec("mechanism", concept=trust), ElementSpec("mechanism", concept=faith),
        ElementSpec("outcome", concept=faith)])  # fmt: skip
    only = svc.cmoc_create(user=u, review=review, statement="only",
                           elements=[ElementSpec("context", concept=faith, direction="increase")])  # fmt: skip
    svc.concept_merge(user=u, source=faith, target=trust)
    assert not Concept.objects.filter(pk=faith.pk).exists()
    assert sorted(both.elements.values_list("role", "concept__label")) == [
        ("mechanism", "Mutual trust"), ("outcome", "Mutual trust")]  # fmt: skip
    assert list(only.elements.values_list("role", "concept__label", "direction")) == [
        ("context", "Mutual trust", "increase")]  # fmt: skip
    trust.refresh_from_db()
    child.refresh_from_db()
    assert trust.synonyms == ["Faith", "belief"] and child.parent == trust
    ev = ReviewEvent.objects.get(verb="concept.merge")
    assert ev.data["source_label"] == "Faith" and len(ev.data["dropped_duplicates"]) == 1
    assert CMOCElement.objects.count() == 3


def test_second_coder_check(users, review):
    cmoc = svc.cmoc_create(user=users["reviewer"], review=review, statement="s")
    with pytest.raises(ValidationError, match="second coder"):
        svc.cmoc_check(user=users["reviewer"], cmoc=cmoc)
    svc.cmoc_check(user=users["reviewer2"], cmoc=cmoc, comment="Logic holds; see p. 12.")
    cmoc.refresh_from_db()
    assert cmoc.checked and cmoc.checked_by == users["reviewer2"]
    assert cmoc.comments.get().text == "Logic holds; see p. 12."
    svc.cmoc_check(user=users["owner"], cmoc=cmoc, checked=False)
    cmoc.refresh_from_db()
    assert not cmoc.checked and cmoc.checked_by is None
    with pytest.raises(PermissionDenied):
        svc.cmoc_check(user=users["analyst"], cmoc=cmoc)


def test_demi_regularity_and_middle_range_theory(users, review, docs):
    u = users["reviewer"]
    a = svc.cmoc_create(user=u, review=review, statement="a")
    b = svc.cmoc_create(user=u, review=review, statement="b")
    svc.evidence_add(user=u, cmoc=a, excerpt=excerpt(u, docs[0], "Trust"))
    svc.evidence_add(user=u, cmoc=b, excerpt=excerpt(u, docs[2], "faith"), stance="contradicts")
    dr = svc.demi_regularity_create(user=u, review=review, label="Trust first", cmocs=[a, b])
    pooled = list(selectors.demi_regularity_evidence(demi_regularity=dr))
    assert [e.stance for e in pooled] == ["contradicts", "supports"]
    mrt = svc.middle_range_theory_create(user=u, review=review, name="Collaborative advantage",
                                         citation="Huxham & Vangen 2005")  # fmt: skip
    svc.middle_range_theory_link(user=u, theory=mrt, cmoc=a)
    assert list(a.middle_range_theories.all()) == [mrt]
    with pytest.raises(ValidationError):
        svc.middle_range_theory_create(user=u, review=review, name="Collaborative advantage")


def test_participants_and_transcripts(users, review):
    u = users["reviewer"]
    p = svc.participant_create(user=u, review=review, code="P07", role="Commissioner",
                               case="Vanguard A", interview_phase="Realist evaluation")  # fmt: skip
    with pytest.raises(ValidationError, match="already exists"):
        svc.participant_create(user=u, review=review, code="P07")
    vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v P07>We trusted them.</v>\n"
    doc = svc.transcript_upload(user=u, review=review, filename="p07.vtt", data=vtt,
                                participant=p)  # fmt: skip
    assert (doc.kind, doc.title, doc.text) == (
        "transcript",
        "Interview P07",
        "P07: We trusted them.\n",
    )
    e = svc.excerpt_create(user=u, document=doc, start=5, end=21, interviewee_stance="confirms")
    assert (
        e.text == "We trusted them." and e.get_interviewee_stance_display() == "Confirms the theory"
    )
    n = Document.objects.count()
    with pytest.raises(ValidationError, match="bad.vtt, line 1"):
        svc.transcript_upload(user=u, review=review, filename="bad.vtt", data=b"hello")
    assert Document.objects.count() == n

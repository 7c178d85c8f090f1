import pytest

from cmoc.models import CMOC, CMOCElement, CMOCEvidence
from studies.models import Document, ExtractionAnswer, Search, Study
from synthesis.demo import DEMO_USERS, demo_load
from synthesis.models import Membership, ReviewEvent

pytestmark = pytest.mark.django_db


def test_demo_review_has_table6_studies_and_box_cmocs():
    review, created = demo_load()
    assert created
    assert Study.objects.filter(review=review).count() == 72
    cmocs = CMOC.objects.filter(review=review)
    assert cmocs.filter(code__startswith="B1-").count() == 39
    assert cmocs.filter(code__startswith="B2-").count() == 17
    assert set(cmocs.values_list("phase__name", flat=True)) == {
        "Theory gleaning",
        "Realist evaluation",
    }
    # Searches of chapter 3 / appendix 3 with their strategies.
    assert Search.objects.filter(review=review, source__icontains="MEDLINE").exists()
    assert Search.objects.filter(review=review).exclude(query="").count() >= 4
    # Table 6 characteristics are extraction answers.
    mervyn = Study.objects.get(review=review, label__startswith="Mervyn")
    countries = ExtractionAnswer.objects.filter(study=mervyn, field__key="country")
    assert countries.get().value == "England"
    assert {m.user.username for m in Membership.objects.filter(review=review)} == {
        u for u, _, _ in DEMO_USERS
    }
    assert ReviewEvent.objects.filter(review=review, verb="demo.load").exists()


def test_demo_excerpts_point_at_the_text_they_quote():
    review, _ = demo_load()
    doc = Document.objects.get(review=review, study__label__startswith="Mervyn")
    evidence = CMOCEvidence.objects.filter(excerpt__document=doc).select_related("excerpt")
    assert evidence.count() >= 5
    for ev in evidence:
        assert doc.text[ev.excerpt.start : ev.excerpt.end] == ev.excerpt.text
        if ev.stance == "supports":
            assert ev.cmoc.source_count >= 1


def test_demo_chain_size_complexity_faith_behaviour_is_in_the_data():
    review, _ = demo_load()

    def cmocs_with(role: str, label: str) -> set[int]:
        return set(
            CMOCElement.objects.filter(
                cmoc__review=review, role=role, concept__label__iexact=label
            ).values_list("cmoc", flat=True)
        )

    # Organisational size (C) → perceived task complexity (M) → reduced faith (O) ...
    first = (
        cmocs_with("context", "Organisational size")
        & cmocs_with("mechanism", "Perception of task complexity")
        & cmocs_with("outcome", "Faith")
    )
    assert first
    # ... and faith, as the context of another CMOC, drives collaborative behaviour.
    assert cmocs_with("context", "Faith") & cmocs_with("mechanism", "Collaborative behaviour")


def test_demo_load_is_idempotent():
    review, created = demo_load()
    again, created_again = demo_load()
    assert created and not created_again and again.pk == review.pk
    assert Study.objects.filter(review=review).count() == 72
    assert CMOC.objects.filter(review=review).count() == 56


def test_demo_imports_the_reference_list_and_has_votes_and_one_conflict():
    from studies import selectors_screening as sel
    from studies.models import DuplicateCandidate, ImportBatch, Record, ScreeningDecision

    review, _ = demo_load()
    batch = ImportBatch.objects.get(review=review)
    assert (batch.status, batch.search.kind) == ("done", "reference_scanning")
    # Every included study is cited in the report: each merges into the study's record.
    assert batch.parsed_count > 200 and batch.duplicate_count == 72
    merged = Record.objects.filter(review=review, duplicate_of__isnull=False)
    assert merged.count() == 72
    assert not merged.filter(duplicate_of__study__isnull=True).exists()
    # The duplicates page lists each merge, to be checked or undone.
    from studies import selectors_identification as ident

    assert ident.duplicate_list(review=review, status="merged").count() == 72
    assert not DuplicateCandidate.objects.filter(
        review=review, status="merged", auto=False
    ).exists()

    ta, ft = sel.stage_list(review=review)
    votes = ScreeningDecision.objects.filter(stage=ta)
    assert votes.filter(reviewer__username="rita", decision="include").count() == 72
    assert votes.filter(reviewer__username="rita", decision="exclude").count() == 15
    assert len(list(sel.conflict_record_ids(ta, unresolved=True))) == 1
    assert ScreeningDecision.objects.filter(stage=ft, decision="include").count() == 71

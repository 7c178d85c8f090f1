"""Data builders for the appraisal/extraction tests (kept out of the shared conftest)."""

from cmoc.models import CMOC, CMOCEvidence, Excerpt
from studies.models import Document, ExclusionReason, ScreeningStage, Study


def make_studies(review, n: int, prefix: str = "Study") -> list[Study]:
    return [Study.objects.create(review=review, label=f"{prefix} {i:03d}") for i in range(n)]


def make_excerpt(review, study, text="Trust grew as staff met regularly.") -> Excerpt:
    doc = Document.objects.create(
        review=review, study=study, title=f"{study.label} full text", text="x" * 20 + text
    )
    return Excerpt.objects.create(
        review=review, document=doc, text=text, start=20, end=20 + len(text)
    )


def make_cmoc(review, code="C1", excerpt=None) -> CMOC:
    cmoc = CMOC.objects.create(review=review, code=code, statement=f"{code}: trust → sharing")
    if excerpt is not None:
        CMOCEvidence.objects.create(cmoc=cmoc, excerpt=excerpt)
    return cmoc


def make_reason(review, label="Insufficient descriptive depth") -> ExclusionReason:
    stage, _ = ScreeningStage.objects.get_or_create(
        review=review, order=2, defaults={"kind": "full_text", "name": "Full text"}
    )
    return ExclusionReason.objects.create(stage=stage, label=label)

"""A small constructed review with hand-countable PRISMA numbers and coded evidence, used by
the reporting tests (API, exports, PRISMA, backup)."""

import datetime as dt

from django.core.files.base import ContentFile

from cmoc.models import (
    CMOC,
    CMOCComment,
    CMOCElement,
    CMOCEvidence,
    CMOCLink,
    Concept,
    DemiRegularity,
    Excerpt,
    MiddleRangeTheory,
    TheoryVersion,
)
from studies.models import (
    Appraisal,
    Document,
    ExclusionReason,
    ExtractionAnswer,
    ExtractionField,
    ExtractionForm,
    ImportBatch,
    Participant,
    RankingRun,
    Record,
    RecordScore,
    ScreeningDecision,
    ScreeningResolution,
    ScreeningStage,
    Search,
    Study,
)
from synthesis.audit import event_record

# Hand counts for the PRISMA flow of `build` (see comments there).
EXPECTED_PRISMA = {
    "database_results": 10,
    "databases": {"MEDLINE": 6, "HMIC": 4},
    "websites": {"King's Fund": 2},
    "citations": {"Citation tracking": 1},
    "duplicates": 2,
    "automation_excluded": 1,
    "records_screened": 6,
    "records_excluded": 1,
    "undecided_screening": 1,
    "awaiting_screening": 1,
    "dbr_sought": 4,
    "dbr_not_retrieved": 1,
    "dbr_assessed": 3,
    "dbr_excluded": {"No CMO data": 1, "Wrong setting": 1},
    "dbr_included": 1,
    "other_sought": 2,
    "other_not_retrieved": 1,
    "other_assessed": 1,
    "other_included": 1,
    "other_excluded_at_screening": 1,
    "new_studies": 2,
    "new_reports": 2,
}


def build(review, users) -> dict:
    rv, rv2 = users["reviewer"], users["reviewer2"]
    phase1, phase2 = list(review.phases.order_by("order"))
    medline = Search.objects.create(
        review=review, source="MEDLINE", kind="database", run_on=dt.date(2020, 2, 20),
        query="collaborat* AND (health OR care)", phase=phase1,
    )  # fmt: skip
    hmic = Search.objects.create(review=review, source="HMIC", kind="database")
    website = Search.objects.create(review=review, source="King's Fund", kind="website")
    citation = Search.objects.create(review=review, source="Citation tracking", kind="citation")
    r = {}
    for i in range(1, 14):
        if i == 13:
            continue
        r[i] = Record.objects.create(
            review=review, title=f"Record {i} on collaboration", year=2010 + i,
            authors=[f"Author{i}, A.", "Second, B."], journal="J Health Serv" if i % 2 else "",
            doi=f"10.1000/r{i}", pages="1-10", position=i,
        )  # fmt: skip
    # Databases: MEDLINE found r1..r6; HMIC found r1 again (r13, merged into r1), r7, r8 and
    # r9 (a duplicate of r2). Other methods: r10, r11 from a website, r12 from citation
    # tracking. A record's search is its import's.
    r[13] = Record.objects.create(
        review=review, title="Record 1 on collaboration", year=2011, doi="10.1000/r1",
        authors=["Author1, A.", "Second, B."], pages="1-10", position=13, duplicate_of=r[1],
    )  # fmt: skip
    Record.objects.filter(pk=r[9].pk).update(duplicate_of=r[2])
    found = {medline: range(1, 7), hmic: (13, 7, 8, 9), website: (10, 11), citation: (12,)}
    for search, numbers in found.items():
        batch = ImportBatch.objects.create(
            review=review, search=search, filename=f"{search.pk}.ris", format="ris",
            status="done", parsed_count=len(numbers), created_count=len(numbers), created_by=rv,
        )  # fmt: skip
        batch.file.save(f"{search.pk}.ris", ContentFile(b"TY  - JOUR\nER  - \n"), save=True)
        Record.objects.filter(pk__in=[r[i].pk for i in numbers]).update(batch=batch)

    ta = ScreeningStage.objects.create(
        review=review, kind="title_abstract", name="Title and abstract", order=1
    )
    ft = ScreeningStage.objects.create(
        review=review, kind="full_text", name="Full text", order=2, reason_required=True
    )
    wrong_setting = ExclusionReason.objects.create(stage=ft, label="Wrong setting", order=1)
    no_cmo = ExclusionReason.objects.create(stage=ft, label="No CMO data", order=2)

    def vote(rec, stage, who, decision, reason=None, note=""):
        ScreeningDecision.objects.create(
            record=rec, stage=stage, reviewer=who, decision=decision, reason=reason, note=note
        )

    vote(r[1], ta, rv, "include")
    vote(r[1], ta, rv2, "include")
    vote(r[2], ta, rv, "include")
    vote(r[3], ta, rv, "exclude")
    vote(r[4], ta, rv, "include")
    vote(r[4], ta, rv2, "exclude")
    ScreeningResolution.objects.create(record=r[4], stage=ta, decision="include", resolved_by=rv)
    vote(r[5], ta, rv, "maybe")  # maybe counts as include (review default)
    vote(r[6], ta, rv, "exclude")
    vote(r[6], ta, rv2, "include")  # unresolved conflict
    vote(r[8], ta, rv, "exclude", note="[automation] ranked below cut-off")
    vote(r[12], ta, rv, "exclude")
    # r7 awaits screening (ranked first by the prioritisation model).
    run = RankingRun.objects.create(review=review, stage=ta, model_name="nb", n_ranked=1)
    RecordScore.objects.create(stage=ta, record=r[7], score=0.8, rank=1, terms=["trust"])
    assert run.pk
    Record.objects.filter(pk=r[5].pk).update(fulltext_status="not_retrieved")
    Record.objects.filter(pk__in=[r[1].pk, r[2].pk, r[4].pk, r[10].pk]).update(
        fulltext_status="retrieved"
    )
    Record.objects.filter(pk=r[11].pk).update(fulltext_status="not_retrieved")
    vote(r[1], ft, rv, "include")
    vote(r[2], ft, rv, "exclude", reason=wrong_setting)
    vote(r[4], ft, rv, "exclude", reason=no_cmo)
    vote(r[10], ft, rv, "include")

    study_a = Study.objects.create(
        review=review, label="Mervyn et al. 2019", year=2019, phase=phase1
    )
    study_b = Study.objects.create(review=review, label="Smith 2015", year=2015, kind="case_study")
    study_c = Study.objects.create(
        review=review, label="Interview P1", kind="interview", phase=phase2
    )
    Record.objects.filter(pk=r[1].pk).update(study=study_a)
    Record.objects.filter(pk=r[10].pk).update(study=study_b)
    participant = Participant.objects.create(review=review, code="P1", role="Manager")

    text_a = "Page one text. Trust grew when partners shared goals.\fPage two: engagement rose."
    doc_a = Document.objects.create(
        review=review, study=study_a, record=r[1], title="Mervyn full text", text=text_a,
        page_map=[0, text_a.index("\f") + 1], content_type="text/plain", uploaded_by=rv,
    )  # fmt: skip
    doc_a.file.save("mervyn.txt", ContentFile(text_a.encode()), save=True)
    doc_b = Document.objects.create(
        review=review, study=study_b, record=r[10], title="Smith case study",
        text="Shared goals built trust between the organisations.",
    )  # fmt: skip
    doc_c = Document.objects.create(
        review=review, study=study_c, participant=participant, kind="transcript",
        title="Interview P1 transcript", text="We never trusted them, engagement dropped.",
    )  # fmt: skip
    e1 = Excerpt.objects.create(
        review=review, document=doc_a, text="Trust grew when partners shared goals.", page=1,
        start=15, end=53, coder=rv,
    )  # fmt: skip
    e2 = Excerpt.objects.create(
        review=review, document=doc_b, text="Shared goals built trust", start=0, end=24, coder=rv
    )
    e3 = Excerpt.objects.create(
        review=review, document=doc_c, text="engagement dropped", start=25, end=43, coder=rv
    )
    trust = Concept.objects.create(review=review, label="Trust", mechanism_type="reasoning")
    goals = Concept.objects.create(review=review, label="Shared goals")
    engagement = Concept.objects.create(review=review, label="Engagement", parent=trust)
    c1 = CMOC.objects.create(
        review=review, code="C1", phase=phase1, statement="Shared goals build trust, raising engagement.",
        context="Partners share goals", mechanism_resource="Joint planning",
        mechanism_reasoning="Partners trust each other", outcome="Engagement rises",
        origin="stated", relation="affirms", source_count=2, created_by=rv,
    )  # fmt: skip
    c2 = CMOC.objects.create(
        review=review, code="C2", phase=phase2, statement="Engagement sustains trust.",
        context="Engaged partners", outcome="Trust is kept", relation="refines", prior=c1,
        source_count=1,
    )  # fmt: skip
    CMOCElement.objects.create(cmoc=c1, role="context", concept=goals, direction="increase")
    CMOCElement.objects.create(cmoc=c1, role="mechanism", concept=trust, direction="increase")
    CMOCElement.objects.create(cmoc=c1, role="outcome", concept=engagement, direction="increase")
    CMOCElement.objects.create(cmoc=c2, role="context", concept=engagement, direction="increase")
    CMOCElement.objects.create(cmoc=c2, role="outcome", concept=trust, direction="increase")
    CMOCEvidence.objects.create(cmoc=c1, excerpt=e1, added_by=rv)
    CMOCEvidence.objects.create(cmoc=c1, excerpt=e2, added_by=rv)
    CMOCEvidence.objects.create(cmoc=c2, excerpt=e3, stance="contradicts", added_by=rv)
    CMOCComment.objects.create(cmoc=c1, author=rv2, text="Is trust the mechanism here?")
    link = CMOCLink.objects.create(review=review, source=c1, target=c2, created_by=rv)
    link.evidence.add(e1)
    mrt = MiddleRangeTheory.objects.create(review=review, name="Social exchange theory")
    c1.middle_range_theories.add(mrt)
    dr = DemiRegularity.objects.create(
        review=review, label="Trust loop", summary="Trust ↔ engagement"
    )
    dr.cmocs.add(c1, c2)
    TheoryVersion.objects.create(
        review=review, number=1, label="Initial rough theory", kind="initial",
        snapshot={"cmocs": [c1.code]}, created_by=rv,
    )  # fmt: skip
    Appraisal.objects.create(
        review=review, study=study_a, appraiser=rv, relevance="high", rigour="moderate",
        verdict="include",
    )  # fmt: skip
    Appraisal.objects.create(review=review, cmoc=c1, appraiser=rv2, relevance="high")
    form = ExtractionForm.objects.create(review=review)
    country = ExtractionField.objects.create(form=form, key="country", label="Country", order=1)
    sector = ExtractionField.objects.create(
        form=form, key="sector", label="Sector", type="multi_choice", order=2,
        choices=["Health", "Social care"],
    )  # fmt: skip
    ExtractionAnswer.objects.create(study=study_a, field=country, extractor=rv, value="UK")
    ExtractionAnswer.objects.create(study=study_a, field=country, extractor=rv2, value="England")
    ExtractionAnswer.objects.create(
        study=study_a, field=sector, extractor=rv, value=["Health", "Social care"]
    )
    ExtractionAnswer.objects.create(
        study=study_b, field=country, extractor=rv, value="Canada", is_consensus=True
    )
    ExtractionAnswer.objects.create(study=study_b, field=country, extractor=rv2, value="CA")
    event_record(review=review, actor=rv, verb="cmoc.create", target=c1, summary="C1")
    return {
        "records": r, "stages": (ta, ft), "studies": (study_a, study_b, study_c),
        "documents": (doc_a, doc_b, doc_c), "excerpts": (e1, e2, e3),
        "concepts": (trust, goals, engagement), "cmocs": (c1, c2),
        "searches": (medline, hmic, website, citation),
    }  # fmt: skip

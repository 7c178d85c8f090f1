"""Data and a counter for the query-count tests of list pages and endpoints.

`review_with_rows(review, users, n)` is the reporting tests' small review (`build`) plus `n`
more of every row a list shows, each with the relations a page could fetch row by row:
searches with imports and records, votes at both stages by two reviewers (with conflicts and
resolutions), other reviews of the owner, duplicate pairs (pending, merged, not duplicates), studies with reports,
documents, transcripts, participants, excerpts, concepts, CMOCs with elements, evidence,
comments, links, theories and demi-regularities, appraisals at three levels, extraction forms
and answers, export jobs and events; then one programme theory version of it all. A test
builds it at two sizes and asserts the same pinned number of queries."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cmoc import selectors_theory
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
    DuplicateCandidate,
    ExtractionAnswer,
    ExtractionField,
    ExtractionForm,
    ImportBatch,
    Participant,
    Record,
    RecordScore,
    ScreeningDecision,
    ScreeningResolution,
    Search,
    Study,
)
from synthesis.models import Job, Membership, Phase, Review, ReviewEvent
from tests.synthesis.reporting_data import build

SIZES = [3, 30]
STAGE_COUNTS = [2, 4]  # screening stages: figures counted per stage cost the same at both


def review_with_rows(review, users, n: int) -> dict:
    data = build(review, users)
    rv, rv2, owner = users["reviewer"], users["reviewer2"], users["owner"]
    ta, ft = data["stages"]
    reason = ft.reasons.first()
    trust, goals, engagement = data["concepts"]
    phase = review.phases.order_by("order").first()
    form = ExtractionForm.objects.get(review=review)
    mrt = MiddleRangeTheory.objects.create(review=review, name="Grown theory")
    dr = DemiRegularity.objects.create(review=review, label="Grown demi-regularity")
    first_cmoc = data["cmocs"][0]
    prev = first_cmoc
    before = selectors_theory.snapshot_build(review=review)
    for i in range(n):
        Phase.objects.create(review=review, name=f"Grown phase {i}", order=10 + i)
        other = Review.objects.create(title=f"Grown review {i:03}")
        Membership.objects.create(review=other, user=owner, role="owner")
        search = Search.objects.create(
            review=review, source=f"Database {i}", kind="database" if i % 2 else "website",
            phase=phase, run_on=dt.date(2021, 1, 1 + i % 28),
        )  # fmt: skip
        job = Job.objects.create(review=review, kind="import", func="x", created_by=rv)
        batch = ImportBatch.objects.create(
            review=review, search=search, filename=f"grown-{i}.ris", created_by=rv, job=job,
            status="done",
        )  # fmt: skip
        study = Study.objects.create(review=review, label=f"Grown study {i:03}", phase=phase)
        recs = [
            Record.objects.create(
                review=review,
                title=f"Grown record {i}-{j}",
                batch=batch,
                authors=["A, B"],
                study=study if j == 0 else None,
                position=1000 + 10 * i + j,
                fulltext_status="retrieved",
                doi=f"10.9/grown{i}-{j}",
            )  # fmt: skip
            for j in range(3)
        ]
        DuplicateCandidate.objects.create(
            review=review, record_a=recs[1], record_b=recs[2], score=0.9, batch=batch
        )
        DuplicateCandidate.objects.create(
            review=review, record_a=recs[0], record_b=recs[1], score=0.8, status="merged",
            survivor=recs[0], decided_by=owner, batch=batch,
        )  # fmt: skip
        DuplicateCandidate.objects.create(
            review=review, record_a=recs[0], record_b=recs[2], score=0.7, status="rejected",
            decided_by=rv,
        )  # fmt: skip
        for r in recs:
            ScreeningDecision.objects.create(record=r, stage=ta, reviewer=rv, decision="include")
            ScreeningDecision.objects.create(
                record=r, stage=ta, reviewer=rv2, decision="exclude" if i % 2 else "include"
            )
            if i % 2:
                ScreeningResolution.objects.create(
                    record=r, stage=ta, decision="include", resolved_by=owner
                )
            ScreeningDecision.objects.create(
                record=r, stage=ft, reviewer=rv, decision="exclude", reason=reason
            )
            ScreeningDecision.objects.create(record=r, stage=ft, reviewer=rv2, decision="include")
            RecordScore.objects.create(stage=ta, record=r, score=0.5, rank=i + 2, terms=["x"])
        participant = Participant.objects.create(review=review, code=f"G{i:03}")
        doc = Document.objects.create(
            review=review, study=study, record=recs[0], title=f"Grown report {i}",
            text="y" * 200, uploaded_by=rv, page_map=[0, 100],
        )  # fmt: skip
        Record.objects.filter(pk=recs[2].pk).update(study=data["studies"][0])
        Document.objects.create(
            review=review, study=data["studies"][0], title=f"Grown appendix {i}", text="a"
        )
        transcript = Document.objects.create(
            review=review, participant=participant, kind="transcript",
            title=f"Grown transcript {i}", text="z" * 200, uploaded_by=rv,
        )  # fmt: skip
        e1 = Excerpt.objects.create(
            review=review, document=doc, text="yyyy", start=0, end=4, page=1, coder=rv
        )
        e2 = Excerpt.objects.create(
            review=review, document=transcript, text="zzzz", start=5, end=9, coder=rv2,
            interviewee_stance="refines",
        )  # fmt: skip
        # Evidence of the first CMOC too: its detail page lists every excerpt.
        CMOCEvidence.objects.create(cmoc=first_cmoc, excerpt=e1, added_by=rv)
        concept = Concept.objects.create(review=review, label=f"Grown concept {i}", parent=trust)
        cmoc = CMOC.objects.create(
            review=review, code=f"G{i:03}", statement=f"Grown statement {i}", phase=phase,
            prior=prev, relation="refines", source_count=2, created_by=rv, checked_by=rv,
        )  # fmt: skip
        CMOCElement.objects.create(
            cmoc=cmoc, role="context", concept=engagement, direction="increase"
        )
        CMOCElement.objects.create(cmoc=cmoc, role="mechanism", concept=concept)
        CMOCElement.objects.create(cmoc=cmoc, role="outcome", concept=goals, direction="decrease")
        CMOCEvidence.objects.create(cmoc=cmoc, excerpt=e1, added_by=rv)
        # Evidence from build's first excerpt and document too: the reader and the excerpt
        # editor list them.
        CMOCEvidence.objects.create(cmoc=cmoc, excerpt=data["excerpts"][0], added_by=rv)
        start = i % 60
        Excerpt.objects.create(
            review=review, document=data["documents"][0], text="x", start=start, end=start + 5
        )
        CMOCEvidence.objects.create(cmoc=cmoc, excerpt=e2, stance="contradicts", added_by=rv)
        CMOCComment.objects.create(cmoc=cmoc, author=rv2, text="Which mechanism?")
        CMOCComment.objects.create(cmoc=first_cmoc, author=rv, text=f"Comment {i}")
        link = CMOCLink.objects.create(review=review, source=prev, target=cmoc, created_by=rv)
        link.evidence.add(e1)
        cmoc.middle_range_theories.add(mrt)
        dr.cmocs.add(cmoc)
        DemiRegularity.objects.create(review=review, label=f"Grown DR {i}").cmocs.add(cmoc)
        Appraisal.objects.create(
            review=review, study=study, appraiser=rv, relevance="high", verdict="exclude",
            exclusion_reason=reason,
        )  # fmt: skip
        # A member more, whose appraisal, vote and extraction the pages of study A, record 1
        # and C1 list among the others'.
        member = get_user_model().objects.create_user(username=f"grown{i}", password="x")
        Membership.objects.create(review=review, user=member, role="reviewer")
        Appraisal.objects.create(review=review, study=data["studies"][0], appraiser=member)
        Appraisal.objects.create(review=review, cmoc=first_cmoc, appraiser=member)
        ScreeningDecision.objects.create(
            record=data["records"][1], stage=ta, reviewer=member, decision="include"
        )
        ExtractionAnswer.objects.create(
            study=data["studies"][0], field=form.fields.first(), extractor=member, value="UK"
        )
        a = Appraisal.objects.create(review=review, excerpt=e1, appraiser=rv2, relevance="low")
        a.informs_cmocs.add(cmoc)
        Appraisal.objects.create(review=review, cmoc=cmoc, appraiser=rv, rigour="high")
        grown_form = ExtractionForm.objects.create(review=review, name=f"Grown form {i}")
        for j, f in enumerate([form, grown_form]):
            field = ExtractionField.objects.create(
                form=f, key=f"grown-{i}-{j}", label=f"Grown field {i}", order=10 + i
            )
            for s, who in [(study, rv), (study, rv2), (data["studies"][0], rv)]:
                ExtractionAnswer.objects.create(study=s, field=field, extractor=who, value="x")
        for who in (rv, owner):
            Job.objects.create(
                review=review, kind="export", func="x", created_by=who, params={"what": "cmocs"}
            )
        ReviewEvent.objects.create(review=review, actor=rv2, verb="cmoc.create", summary=f"{i}")
        prev = cmoc
    # Version 1 before the rows grew (build's snapshot is a stub), version 2 after.
    TheoryVersion.objects.filter(review=review, number=1).update(snapshot=before)
    TheoryVersion.objects.create(
        review=review, number=2, label="Grown", kind="refined", created_by=rv,
        snapshot=selectors_theory.snapshot_build(review=review),
    )  # fmt: skip
    data["dr"] = dr
    return data


def count_queries(client, url: str, **extra) -> tuple[int, int, str]:
    """(status, queries, body) of one GET, with cold caches and a streamed body read to its
    end inside the count."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, **extra)
        if getattr(resp, "streaming", False):
            body = b"".join(resp.streaming_content)
        else:
            body = resp.content
    return resp.status_code, len(ctx.captured_queries), body.decode(errors="replace")


def measure(client, pages: dict) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """({name: (status, queries)}, {name: body}) for {name: url or (url, headers)}."""
    counts, bodies = {}, {}
    for name, page in pages.items():
        url, extra = page if isinstance(page, tuple) else (page, {})
        status, queries, bodies[name] = count_queries(client, url, **extra)
        counts[name] = (status, queries)
    return counts, bodies

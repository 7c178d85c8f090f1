"""Reads for reporting, the API and exports, always scoped to one review."""

from django.db.models import (
    CharField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)

from cmoc.models import CMOC, CMOCElement, CMOCEvidence, CMOCLink, Role
from studies.models import ScreeningDecision, ScreeningResolution
from synthesis.models import Phase, Review


def cmoc_export_queryset(*, review: Review, study_id: int | None = None) -> QuerySet[CMOC]:
    """CMOCs with everything the CMOC table shows, in code order, for chunked iteration."""
    qs = CMOC.objects.filter(review=review)
    if study_id is not None:
        qs = qs.filter(
            pk__in=CMOCEvidence.objects.filter(excerpt__document__study_id=study_id).values(
                "cmoc_id"
            )
        )
    return (
        qs.select_related("phase", "prior")
        .prefetch_related(
            Prefetch(
                "elements",
                queryset=CMOCElement.objects.select_related("concept").order_by("role", "id"),
            ),
            Prefetch(
                "evidence",
                queryset=CMOCEvidence.objects.select_related(
                    "excerpt__document__study", "excerpt__document__participant"
                ).order_by("stance", "excerpt__document__title", "excerpt__start"),
            ),
        )
        .order_by("code")
    )


# Columns of a CMOC as the API shows it (relations come from `cmoc_api_relations`).
CMOC_API_COLUMNS = (
    "id", "code", "phase_id", "phase_name", "statement", "context", "mechanism_resource",
    "mechanism_reasoning", "outcome", "origin", "relation", "prior_id", "confidence", "theme",
    "tags", "source_count", "checked", "version", "created_at", "updated_at",
)  # fmt: skip


def cmoc_api_queryset(*, review: Review) -> QuerySet[CMOC]:
    """CMOCs for the API list: plain rows in code order, which the filters and the cursor
    narrow down before `.values(*CMOC_API_COLUMNS)` fetches one page."""
    # The phase name as a scalar subquery, not a join: with a join SQLite's planner starts
    # from the phase table and sorts every matching CMOC instead of walking (review, code).
    phase_name = Phase.objects.filter(pk=OuterRef("phase_id")).values("name")[:1]
    return (
        CMOC.objects.filter(review=review)
        .annotate(phase_name=Subquery(phase_name, output_field=CharField()))
        .order_by("code")
    )


def cmoc_api_relations(cmoc_ids: list[int]) -> tuple[dict[int, list], dict[int, list]]:
    """Elements and evidence of one page of CMOCs as plain tuples, two queries: model
    instances and nested serializers cost more than the queries themselves at 100 per page."""
    elements: dict[int, list] = {}
    for row in (
        CMOCElement.objects.filter(cmoc_id__in=cmoc_ids)
        .order_by("cmoc_id", "role", "id")
        .values_list("cmoc_id", "role", "concept_id", "concept__label", "direction")
    ):
        elements.setdefault(row[0], []).append(row)
    evidence: dict[int, list] = {}
    for row in (
        CMOCEvidence.objects.filter(cmoc_id__in=cmoc_ids)
        .order_by("cmoc_id", "stance", "excerpt__document__title", "excerpt__start")
        .values_list(
            "cmoc_id",
            "id",
            "excerpt_id",
            "stance",
            "note",
            "excerpt__text",
            "excerpt__page",
            "excerpt__start",
            "excerpt__end",
            "excerpt__document_id",
            "excerpt__document__study_id",
            "excerpt__document__study__label",
            "excerpt__document__participant__code",
            "excerpt__document__title",
        )  # fmt: skip
    ):
        evidence.setdefault(row[0], []).append(row)
    return elements, evidence


CHAIN_COMPUTED = "concept"  # the `kind` of a chain row computed from shared concepts


def chains(
    *, review: Review, concept_id: int | None = None, cmoc_id: int | None = None,
    kind: str | None = None,
):  # fmt: skip
    """Chain links between CMOCs, one row per (source, target, shared concept) for computed
    links — the outcome concept of one CMOC is a context concept of another (seed Fig. 14) —
    plus one row per link a reviewer asserted (`CMOCLink`, no concept), in one UNION query.
    `kind` is "concept" for computed rows, else the asserted link's kind."""
    computed = (
        CMOCElement.objects.filter(
            cmoc__review=review, role=Role.OUTCOME, concept__elements__role=Role.CONTEXT
        )
        .annotate(dst=F("concept__elements__cmoc_id"))
        .exclude(dst=F("cmoc_id"))
    )
    asserted = CMOCLink.objects.filter(review=review)
    if concept_id is not None:
        computed = computed.filter(concept_id=concept_id)
        asserted = asserted.none()
    if cmoc_id is not None:
        computed = computed.filter(Q(cmoc_id=cmoc_id) | Q(dst=cmoc_id))
        asserted = asserted.filter(Q(source_id=cmoc_id) | Q(target_id=cmoc_id))
    if kind == CHAIN_COMPUTED:
        asserted = asserted.none()
    elif kind:
        computed, asserted = computed.none(), asserted.filter(kind=kind)
    none_int = Value(None, output_field=IntegerField())
    # Every column is named the same in both halves and listed in the same order, so the
    # UNION lines up on SQLite and PostgreSQL; the names avoid the models' own field names.
    computed = computed.order_by().values(
        src=F("cmoc_id"), src_code=F("cmoc__code"), dst_id=F("dst"),
        dst_code=F("concept__elements__cmoc__code"), concept_ref=F("concept_id"),
        concept_name=F("concept__label"), outcome_direction=F("direction"),
        context_direction=F("concept__elements__direction"),
        link_kind=Value(CHAIN_COMPUTED, output_field=CharField()), link=none_int,
        link_note=Value("", output_field=TextField()),
    )  # fmt: skip
    asserted = asserted.order_by().values(
        src=F("source_id"), src_code=F("source__code"), dst_id=F("target_id"),
        dst_code=F("target__code"), concept_ref=none_int,
        concept_name=Value(None, output_field=CharField()),
        outcome_direction=Value(None, output_field=CharField()),
        context_direction=Value(None, output_field=CharField()), link_kind=F("kind"),
        link=F("id"), link_note=F("note"),
    )  # fmt: skip
    return computed.union(asserted, all=True).order_by(
        "src_code", "dst_code", "link_kind", "concept_name"
    )


# ---- PRISMA 2020 counts ---------------------------------------------------------------

AUTOMATION_MARK = "automation"  # a vote whose note or reason mentions it was cast by a tool


def _final_decisions(review: Review, stage_ids: list[int]) -> tuple[dict, set, dict]:
    """Per record: the final decision at the given stages (resolution first, else agreeing
    votes; conflicting votes give None), the records decided by automation, and the reason
    label of a final exclusion."""
    from studies.models import Decision

    maybe_as = {"include": Decision.INCLUDE, "exclude": Decision.EXCLUDE}.get(
        review.maybe_counts_as, "maybe"
    )
    votes: dict[int, set] = {}
    reasons: dict[int, str] = {}
    automated: set[int] = set()
    for record_id, decision, note, reason in ScreeningDecision.objects.filter(
        stage_id__in=stage_ids
    ).values_list("record_id", "decision", "note", "reason__label"):
        if decision == Decision.MAYBE:
            decision = maybe_as
        votes.setdefault(record_id, set()).add(decision)
        if decision == Decision.EXCLUDE and reason:
            reasons.setdefault(record_id, reason)
        if AUTOMATION_MARK in (note or "").lower() or AUTOMATION_MARK in (reason or "").lower():
            automated.add(record_id)
    final = {rid: (next(iter(v)) if len(v) == 1 else None) for rid, v in votes.items()}
    for record_id, decision, reason in ScreeningResolution.objects.filter(
        stage_id__in=stage_ids
    ).values_list("record_id", "decision", "reason__label"):
        final[record_id] = maybe_as if decision == Decision.MAYBE else decision
        if reason:
            reasons[record_id] = reason
    return final, automated, reasons


def prisma_counts(*, review: Review) -> dict:
    """Gather the PRISMA 2020 counts (see `synthesis.prisma`) from the review's data.

    Arms: a record (with its merged duplicates) belongs to the databases/registers arm when
    any database or register search found it, otherwise to the other-methods arm.
    """
    from studies.models import Record, ScreeningStage, Search

    searches = list(
        Search.objects.filter(review=review).values_list("id", "kind", "source", "reported_hits")
    )
    kinds = {sid: kind for sid, kind, _, _ in searches}
    sources = {sid: source for sid, _, source, _ in searches}
    records = {
        rid: (dup, status, study)
        for rid, dup, status, study in Record.objects.filter(review=review).values_list(
            "id", "duplicate_of_id", "fulltext_status", "study_id"
        )
    }

    def survivor(rid: int) -> int:
        seen = set()
        while records[rid][0] is not None and rid not in seen:
            seen.add(rid)
            rid = records[rid][0]
        return rid

    hits: list[tuple[int, int]] = list(
        Record.objects.filter(review=review, batch__isnull=False).values_list(
            "id", "batch__search_id"
        )
    )
    db_survivors: set[int] = set()
    for rid, sid in hits:
        if kinds[sid] in Search.DATABASE_ARM:
            db_survivors.add(survivor(rid))
    survivors = {rid for rid in records if records[rid][0] is None}
    other_survivors = survivors - db_survivors

    buckets = {
        "database": "databases", "register": "registers", "website": "websites",
        "organisation": "organisations", "citation": "citations",
        "reference_scanning": "citations", "other": "other_sources",
    }  # fmt: skip
    c: dict = {k: {} for k in set(buckets.values())}
    db_hits = 0
    found_other: set[int] = set()
    for rid, sid in hits:
        bucket = buckets.get(kinds[sid], "other_sources")
        if kinds[sid] in Search.DATABASE_ARM:
            db_hits += 1
        elif survivor(rid) in db_survivors or survivor(rid) in found_other:
            continue  # already counted by a database search or another other-method search
        else:
            found_other.add(survivor(rid))
        c[bucket][sources[sid]] = c[bucket].get(sources[sid], 0) + 1
    # PRISMA's databases arm counts imported records: a database search whose export was never
    # imported reads as zero there, which the reviewer should hear about.
    searched = {sid for _, sid in hits}
    unimported: dict[str, int] = {}  # source: reported hits
    for sid, kind, source, n in searches:
        if kind in Search.DATABASE_ARM and n and sid not in searched:
            unimported[source] = unimported.get(source, 0) + n
    c["unimported_searches"] = unimported
    unsourced = other_survivors - found_other
    if unsourced:
        c["other_sources"]["No search recorded"] = len(unsourced)

    stages = ScreeningStage.objects.filter(review=review)
    ta_ids = [s.pk for s in stages if s.kind == ScreeningStage.Kind.TITLE_ABSTRACT]
    ft_ids = [s.pk for s in stages if s.kind == ScreeningStage.Kind.FULL_TEXT]
    ta, automated, _ = _final_decisions(review, ta_ids)
    ft, _, ft_reasons = _final_decisions(review, ft_ids)
    ta_voted = set(ta)

    def arm_counts(arm: set[int], prefix: str) -> None:
        sought = {r for r in arm if ta.get(r) == "include"}
        if prefix == "other":  # other methods usually go straight to full text
            sought |= {r for r in arm if records[r][1] or r in ft}
        not_retrieved = {r for r in sought if records[r][1] == Record.FullTextStatus.NOT_RETRIEVED}
        assessed = {r for r in arm if ft.get(r) in ("include", "exclude")}
        excluded: dict[str, int] = {}
        for r in arm:
            if ft.get(r) == "exclude":
                label = ft_reasons.get(r, "No reason given")
                excluded[label] = excluded.get(label, 0) + 1
        c[f"{prefix}_sought"] = len(sought)
        c[f"{prefix}_not_retrieved"] = len(not_retrieved)
        c[f"{prefix}_assessed"] = len(assessed)
        c[f"{prefix}_undecided_fulltext"] = len(sought - not_retrieved - assessed)
        c[f"{prefix}_excluded"] = dict(sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])))
        c[f"{prefix}_included"] = sum(1 for r in arm if ft.get(r) == "include")

    auto = {r for r in db_survivors if r in automated and ta.get(r) == "exclude"}
    screened = (db_survivors & ta_voted) - auto
    c["duplicates"] = db_hits - len(db_survivors)
    c["automation_excluded"] = len(auto)
    c["other_removed"] = 0
    c["records_screened"] = len(screened)
    c["records_excluded"] = sum(1 for r in screened if ta[r] == "exclude")
    c["undecided_screening"] = sum(1 for r in screened if ta[r] not in ("include", "exclude"))
    c["awaiting_screening"] = len(db_survivors - ta_voted - auto)
    arm_counts(db_survivors, "dbr")
    arm_counts(other_survivors, "other")
    c["other_excluded_at_screening"] = sum(
        1 for r in other_survivors if ta.get(r) == "exclude" and r not in ft
    )
    included = [r for r in survivors if ft.get(r) == "include"]
    c["new_reports"] = len(included)
    c["new_studies"] = len({records[r][2] for r in included if records[r][2]})
    c["reports_without_study"] = sum(1 for r in included if not records[r][2])
    return c


def rameses_facts(*, review: Review) -> dict:
    """What the data can say for the RAMESES checklists (see `synthesis.rameses`)."""
    from django.db.models import Count

    from cmoc.models import Concept, Excerpt, TheoryVersion
    from studies.models import (
        Appraisal,
        ExtractionField,
        Participant,
        ScreeningStage,
        Search,
        Study,
    )
    from synthesis import prisma

    searches = list(Search.objects.filter(review=review).order_by("run_on", "id"))
    stages = list(ScreeningStage.objects.filter(review=review).order_by("order"))
    versions = list(TheoryVersion.objects.filter(review=review).order_by("number"))
    cmocs = CMOC.objects.filter(review=review)
    phases = list(review.phases.order_by("order"))
    first_phase = phases[0] if phases else None
    relation_labels = dict(CMOC.Relation.choices)
    relations = cmocs.values("relation").annotate(n=Count("id")).order_by("-n")
    kind_labels = dict(Study.Kind.choices)
    kinds = (
        Study.objects.filter(review=review).values("kind").annotate(n=Count("id")).order_by("-n")
    )
    flow = prisma.flow(prisma_counts(review=review))
    c = flow.counts
    from synthesis.exports import agreement_rows

    agreement = agreement_rows(review)
    return {
        "title": review.title,
        "question": review.question,
        "n_versions": len(versions),
        "versions": "; ".join(f"v{v.number} {v.label} ({v.get_kind_display()})" for v in versions),
        "first_phase": first_phase.name if first_phase else "",
        "n_initial_cmocs": cmocs.filter(phase=first_phase).count() if first_phase else 0,
        "n_searches": len(searches),
        "search_sources": "; ".join(
            f"{s.source}" + (f" ({s.run_on:%d %b %Y})" if s.run_on else "") for s in searches
        ),
        "stages": "; ".join(s.name for s in stages),
        "n_appraisals": Appraisal.objects.filter(review=review).count(),
        "agreement": "; ".join(
            f"{r[0]}: {r[1]} vs {r[2]} on {r[3]} records, {r[5]} % agreement, κ = {r[6]}"
            for r in agreement
            if r[2]  # the pairs, not the "All pairs" summary row
        ),
        "extraction_fields": ", ".join(
            ExtractionField.objects.filter(form__review=review, form__is_current=True)
            .order_by("form__name", "order")
            .values_list("label", flat=True)
        ),
        "n_cmocs": cmocs.count(),
        "n_supported": cmocs.filter(source_count__gte=2).count(),
        "n_excerpts": Excerpt.objects.filter(review=review).count(),
        "n_concepts": Concept.objects.filter(review=review).count(),
        "n_chains": chains(review=review, kind=CHAIN_COMPUTED).count(),
        "n_asserted_links": CMOCLink.objects.filter(review=review).count(),
        "relations": ", ".join(
            f"{relation_labels.get(r['relation'], r['relation'])} {r['n']}" for r in relations
        ),
        "prisma": (
            f"{c['dbr_identified'] + c['other_identified']} records identified,"
            f" {c['records_screened']} screened, {c['dbr_assessed'] + c['other_assessed']}"
            f" full texts assessed, {c['new_studies']} studies included"
            if c["dbr_identified"] + c["other_identified"]
            else ""
        ),
        "n_studies": Study.objects.filter(review=review).count(),
        "study_kinds": ", ".join(
            f"{kind_labels.get(k['kind'], k['kind'])} {k['n']}" for k in kinds
        ),
        "n_participants": Participant.objects.filter(review=review).count(),
    }

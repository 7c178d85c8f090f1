"""The demo review, built as data from the seed report (Millar et al. 2023, HSDR 11(6)).

The JSON in fixtures/demo/ was extracted from the report (fixtures/tools/build_demo.py);
this module turns it into one review. Loading is idempotent: an existing demo review is left
as it is unless `reset=True`.

Bulk seeding writes through the ORM in one transaction rather than through the per-action
services: those check the permissions of a person acting in the UI, and the demo is created
by the system before any member exists. One audit event records the load. Once the members
exist, the reference list is imported and the screening votes cast through the services, as
the reviewers would (each import and vote audited).
"""

import json
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import transaction

from cmoc.models import CMOC, CMOCElement, CMOCEvidence, Concept, Excerpt
from studies.models import (
    Document,
    ExclusionReason,
    ExtractionAnswer,
    ExtractionField,
    ExtractionForm,
    Participant,
    Record,
    ScreeningStage,
    Search,
    Study,
)
from synthesis.audit import event_record
from synthesis.models import Membership, Phase, Review, Role
from synthesis.services import user_get_or_create

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"
DEMO_PASSWORD = "retroduce-demo"
DEMO_USERS = [
    # username, full name, role
    ("olivia", "Olivia Owner", Role.OWNER),
    ("rita", "Rita Reviewer", Role.REVIEWER),
    ("ravi", "Ravi Reviewer", Role.REVIEWER),
    ("ana", "Ana Analyst", Role.ANALYST),
]
STUDY_KINDS = {k for k, _ in Study.Kind.choices}
EXTRA_STUDY_KINDS = {"briefing": Study.Kind.GREY}


def _load(name: str):
    with open(DEMO_DIR / name, encoding="utf-8") as f:
        return json.load(f)


def _users():
    users = {}
    for username, full_name, _role in DEMO_USERS:
        first, last = full_name.split(" ", 1)
        users[username] = user_get_or_create(
            username=username, password=DEMO_PASSWORD, first_name=first, last_name=last
        )
    return users


def demo_review() -> Review | None:
    meta = _load("review.json")
    return Review.objects.filter(title=meta["title"]).first()


@transaction.atomic
def demo_load(*, reset: bool = False) -> tuple[Review, bool]:
    """Create the demo review. Returns (review, created)."""
    users = _users()
    meta = _load("review.json")
    existing = Review.objects.filter(title=meta["title"]).first()
    if existing and not reset:
        for username, _, role in DEMO_USERS:
            Membership.objects.get_or_create(
                review=existing, user=users[username], defaults={"role": role}
            )
        return existing, False
    if existing:
        existing.delete()

    owner = users["olivia"]
    review = Review.objects.create(
        title=meta["title"],
        question=meta.get("question", ""),
        registration=meta.get("registration", ""),
        description=meta.get("citation", ""),
        dual_fraction=0.1,
        highlight_include_terms="\n".join(
            ["collaboration", "partnership", "merger", "network", "alliance", "integration"]
        ),
        highlight_exclude_terms="\n".join(["patient-provider", "protocol", "editorial"]),
        created_by=owner,
    )
    for username, _, role in DEMO_USERS:
        Membership.objects.create(review=review, user=users[username], role=role)

    phases = {
        p["name"]: Phase.objects.create(
            review=review,
            name=p["name"],
            order=p.get("order", 1),
            description=p.get("description", ""),
        )
        for p in meta.get("phases", [])
    }

    for s in _load("searches.json"):
        Search.objects.create(
            review=review,
            phase=phases.get(s.get("phase") or ""),
            source=s["source"],
            kind=s.get("kind") or Search.Kind.OTHER,
            run_on=s.get("run_on") or None,
            query=s.get("query") or "",
            limits=s.get("limits") or "",
            reported_hits=s.get("reported_hits"),
            notes=s.get("notes") or "",
        )

    ta = ScreeningStage.objects.create(
        review=review,
        kind=ScreeningStage.Kind.TITLE_ABSTRACT,
        name="Title and abstract",
        order=1,
        inclusion_criteria=meta.get("inclusion_criteria", ""),
        exclusion_criteria=meta.get("exclusion_criteria", ""),
    )
    ft = ScreeningStage.objects.create(
        review=review,
        kind=ScreeningStage.Kind.FULL_TEXT,
        name="Full text",
        order=2,
        inclusion_criteria=meta.get("inclusion_criteria", ""),
        exclusion_criteria=meta.get("exclusion_criteria", ""),
        reason_required=True,
    )
    for stage in (ta, ft):
        ExclusionReason.objects.bulk_create(
            ExclusionReason(stage=stage, label=label[:200], order=i)
            for i, label in enumerate(meta.get("exclusion_reasons", []), start=1)
        )

    concepts = _load_concepts(review)
    studies = _load_studies(review, phases, owner)
    _load_cmocs(review, phases, concepts, owner)
    _load_participants(review)
    _load_mervyn_document(review, studies, users["rita"])
    _build_versions(review, owner)
    _import_reference_list(review, owner)
    _screen(review, ta, ft, users)
    event_record(
        review=review, actor=owner, verb="demo.load", target=review,
        summary="Demo review loaded from the seed report",
    )  # fmt: skip
    return review, True


def _load_concepts(review: Review) -> dict[str, Concept]:
    rows = _load("concepts.json")
    by_label: dict[str, Concept] = {}
    for row in rows:
        key = row["label"].lower()
        if key in by_label:
            continue
        by_label[key] = Concept.objects.create(
            review=review,
            label=row["label"],
            description=row.get("description") or "",
            synonyms=row.get("synonyms") or [],
            mechanism_type=row.get("mechanism_type") or "",
            source=(row.get("source") or "")[:100],
        )
    for row in rows:
        parent = row.get("parent")
        if parent and parent.lower() in by_label:
            c = by_label[row["label"].lower()]
            c.parent = by_label[parent.lower()]
            c.save(update_fields=["parent"])
    return by_label


def _load_studies(review: Review, phases: dict, owner) -> dict[str, Study]:
    rows = _load("studies.json")
    # Several grey-literature items share a citation label (e.g. five "Community Network
    # 2020" briefings); suffix them a, b, c… as a reference list would.
    counts = Counter(r["label"] for r in rows)
    seen: Counter = Counter()
    form = ExtractionForm.objects.create(review=review, name="Study characteristics", version=1)
    fields = []
    for i, f in enumerate(_load("characteristics_form.json"), start=1):
        fields.append(
            ExtractionField.objects.create(
                form=form,
                key=f["key"],
                label=f["label"],
                type=f.get("type", "short_text"),
                choices=f.get("choices") or [],
                help_text=f.get("help") or "",
                required=bool(f.get("required")),
                order=i,
            )
        )
    studies: dict[str, Study] = {}
    answers = []
    for pos, row in enumerate(rows, start=1):
        label = row["label"]
        if counts[label] > 1:
            label = f"{label}{'abcdefghijklmnopqrstuvwxyz'[seen[row['label']]]}"
            seen[row["label"]] += 1
        kind = EXTRA_STUDY_KINDS.get(row.get("kind"), row.get("kind"))
        phase_name = "Theory gleaning"
        if (
            "refinement" in (row.get("phase_of_use") or "").lower()
            and "gleaning" not in (row.get("phase_of_use") or "").lower()
        ):
            phase_name = "Theory refinement"
        study = Study.objects.create(
            review=review,
            label=label,
            title=row.get("title") or "",
            year=row.get("year"),
            kind=kind if kind in STUDY_KINDS else Study.Kind.OTHER,
            phase=phases.get(phase_name),
        )
        studies[row["key"]] = study
        authors = [a.strip() for a in (row.get("authors") or "").split(",") if a.strip()]
        Record.objects.create(
            review=review,
            study=study,
            title=row.get("title") or label,
            authors=authors,
            year=row.get("year"),
            journal=row.get("journal") or "",
            doi=(row.get("doi") or "").lower(),
            url=row.get("url") or "",
            raw={"reference": row.get("reference_text", "")},
            fulltext_status=Record.FullTextStatus.RETRIEVED,
            position=pos,
        )
        for field in fields:
            value = row.get(field.key)
            if field.key == "study":
                value = label
            if value in (None, ""):
                continue
            answers.append(ExtractionAnswer(study=study, field=field, extractor=owner, value=value))
    ExtractionAnswer.objects.bulk_create(answers)
    from studies.services.screening import record_keys_assign

    record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed)
    return studies


def _load_cmocs(review: Review, phases: dict, concepts: dict[str, Concept], owner) -> None:
    rows = _load("cmocs.json")
    by_code: dict[str, CMOC] = {}
    for row in rows:
        relation = row.get("relation") or ""
        by_code[row["code"]] = CMOC.objects.create(
            review=review,
            code=row["code"],
            phase=phases.get(row.get("phase") or ""),
            statement=row["statement"],
            context=row.get("context") or "",
            mechanism_resource=row.get("mechanism_resource") or "",
            mechanism_reasoning=row.get("mechanism_reasoning") or "",
            outcome=row.get("outcome") or "",
            origin=CMOC.Origin.STATED if row.get("stated") == "stated" else CMOC.Origin.INFERRED,
            relation=relation if relation in CMOC.Relation.values else "",
            theme=(row.get("theme") or "")[:200],
            created_by=owner,
        )
    elements, seen = [], set()
    for row in rows:
        cmoc = by_code[row["code"]]
        if row.get("prior_code") in by_code:
            cmoc.prior = by_code[row["prior_code"]]
            cmoc.save(update_fields=["prior"])
        for el in row.get("elements", []):
            concept = concepts.get(el["concept"].lower())
            if concept is None:
                concept = Concept.objects.create(review=review, label=el["concept"])
                concepts[el["concept"].lower()] = concept
            key = (cmoc.pk, el["role"], concept.pk)
            if key in seen:
                continue
            seen.add(key)
            elements.append(
                CMOCElement(
                    cmoc=cmoc, role=el["role"], concept=concept, direction=el.get("direction") or ""
                )
            )
    CMOCElement.objects.bulk_create(elements)


def _load_participants(review: Review) -> None:
    seen = set()
    for row in _load("participants.json"):
        code = str(row["code"])
        if code in seen:
            continue
        seen.add(code)
        notes = row.get("table_cell") or ""
        Participant.objects.create(
            review=review,
            code=code,
            role=(row.get("role") or "")[:200],
            case=(row.get("case") or "")[:200],
            organisation_type=(row.get("organisation_type") or "")[:200],
            interview_phase=(row.get("interview_phase") or "")[:120],
            notes=notes,
        )


def _load_mervyn_document(review: Review, studies: dict[str, Study], coder) -> None:
    study = studies.get("mervyn2019")
    if study is None:
        return
    text = (DEMO_DIR / "mervyn2019.txt").read_text(encoding="utf-8")
    document = Document.objects.create(
        review=review,
        study=study,
        record=study.records.first(),
        kind=Document.Kind.FULL_TEXT,
        title="Mervyn, Amoo & Malby 2019 — accepted manuscript (full text)",
        content_type="text/plain",
        text=text,
        page_map=[0],
        uploaded_by=coder,
    )
    cmocs = {c.code: c for c in CMOC.objects.filter(review=review)}
    for row in _load("excerpts.json"):
        start = text.find(row["text"])
        cmoc = cmocs.get(row.get("cmoc_code"))
        if start < 0 or cmoc is None:
            continue
        excerpt = Excerpt.objects.create(
            review=review,
            document=document,
            text=row["text"],
            page=1,
            start=start,
            end=start + len(row["text"]),
            note=row.get("note") or "",
            coder=coder,
        )
        CMOCEvidence.objects.get_or_create(
            cmoc=cmoc,
            excerpt=excerpt,
            defaults={"stance": row.get("stance") or "supports", "note": row.get("note") or ""},
        )
    for cmoc in CMOC.objects.filter(review=review, evidence__isnull=False).distinct():
        cmoc.source_count = (
            CMOCEvidence.objects.filter(cmoc=cmoc, stance="supports")
            .values("excerpt__document__study")
            .distinct()
            .count()
        )
        cmoc.save(update_fields=["source_count"])


def _build_versions(review: Review, owner) -> None:
    """Programme theory versions (gleaned, then evaluation), when the theory module exists."""
    try:
        from cmoc.demo_theory import build_demo_versions
    except ImportError:
        return
    build_demo_versions(review=review, user=owner)


def _import_reference_list(review: Review, owner) -> None:
    """The report's reference list, imported the way a reviewer would (preview, confirm) as a
    reference-scanning search: the included studies it cites merge into their records, the
    rest wait to be screened."""
    from studies.services.identification import import_batch_create, import_confirm

    search = Search.objects.create(
        review=review, source="Reference list of the report", kind=Search.Kind.REFERENCE_SCANNING,
        notes="Demo: the seed report's own reference list, imported to show deduplication "
              "against the library and title-abstract screening.",
    )  # fmt: skip
    data = (DEMO_DIR / "reference_scanning.ris").read_bytes()
    batch = import_batch_create(
        user=owner, review=review, search=search, data=data, filename="reference_scanning.ris"
    )
    import_confirm(user=owner, batch=batch)


def _screen(review: Review, ta: ScreeningStage, ft: ScreeningStage, users) -> None:
    """Votes through the screening service, as the two reviewers cast them: Rita includes the
    72 studies at both stages and excludes the policy documents of the reference list; Ravi,
    the second reviewer, screens the dual share blind and disagrees once, which leaves one
    conflict for the owner to resolve. The other references wait in the queue."""
    from studies.screening_rules import is_dual
    from studies.services.screening import decision_record

    rita, ravi = users["rita"], users["ravi"]
    unique = Record.objects.filter(review=review, duplicate_of__isnull=True).order_by("position")
    studies = [r for r in unique if r.study_id]
    dual = [r for r in studies if is_dual(r.pk, review.dual_seed, review.dual_fraction)]
    for record in studies:
        decision_record(user=rita, stage=ta, record=record, decision="include")
    for i, record in enumerate(dual):
        decision_record(user=ravi, stage=ta, record=record, decision="exclude" if i == 0 else "include",
                        note="Not sure this is about organisations working together" if i == 0 else "")  # fmt: skip
    for record in studies:
        if record not in dual[:1]:
            decision_record(user=rita, stage=ft, record=record, decision="include")
    not_a_study = ExclusionReason.objects.get(stage=ta, order=3)
    reports = [r for r in unique if not r.study_id and r.type == "RPRT"]
    for record in reports[:15]:
        decision_record(user=rita, stage=ta, record=record, decision="exclude", reason=not_a_study)

"""Reads for appraisal, extraction, the characteristics table and the progress page. Each
runs a fixed number of queries whatever the number of studies."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from cmoc.models import CMOCEvidence, Excerpt
from studies import extraction_values as ev
from studies.models import (
    Appraisal,
    Document,
    ExtractionAnswer,
    ExtractionField,
    ExtractionForm,
    Record,
    ScreeningDecision,
    ScreeningResolution,
    Study,
)
from synthesis.models import Review


def forms_current(*, review: Review) -> QuerySet[ExtractionForm]:
    return ExtractionForm.objects.filter(review=review, is_current=True).order_by("name")


def forms_current_with_fields(*, review: Review) -> list[ExtractionForm]:
    """The current forms, each with its ordered fields as `field_list` (two queries)."""
    ordered = ExtractionField.objects.order_by("order", "id")
    fields = Prefetch("fields", queryset=ordered, to_attr="field_list")
    return list(forms_current(review=review).prefetch_related(fields))


def form_get(*, review: Review, form_id: int) -> ExtractionForm:
    return ExtractionForm.objects.get(review=review, pk=form_id)


def form_fields(form: ExtractionForm) -> list[ExtractionField]:
    return list(form.fields.order_by("order", "id"))


def _pick(values_by_extractor: dict[int, object], consensus) -> tuple[object, bool]:
    """The value the table shows: the consensus if there is one, else the single extractor's,
    else the extractors' common value. Returns (value, conflict)."""
    if consensus is not None:
        return consensus, False
    distinct = []
    for v in values_by_extractor.values():
        if v not in distinct:
            distinct.append(v)
    if len(distinct) <= 1:
        return (distinct[0] if distinct else None), False
    return distinct, True


STUDY_FIELD_KEY = "study"


@dataclass
class TableRow:
    study_id: int
    study_label: str
    cells: list[str] = field(default_factory=list)
    conflicts: list[bool] = field(default_factory=list)
    raw: list[object] = field(default_factory=list)


def characteristics_table(
    *,
    review: Review,
    form: ExtractionForm,
    q: str = "",
    filters: dict[str, str] | None = None,
    sort: str = "",
    desc: bool = False,
) -> tuple[list[ExtractionField], list[TableRow]]:
    """Seed Table 6 from the answers: one row per study with answers to any version of the
    form, columns = fields of the current version. For each study and field key the newest
    version that has an answer is used (so answers given before a field was edited stay in
    the table). Three queries."""
    current = (
        form
        if form.is_current
        else ExtractionForm.objects.get(review=review, name=form.name, is_current=True)
    )
    columns = form_fields(current)
    keys = [c.key for c in columns]
    answers = (
        ExtractionAnswer.objects.filter(
            field__form__review=review, field__form__name=form.name, field__key__in=keys
        )
        .order_by()
        .values_list(
            "study_id",
            "study__label",
            "field__key",
            "field__form__version",
            "extractor_id",
            "is_consensus",
            "value",
        )
    )
    # study → key → version → (values by extractor, consensus)
    data: dict[int, dict[str, dict[int, list]]] = defaultdict(lambda: defaultdict(dict))
    labels: dict[int, str] = {}
    for study_id, label, key, version, extractor, is_consensus, value in answers:
        labels[study_id] = label
        slot = data[study_id][key].setdefault(version, [{}, None])
        if is_consensus:
            slot[1] = value
        else:
            slot[0][extractor] = value
    # A "study" field (the seed form's citation as printed, e.g. "Mervyn et al.") names the
    # row instead of being a second study column, which is how seed Table 6 reads.
    cite_key = STUDY_FIELD_KEY if STUDY_FIELD_KEY in keys else None
    if cite_key:
        columns = [c for c in columns if c.key != cite_key]
        keys = [c.key for c in columns]
    rows: list[TableRow] = []
    for study_id, by_key in data.items():
        label = labels[study_id]
        if cite_key and by_key.get(cite_key):
            versions = by_key[cite_key]
            cited, conflict = _pick(*versions[max(versions)])
            if cited and not conflict:
                label = ev.display(cited)
        row = TableRow(study_id=study_id, study_label=label)
        for key in keys:
            versions = by_key.get(key)
            if not versions:
                row.raw.append(None)
                row.cells.append("")
                row.conflicts.append(False)
                continue
            by_extractor, consensus = versions[max(versions)]
            value, conflict = _pick(by_extractor, consensus)
            row.raw.append(value)
            row.cells.append(
                " | ".join(ev.display(v) for v in value) if conflict else ev.display(value)
            )
            row.conflicts.append(conflict)
        rows.append(row)

    q = q.strip().lower()
    if q:
        rows = [
            r for r in rows if q in r.study_label.lower() or any(q in c.lower() for c in r.cells)
        ]
    for key, wanted in (filters or {}).items():
        wanted = wanted.strip().lower()
        if key in keys and wanted:
            i = keys.index(key)
            rows = [r for r in rows if r.cells[i].lower() == wanted]

    def sort_key(r: TableRow):
        if sort in keys:
            i = keys.index(sort)
            raw = r.raw[i]
            if raw is None or r.cells[i] == "":
                return (1, 0, "", r.study_label.lower())  # blanks last either way
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return (0, 0, raw, r.study_label.lower())
            return (0, 1, r.cells[i].lower(), r.study_label.lower())
        return (0, 0, r.study_label.lower(), "")

    rows.sort(key=sort_key, reverse=desc)
    if desc and sort in keys:  # keep blanks at the bottom when sorting descending
        i = keys.index(sort)
        rows = [r for r in rows if r.cells[i] != ""] + [r for r in rows if r.cells[i] == ""]
    return columns, rows


def filter_values(columns: list[ExtractionField], rows: list[TableRow]) -> dict[str, list[str]]:
    """Distinct values per choice-like column, for filter drop-downs."""
    out: dict[str, list[str]] = {}
    for i, c in enumerate(columns):
        if c.type in (ev.SINGLE_CHOICE, ev.YES_NO_UNCLEAR) or c.type == ev.SHORT_TEXT:
            values = sorted({r.cells[i] for r in rows if r.cells[i]}, key=str.lower)
            if 0 < len(values) <= 40:
                out[c.key] = values
    return out


@dataclass
class StudyExtraction:
    fields: list[ExtractionField]
    initial: dict[str, object]  # key → value to prefill (mine, else carried forward)
    carried: set[str]  # keys prefilled from an earlier version or the consensus
    mine_saved: bool
    others: list[dict]  # other extractors' answers on the current version (dual extraction)
    consensus: dict[str, object]
    earlier: list[dict]  # [{"form": form, "rows": [(label, value, extractor)]}]


def study_extraction(*, form: ExtractionForm, study: Study, user) -> StudyExtraction:
    """Everything the extraction page of one study needs. Two queries."""
    fields = form_fields(form)
    answers = list(
        ExtractionAnswer.objects.filter(
            study=study, field__form__review_id=form.review_id, field__form__name=form.name
        )
        .select_related("field__form", "extractor")
        .order_by("-field__form__version", "field__order", "field_id")
    )
    current = [a for a in answers if a.field.form_id == form.pk]
    mine = {
        a.field.key: a.value for a in current if a.extractor_id == user.pk and not a.is_consensus
    }
    consensus = {a.field.key: a.value for a in current if a.is_consensus}
    initial = dict(mine)
    carried: set[str] = set()
    if not mine:
        # Carry forward, newest version first: my own earlier answers, else the consensus.
        for a in answers:
            if a.field.form_id == form.pk:
                continue
            if a.field.key not in initial and (a.is_consensus or a.extractor_id == user.pk):
                initial[a.field.key] = a.value
                carried.add(a.field.key)
    others_by: dict[int, dict] = {}
    for a in current:
        if not a.is_consensus and a.extractor_id != user.pk:
            entry = others_by.setdefault(a.extractor_id, {"extractor": a.extractor, "values": {}})
            entry["values"][a.field.key] = a.value
    earlier_by: dict[int, dict] = {}
    for a in answers:
        if a.field.form_id != form.pk:
            entry = earlier_by.setdefault(a.field.form_id, {"form": a.field.form, "rows": []})
            entry["rows"].append(
                (a.field.label, ev.display(a.value), "consensus" if a.is_consensus else a.extractor)
            )
    return StudyExtraction(
        fields=fields,
        initial=initial,
        carried=carried,
        mine_saved=bool(mine),
        others=list(others_by.values()),
        consensus=consensus,
        earlier=list(earlier_by.values()),
    )


def consolidation(*, form: ExtractionForm, study: Study) -> tuple[list, list, str]:
    """Rows of (field, {extractor: value}, consensus value, agreed?) for the current version,
    the extractors, and the version of the consensus answers (see consensus_version). One
    query plus the fields."""
    fields = form_fields(form)
    answers = ExtractionAnswer.objects.filter(study=study, field__form=form).select_related(
        "extractor"
    )
    by_field: dict[int, dict] = defaultdict(dict)
    consensus: dict[int, object] = {}
    consensus_rows = []
    extractors = {}
    for a in answers:
        if a.is_consensus:
            consensus[a.field_id] = a.value
            consensus_rows.append(a)
        else:
            by_field[a.field_id][a.extractor_id] = a.value
            extractors[a.extractor_id] = a.extractor
    ordered = sorted(extractors.values(), key=lambda u: u.pk)
    rows = []
    for f in fields:
        values = by_field.get(f.pk, {})
        distinct = {ev.display(v) for v in values.values()}
        proposed = consensus.get(f.pk)
        if proposed is None and len(distinct) == 1 and values:
            proposed = next(iter(values.values()))
        rows.append(
            {
                "field": f,
                "values": [values.get(u.pk) for u in ordered],
                "consensus": consensus.get(f.pk),
                "proposed": proposed,
                "agreed": len(distinct) <= 1,
            }
        )
    return rows, ordered, consensus_version(consensus_rows)


def consensus_version(answers) -> str:
    """The version of a study's consensus answers on a form: which rows, at which version.
    Any save of them (a new, changed or cleared answer) gives a different one."""
    return " ".join(f"{a.pk}.{a.version}" for a in sorted(answers, key=lambda a: a.pk)) or "0"


def _count(qs, outer: str) -> Coalesce:
    return Coalesce(
        Subquery(
            qs.order_by().values(outer).annotate(c=Count("pk", distinct=True)).values("c")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


STEPS = ["screened", "full_text", "appraised", "extracted", "coded"]


def progress(*, review: Review, missing: str = "", q: str = "") -> QuerySet[Study]:
    """Per study, which steps are done. One query (plus one for the page count)."""
    qs = Study.objects.filter(review=review).annotate(
        screened=Exists(ScreeningDecision.objects.filter(record__study=OuterRef("pk")))
        | Exists(ScreeningResolution.objects.filter(record__study=OuterRef("pk"))),
        has_full_text=Exists(Document.objects.filter(study=OuterRef("pk")))
        | Exists(
            Record.objects.filter(
                study=OuterRef("pk"), fulltext_status=Record.FullTextStatus.RETRIEVED
            )
        ),
        n_appraisals=_count(Appraisal.objects.filter(study=OuterRef("pk")), "study"),
        extracted=Exists(ExtractionAnswer.objects.filter(study=OuterRef("pk"))),
        n_excerpts=_count(
            Excerpt.objects.filter(document__study=OuterRef("pk")), "document__study"
        ),
        n_cmocs=Coalesce(
            Subquery(
                CMOCEvidence.objects.filter(excerpt__document__study=OuterRef("pk"))
                .order_by()
                .values("excerpt__document__study")
                .annotate(c=Count("cmoc", distinct=True))
                .values("c")[:1],
                output_field=IntegerField(),
            ),
            Value(0),
        ),
        verdict=Subquery(
            Appraisal.objects.filter(study=OuterRef("pk"))
            .exclude(verdict="")
            .order_by("created_at", "id")
            .values("verdict")[:1]
        ),
    )
    if q:
        qs = qs.filter(Q(label__icontains=q) | Q(title__icontains=q))
    conditions = {
        "screened": Q(screened=False),
        "full_text": Q(has_full_text=False),
        "appraised": Q(n_appraisals=0),
        "extracted": Q(extracted=False),
        "coded": Q(n_excerpts=0),
    }
    if missing in conditions:
        qs = qs.filter(conditions[missing])
    return qs.order_by("label")


def progress_summary(*, review: Review) -> dict[str, int]:
    """How many studies have done each step. One query of five flags per study (summed here:
    Django mis-aliases several filtered Counts over OR-ed Exists annotations)."""
    out = dict.fromkeys(["total", *STEPS], 0)
    for screened, full_text, n_appraisals, extracted, n_excerpts in progress(
        review=review
    ).values_list("screened", "has_full_text", "n_appraisals", "extracted", "n_excerpts"):
        out["total"] += 1
        out["screened"] += bool(screened)
        out["full_text"] += bool(full_text)
        out["appraised"] += n_appraisals > 0
        out["extracted"] += bool(extracted)
        out["coded"] += n_excerpts > 0
    return out


def appraisal_list(*, review: Review, kind: str = "", verdict: str = "") -> QuerySet[Appraisal]:
    qs = Appraisal.objects.filter(review=review).select_related(
        "appraiser", "study", "excerpt__document__study", "cmoc", "exclusion_reason"
    )
    if kind in ("study", "excerpt", "cmoc"):
        qs = qs.filter(**{f"{kind}__isnull": False})
    if verdict in Appraisal.Verdict.values or verdict == "none":
        qs = qs.filter(verdict="" if verdict == "none" else verdict)
    return qs.order_by("-updated_at", "-id")

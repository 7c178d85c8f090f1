"""Exports of a review: CMOC tables, study characteristics, screening decisions, agreement,
RIS/BibTeX of included studies, in CSV (streamed) and XLSX (constant memory).

Each table is a `Table` (title, header, row iterator) so the download views and the
management commands produce the same content.
"""

import csv
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import xlsxwriter
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.db.models.expressions import RawSQL

from cmoc.models import CMOC, CMOCElement, CMOCEvidence
from studies.agreement import agreement_from_counts
from studies.models import ExtractionAnswer, ExtractionField, Record, Study
from studies.selectors_screening import agreement_counts_by_stage, decisions_visible_to
from synthesis.models import Review
from synthesis.permissions import Action, check
from synthesis.selectors_reporting import cmoc_export_queryset

PROGRESS_EVERY = 1000  # rows between two progress reports of a background export
CHUNK = 2000  # rows fetched (with their prefetches) per round trip: keeps memory flat


@dataclass
class Table:
    title: str
    header: list[str]
    rows: Iterable[list]
    filename: str


def _source(document) -> str:
    if document.study_id:
        return document.study.label
    if document.participant_id:
        return document.participant.code
    return document.title


CMOC_HEADER = [
    "Code", "Statement", "Context", "Mechanism resource", "Mechanism reasoning", "Outcome",
    "Concepts (role: concept (direction))", "Phase", "Relation to prior theory", "Prior CMOC",
    "Origin", "Number of sources", "Sources", "Excerpts (quote — source, locator)", "Checked",
]  # fmt: skip


def _locator(page, start, end) -> str:
    return (f"p. {page}, " if page else "") + f"chars {start}–{end}"


def _id_set(ids: list[int]) -> RawSQL:
    """A chunk's ids as one query parameter (a PostgreSQL array, a JSON list on SQLite)
    instead of an IN list: Django's per-value preparation of 2000-id IN lists took a third
    of the export's time."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def cmoc_rows(
    review: Review, *, study_id: int | None = None, only: QuerySet[CMOC] | None = None
) -> Iterator[list]:
    """Rows of the CMOC table (of the CMOCs in `only` when given). Reads plain tuples in
    keyset-paginated chunks (three queries per CHUNK CMOCs) rather than model instances: 100k
    CMOCs stream in seconds and memory stays flat."""
    relation = dict(CMOC.Relation.choices)
    origin = dict(CMOC.Origin.choices)
    direction = dict(CMOCElement._meta.get_field("direction").choices)
    base = cmoc_export_queryset(review=review, study_id=study_id).prefetch_related(None)
    if only is not None:
        base = base.filter(pk__in=only.prefetch_related(None).order_by().values("pk"))
    cols = (
        "id", "code", "statement", "context", "mechanism_resource", "mechanism_reasoning",
        "outcome", "phase__name", "relation", "prior__code", "origin", "source_count", "checked",
    )  # fmt: skip
    last = None
    while True:
        qs = base if last is None else base.filter(code__gt=last)
        chunk = list(qs.values_list(*cols)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1][1]
        ids = _id_set([row[0] for row in chunk])
        elements: dict[int, list[str]] = {}
        for cmoc_id, role, label, sign in (
            CMOCElement.objects.filter(cmoc_id__in=ids)
            .order_by("cmoc_id", "role", "id")
            .values_list("cmoc_id", "role", "concept__label", "direction")
        ):
            text = f"{role}: {label}" + (f" ({direction[sign]})" if sign else "")
            elements.setdefault(cmoc_id, []).append(text)
        evidence: dict[int, list[tuple]] = {}
        for ev in (
            CMOCEvidence.objects.filter(cmoc_id__in=ids)
            .order_by("cmoc_id", "stance", "excerpt__document__title", "excerpt__start")
            .values_list(
                "cmoc_id",
                "stance",
                "excerpt__text",
                "excerpt__page",
                "excerpt__start",
                "excerpt__end",
                "excerpt__document__study__label",
                "excerpt__document__participant__code",
                "excerpt__document__title",
            )  # fmt: skip
        ):
            evidence.setdefault(ev[0], []).append(ev)
        for (
            pk, code, statement, context, m_res, m_rea, outcome, phase, rel, prior, orig,
            n_sources, checked,
        ) in chunk:  # fmt: skip
            evs = evidence.get(pk, [])
            sources = sorted(
                {study or participant or title for *_, study, participant, title in evs}
            )
            quotes = [
                f"“{text}” — {study or participant or title}, {_locator(page, s0, s1)}"
                + ("" if stance == CMOCEvidence.Stance.SUPPORTS else " [contradicts]")
                for _, stance, text, page, s0, s1, study, participant, title in evs
            ]
            yield [
                code, statement, context, m_res, m_rea, outcome, "; ".join(elements.get(pk, [])),
                phase or "", relation.get(rel, rel), prior or "", origin.get(orig, orig),
                n_sources, "; ".join(sources), "\n".join(quotes), "yes" if checked else "no",
            ]  # fmt: skip


def cmoc_table(review: Review, *, study_id: int | None = None) -> Table:
    suffix = f"-study-{study_id}" if study_id is not None else ""
    return Table(
        "CMOCs", CMOC_HEADER, cmoc_rows(review, study_id=study_id),
        f"cmocs-review-{review.pk}{suffix}",
    )  # fmt: skip


@dataclass
class Selection:
    table: Table
    count: int


def cmoc_selection_table(*, user, review: Review, cmocs: QuerySet[CMOC]) -> Selection:
    """The CMOC table of a selection (the CMOC list's filtered rows), permission-checked."""
    check(user, review, Action.EXPORT)
    cmocs = cmocs.filter(review=review)
    count = cmocs.prefetch_related(None).order_by().count()
    return Selection(
        Table(
            "CMOCs",
            CMOC_HEADER,
            cmoc_rows(review, only=cmocs),
            f"cmocs-review-{review.pk}-selected",
        ),
        count,
    )


STUDY_CMOC_HEADER = [
    "Study", "Year", "Code", "Statement", "Stance", "Excerpts from this study (quote, locator)",
    "Phase", "Relation to prior theory",
]  # fmt: skip


def study_cmoc_rows(review: Review, *, study_id: int | None = None) -> Iterator[list]:
    """One row per (study, CMOC): the CMOCs each study's excerpts support or contradict."""
    relation = dict(CMOC.Relation.choices)
    qs = CMOCEvidence.objects.filter(
        cmoc__review=review, excerpt__document__study__isnull=False
    ).select_related("cmoc__phase", "excerpt__document__study")
    if study_id is not None:
        qs = qs.filter(excerpt__document__study_id=study_id)
    qs = qs.order_by("excerpt__document__study__label", "cmoc__code", "excerpt__start")
    current, quotes, stances = None, [], set()

    def row():
        study, cmoc = current
        return [
            study.label, study.year or "", cmoc.code, cmoc.statement, "/".join(sorted(stances)),
            "\n".join(quotes), cmoc.phase.name if cmoc.phase else "",
            relation.get(cmoc.relation, cmoc.relation),
        ]  # fmt: skip

    for ev in qs.iterator(chunk_size=CHUNK):
        key = (ev.excerpt.document.study, ev.cmoc)
        if current is None or (key[0].pk, key[1].pk) != (current[0].pk, current[1].pk):
            if current is not None:
                yield row()
            current, quotes, stances = key, [], set()
        quotes.append(f"“{ev.excerpt.text}” ({ev.excerpt.locator})")
        stances.add(ev.stance)
    if current is not None:
        yield row()


def study_cmoc_table(review: Review, *, study_id: int | None = None) -> Table:
    return Table(
        "CMOCs per study", STUDY_CMOC_HEADER, study_cmoc_rows(review, study_id=study_id),
        f"study-cmocs-review-{review.pk}" + (f"-study-{study_id}" if study_id else ""),
    )  # fmt: skip


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_fmt(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    return str(value)


def characteristics_table(review: Review) -> Table:
    """Study characteristics (seed Table 6) from the current extraction forms: the consensus
    answer where there is one, otherwise the extractors' answers (differing ones joined by
    ' | ')."""
    fields = list(
        ExtractionField.objects.filter(form__review=review, form__is_current=True).order_by(
            "form__name", "order", "id"
        )
    )
    header = ["Study", "Title", "Year", "Kind", "Phase"]
    # The seed's form has its own "Study" field: two columns of one name are ambiguous in a
    # spreadsheet (pandas reads the second as "Study.1"), so a clashing label says its origin.
    taken = {h.casefold() for h in header}
    for f in fields:
        label = f.label
        if label.casefold() in taken:
            label = f"{f.label} (extraction form)"
        if label.casefold() in taken:
            label = f"{f.label} ({f.key})"
        taken.add(label.casefold())
        header.append(label)

    def rows():
        studies = (
            Study.objects.filter(review=review)
            .select_related("phase")
            .prefetch_related(
                Prefetch(
                    "answers",
                    queryset=ExtractionAnswer.objects.filter(field__in=fields).order_by(
                        "extractor_id"
                    ),
                )
            )
            .order_by("label")
        )
        for study in studies.iterator(chunk_size=CHUNK):
            by_field: dict[int, list] = {}
            for ans in study.answers.all():
                by_field.setdefault(ans.field_id, []).append(ans)
            cells = []
            for f in fields:
                answers = by_field.get(f.pk, [])
                consensus = [a for a in answers if a.is_consensus]
                values = [_fmt(a.value) for a in (consensus or answers)]
                cells.append(" | ".join(dict.fromkeys(v for v in values if v)))
            yield [
                study.label, study.title, study.year or "", study.get_kind_display(),
                study.phase.name if study.phase else "", *cells,
            ]  # fmt: skip

    return Table("Study characteristics", header, rows(), f"characteristics-review-{review.pk}")


DECISION_HEADER = [
    "Record id", "Title", "Year", "First author", "Stage", "Reviewer", "Decision", "Reason",
    "Note", "Decided at", "Resolved decision", "Resolution reason",
]  # fmt: skip


def decisions_table(review: Review, *, user) -> Table:
    """Screening votes the user may see (blinding respected), with any resolution. Without a
    user (command line, scheduled jobs) every vote is exported."""
    from studies.models import ScreeningDecision, ScreeningResolution

    def rows():
        resolutions = {
            (r.record_id, r.stage_id): r
            for r in ScreeningResolution.objects.filter(record__review=review).select_related(
                "reason"
            )
        }
        visible = (
            decisions_visible_to(user, review=review)
            if user is not None
            else ScreeningDecision.objects.filter(record__review=review)
        )
        qs = visible.select_related("record", "stage", "reviewer", "reason").order_by(
            "stage__order", "record__position", "record_id", "reviewer__username"
        )
        for d in qs.iterator(chunk_size=CHUNK):
            res = resolutions.get((d.record_id, d.stage_id))
            yield [
                d.record_id, d.record.title, d.record.year or "", d.record.first_author,
                d.stage.name, d.reviewer.username, d.get_decision_display(),
                d.reason.label if d.reason else "", d.note, d.updated_at.isoformat(),
                res.get_decision_display() if res else "",
                res.reason.label if res and res.reason else "",
            ]  # fmt: skip

    return Table("Screening decisions", DECISION_HEADER, rows(), f"decisions-review-{review.pk}")


AGREEMENT_HEADER = [
    "Stage", "Reviewer 1", "Reviewer 2", "Records both screened", "Agreed",
    "Percent agreement", "Cohen's kappa", "Kappa 95% CI", "PABAK", "Gwet's AC1",
    "Maybe counted",
]  # fmt: skip


def agreement_rows(review: Review) -> list[list]:
    """Per stage, one row per reviewer pair on the records both screened (independent votes
    before resolution, "maybe" mapped as the review counts it), then an "All pairs" row when
    there is more than one pair: the figures of the screening agreement page."""
    from django.contrib.auth import get_user_model

    from studies.models import ScreeningStage

    def pct(x):
        return "" if x is None else round(100 * x, 1)

    def num(x):
        return "" if x is None else round(x, 3)

    mode = review.maybe_counts_as
    out = []
    stages = list(ScreeningStage.objects.filter(review=review).order_by("order"))
    # The cross-tables of the screening agreement page (one grouped query for all the
    # stages, cached) and the reviewers' names of every stage's pairs (one query).
    by_stage = agreement_counts_by_stage(stages=stages)
    names = dict(
        get_user_model()
        .objects.filter(
            pk__in={u for by_pair in by_stage.values() for pair in by_pair for u in pair}
        )
        .values_list("pk", "username")
    )
    for stage in stages:
        by_pair = by_stage[stage.pk]
        named = sorted(
            (tuple(sorted((names[a], names[b]))), counts) for (a, b), counts in by_pair.items()
        )
        if len(named) > 1:
            total: Counter = Counter()
            for _, counts in named:
                total.update(counts)
            named.append((("All pairs", ""), total))
        for (r1, r2), counts in named:
            a = agreement_from_counts(counts, maybe=mode)
            agreed = sum(a.cell(c, c) for c in a.categories)
            ci = f"{a.kappa_ci[0]:.3f} to {a.kappa_ci[1]:.3f}" if a.kappa_ci else ""
            out.append([
                stage.name, r1, r2, a.n, agreed, pct(a.percent_agreement), num(a.kappa), ci,
                num(a.pabak), num(a.ac1), review.get_maybe_counts_as_display(),
            ])  # fmt: skip
    return out


def agreement_table(review: Review) -> Table:
    return Table(
        "Screening agreement", AGREEMENT_HEADER, agreement_rows(review),
        f"agreement-review-{review.pk}",
    )  # fmt: skip


# ---- writers ---------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def csv_lines(table: Table) -> Iterator[str]:
    """CSV text line by line (UTF-8 BOM first so spreadsheet programs read accents)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(table.header)
    for row in table.rows:
        yield writer.writerow(row)


def xlsx_write(tables: list[Table], path: str, *, on_row=None) -> None:
    """Write tables as sheets; constant_memory flushes each row so size does not matter.
    `on_row(table_index, rows_written)` is called every PROGRESS_EVERY rows (background jobs)."""
    # Text is text: an excerpt or statement that starts with "=" must not become a formula
    # (a wrong cell at best, a formula injected into the analyst's spreadsheet at worst).
    wb = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_urls": False, "strings_to_formulas": False}
    )
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for t, table in enumerate(tables):
        if on_row is not None:
            on_row(t, 0)
        ws = wb.add_worksheet(table.title[:31])
        ws.write_row(0, 0, table.header, bold)
        ws.freeze_panes(1, 0)
        for i, row in enumerate(table.rows, start=1):
            # Excel's cell limit is 32,767 characters; longer quotes are cut with a marker.
            ws.write_row(
                i,
                0,
                [v[:32000] + "…" if isinstance(v, str) and len(v) > 32000 else v for v in row],
                wrap,
            )
            if on_row is not None and i % PROGRESS_EVERY == 0:
                on_row(t, i)
    wb.close()


def xlsx_tempfile(tables: list[Table]):
    """An open temporary file holding the workbook (deleted when closed)."""
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 - returned open
    xlsx_write(tables, tmp.name)
    tmp.seek(0)
    return tmp


# ---- bibliographic exports of included studies -------------------------------------------


def included_records(review: Review):
    return (
        Record.objects.filter(review=review, study__isnull=False, duplicate_of__isnull=True)
        .select_related("study")
        .order_by("study__label", "year", "id")
    )


def _ris_entry(r: Record) -> dict:
    entry = {
        "type_of_reference": "JOUR" if r.journal else "GEN",
        "title": r.title,
        "authors": list(r.authors),
        "year": str(r.year or ""),
        "journal_name": r.journal,
        "volume": r.volume,
        "number": r.issue,
        "doi": r.doi,
        "urls": [r.url] if r.url else [],
        "abstract": r.abstract,
        "keywords": list(r.keywords),
        "notes": [f"Retroduce study: {r.study.label}"],
    }
    if r.pages:
        start, _, end = r.pages.partition("-")
        entry["start_page"] = start.strip()
        if end:
            entry["end_page"] = end.strip()
    return {k: v for k, v in entry.items() if v}


def ris_text(review: Review) -> str:
    import rispy

    return rispy.dumps([_ris_entry(r) for r in included_records(review).iterator()])


def bibtex_text(review: Review) -> str:
    import bibtexparser
    from bibtexparser.model import Entry, Field

    lib = bibtexparser.Library()
    used: set[str] = set()
    for r in included_records(review).iterator():
        first = (r.first_author.split(",")[0].split() or ["anon"])[0]
        base = "".join(ch for ch in f"{first}{r.year or ''}" if ch.isalnum()) or f"record{r.pk}"
        key, n = base, 1
        while key in used:
            n += 1
            key = f"{base}{chr(ord('a') + n - 2) if n < 28 else n}"
        used.add(key)
        fields = {
            "title": r.title, "author": " and ".join(r.authors), "year": str(r.year or ""),
            "journal": r.journal, "volume": r.volume, "number": r.issue,
            "pages": r.pages.replace("-", "--") if r.pages else "", "doi": r.doi, "url": r.url,
            "note": f"Retroduce study: {r.study.label}",
        }  # fmt: skip
        lib.add(
            Entry(
                "article" if r.journal else "misc",
                key,
                [Field(k, v.replace("{", "(").replace("}", ")")) for k, v in fields.items() if v],
            )  # fmt: skip
        )
    return bibtexparser.write_string(lib)


# ---- registry used by views and commands -------------------------------------------------

TABLES: dict[str, Callable[..., Table]] = {
    "cmocs": lambda review, user, study_id=None: cmoc_table(review, study_id=study_id),
    "study-cmocs": lambda review, user, study_id=None: study_cmoc_table(review, study_id=study_id),
    "characteristics": lambda review, user: characteristics_table(review),
    "decisions": lambda review, user: decisions_table(review, user=user),
    "agreement": lambda review, user: agreement_table(review),
}


STUDY_TABLES = {"cmocs", "study-cmocs"}  # tables that can be narrowed to one study


def export_table(*, user, review: Review, name: str, study_id: int | None = None) -> Table:
    """Permission-checked entry point: analysts, reviewers and owners may export. `study_id`
    narrows the CMOC tables to the CMOCs with evidence from one study of the review."""
    check(user, review, Action.EXPORT)
    if name not in TABLES:
        raise ValueError(f"Unknown export: {name}")
    if study_id is None:
        return TABLES[name](review, user)
    if name not in STUDY_TABLES:
        raise ValueError(f"The {name} export covers the whole review.")
    if not Study.objects.filter(review=review, pk=study_id).exists():
        raise ValueError("No such study in this review.")
    return TABLES[name](review, user, study_id=study_id)

import html
from collections import Counter

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe

from cmoc import selectors
from cmoc.models import CMOC, CMOCEvidence, Concept, IntervieweeStance, Role
from cmoc.search import SEARCH_COUNT_CAP
from cmoc.services.coding import cmoc_check_state
from studies.models import Study
from synthesis import exports
from synthesis.audit import event_record
from synthesis.concurrency import differences
from synthesis.models import Review
from synthesis.permissions import Action, can
from synthesis.views_activity import history_for
from synthesis.views_base import int_or_none, review_view


def _options(pairs, selected) -> str:
    """``<option>``s for hundreds of concepts/studies. Stdlib escaping: format_html_join
    cost ~4 ms per request here at 50k CMOCs (bench/cmoc.py)."""
    selected = str(selected or "")
    return mark_safe(  # noqa: S308 - every value is escaped just below
        "".join(
            f'<option value="{pk}"{" selected" if str(pk) == selected else ""}>'
            f"{html.escape(str(label))}</option>"
            for pk, label in pairs
        )
    )


class CMOCPaginator(Paginator):
    """Paginates 50k CMOCs in constant time.

    - Sorts and skips narrow rows: the page's codes come from a subquery (ORDER BY … LIMIT …
      OFFSET …) and only those rows are fetched in full (the list is always one review's). Sorting whole rows (all the text
      columns) cost SQLite 50 ms for "sort by phase" and 180 ms for its page 400.
    - With ``cap``, counts at most that many rows: a search word found in most CMOCs would
      otherwise make every request scan the table only to print the total (cmoc/search.py).
    """

    def __init__(self, *args, cap: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        if self.cap is None:
            return super().count
        n = self.object_list[: self.cap + 1].count()
        self.capped = n > self.cap
        return min(n, self.cap)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if top + self.orphans >= self.count:
            top = self.count
        # by code, not id: unique within the review and part of every sort index, so the
        # subquery can be answered from an index alone (PostgreSQL "sort by phase": 122 → 47 ms)
        codes = self.object_list.values("code")[bottom:top]
        return self._get_page(self.object_list.filter(code__in=codes), number, self)


def _list_queryset(review: Review, g):
    """The CMOC list's filters from the query string (the list and its export share them)."""
    checked = {"yes": True, "no": False}.get(g.get("checked", ""))
    supported = {"yes": True, "no": False}.get(g.get("supported", ""))
    return selectors.cmoc_list(
        review=review,
        q=g.get("q", "").strip(),
        phase=int_or_none(g.get("phase")),
        concept=int_or_none(g.get("concept")),
        role=g.get("role", "") if g.get("role") in Role.values else "",
        relation=g.get("relation", "") if g.get("relation") in CMOC.Relation.values else "",
        min_sources=int_or_none(g.get("min_sources")),
        checked=checked,
        study=int_or_none(g.get("study")),
        supported=supported,
        origin=g.get("origin", "") if g.get("origin") in CMOC.Origin.values else "",
        sort=g.get("sort", "code"),
    )


@review_view()
def cmoc_list(request, review: Review):
    g = request.GET
    qs = _list_queryset(review, g)
    q = g.get("q", "").strip()
    paginator = CMOCPaginator(qs, 50, cap=SEARCH_COUNT_CAP if q else None)
    page = paginator.get_page(g.get("page"))
    context = {
        "review": review,
        "page": page,
        "total": paginator.count,
        "capped": paginator.capped,
        "phases": review.phases.all(),
        # Built in Python: a template loop over hundreds of <option>s cost more than the
        # queries at 50k CMOCs (see BENCHMARKS.md).
        "concept_options": _options(
            Concept.objects.filter(review=review).order_by("label").values_list("id", "label"),
            g.get("concept"),
        ),
        "relations": CMOC.Relation.choices[1:],
        "roles": Role.choices,
        "origins": CMOC.Origin.choices,
        "sorts": selectors.CMOC_SORT_LABELS,
        "study_options": _options(
            Study.objects.filter(review=review).order_by("label").values_list("id", "label"),
            g.get("study"),
        ),
        "can_edit": can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role),
        "can_export": can(request.user, review, Action.EXPORT, role=review.user_role),
        "export_query": g.urlencode(),
        "xlsx_limit": SELECTION_XLSX_LIMIT,
        "filters": g,
    }
    template = (
        "cmoc/_cmoc_rows.html" if request.headers.get("HX-Request") else "cmoc/cmoc_list.html"
    )
    return render(request, template, context)


# A workbook is built in memory and on disk before it is sent; larger selections come as CSV
# (streamed), or as the whole review's workbook from the reporting page's background job.
SELECTION_XLSX_LIMIT = 5000


@review_view(Action.EXPORT)
def cmoc_list_export(request, review: Review, fmt: str):
    """The CMOCs the list shows with the same filters, as the CMOC table (code order)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("CMOCs come as .csv or .xlsx.")
    selection = exports.cmoc_selection_table(
        user=request.user, review=review, cmocs=_list_queryset(review, request.GET)
    )
    table = selection.table
    if fmt == "xlsx" and selection.count > SELECTION_XLSX_LIMIT:
        messages.info(
            request,
            f"{selection.count} CMOCs are too many for a workbook from the list: download them as "
            "CSV, or the whole review's workbook from Reporting.",
        )
        return redirect(f"{reverse('cmoc-list', args=[review.pk])}?{request.GET.urlencode()}")
    event_record(
        review=review, actor=request.user, verb="export.download",
        summary=f"cmocs.{fmt} ({selection.count} selected: {request.GET.urlencode()[:200]})",
    )  # fmt: skip
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_lines(table), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{table.filename}.csv"'
        return response
    return FileResponse(
        exports.xlsx_tempfile([table]), as_attachment=True, filename=f"{table.filename}.xlsx"
    )


@review_view()
def cmoc_detail(request, review: Review, cmoc_id: int, check_error="", check_comment=""):
    """`check_error`, `check_comment`: a refused check (cmoc_check) and the comment typed."""
    try:
        cmoc = selectors.cmoc_detail(review=review, cmoc_id=cmoc_id)
    except CMOC.DoesNotExist as exc:
        raise Http404 from exc
    evidence = list(cmoc.evidence.all())
    # how the interviewees responded to the theory put to them, over this CMOC's quotes
    stances = Counter(e.excerpt.interviewee_stance for e in evidence)
    interviewees = [
        (label, stances[v]) for v, label in IntervieweeStance.choices if v and stances[v]
    ]
    return render(
        request,
        "cmoc/cmoc_detail.html",
        {
            "review": review,
            "cmoc": cmoc,
            "supporting": [e for e in evidence if e.stance == "supports"],
            "contradicting": [e for e in evidence if e.stance == "contradicts"],
            "elements": {r: [e for e in cmoc.elements.all() if e.role == r] for r in Role.values},
            "comments": list(cmoc.comments.all()),
            "interviewees": interviewees,
            "stances": CMOCEvidence.Stance.choices,
            "can_edit": can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role),
            "history": history_for(request.user, review, cmoc),
            "check_state": cmoc_check_state(cmoc),
            "check_error": check_error,
            "check_comment": check_comment,
        },
    )


@review_view()
def codebook(request, review: Review):
    # The Describe form shows the chosen concept's current values (?concept=, sent by htmx
    # when the choice changes): its fields replace what is stored, so blank ones used to
    # wipe a description and synonyms that the reviewer never saw.
    return codebook_page(request, review, wanted=request.GET.get("concept", ""))


def codebook_page(
    request, review: Review, *, wanted: str = "", conflict=None, posted=None, form="update"
):
    """The codebook; after an edit conflict in one of its forms (`form`: update, rename,
    move, merge; `conflict`, with what was `posted`), that form keeps the reviewer's input
    and shows the message and the saved values."""
    tree = selectors.concept_tree(review=review)
    described = next((r["concept"] for r in tree if str(r["concept"].pk) == wanted), None)
    if described is None and tree:
        described = tree[0]["concept"]
    describe = {}
    if described is not None:
        saved = {
            "mechanism_type": described.mechanism_type,
            "synonyms": ", ".join(described.synonyms or []),
            "description": described.description,
        }
        describe = {**saved, "version": described.version, "saved_now": {}, "error": ""}
        if conflict is not None and form == "update":
            mine = {k: posted.get(k, "") for k in saved}
            describe |= mine | {"version": conflict.version, "error": conflict.message_text}
            shown = {"mechanism_type": described.get_mechanism_type_display()}
            describe["saved_now"] = differences(mine, saved, shown)
    # Rename, move and merge name their concept in a list: the version of each concept as
    # shown goes with them, so that one changed since is refused (services.concept_rename).
    versions = " ".join(f"{r['concept'].pk}:{r['concept'].version}" for r in tree)
    kept = {}  # after a conflict in rename, move or merge: the reviewer's choices and text
    if conflict is not None and form != "update":
        current, saved_now = conflict.current, ""
        if form == "rename":
            saved_now = current.label
        elif form == "move":
            saved_now = current.parent.label if current.parent_id else "(top level)"
        kept = {
            "form": form, "error": conflict.message_text, "saved_now": saved_now,
            **{k: posted.get(k, "") for k in ("concept", "label", "parent", "target")},
        }  # fmt: skip
    return render(
        request,
        "cmoc/codebook.html",
        {
            "review": review,
            "tree": tree,
            "described": described,
            "describe": describe,
            "versions": versions,
            "kept": kept,
            "mechanism_types": Concept.MechanismType.choices,
            "can_edit": can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role),
        },
    )

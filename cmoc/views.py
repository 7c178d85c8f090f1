from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from cmoc import selectors
from cmoc.models import CMOC, CMOCEvidence, Concept, Role
from studies.models import Study
from synthesis.models import Review
from synthesis.permissions import Action, can
from synthesis.views_base import review_view


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _options(pairs, selected) -> str:
    selected = str(selected or "")
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((pk, mark_safe(" selected") if str(pk) == selected else "", label) for pk, label in pairs),
    )


@review_view()
def cmoc_list(request, review: Review):
    g = request.GET
    checked = {"yes": True, "no": False}.get(g.get("checked", ""))
    supported = {"yes": True, "no": False}.get(g.get("supported", ""))
    qs = selectors.cmoc_list(
        review=review,
        q=g.get("q", "").strip(),
        phase=_int_or_none(g.get("phase")),
        concept=_int_or_none(g.get("concept")),
        role=g.get("role", "") if g.get("role") in Role.values else "",
        relation=g.get("relation", "") if g.get("relation") in CMOC.Relation.values else "",
        min_sources=_int_or_none(g.get("min_sources")),
        checked=checked,
        study=_int_or_none(g.get("study")),
        supported=supported,
        origin=g.get("origin", "") if g.get("origin") in CMOC.Origin.values else "",
        sort=g.get("sort", "code"),
    )
    page = Paginator(qs, 50).get_page(g.get("page"))
    context = {
        "review": review,
        "page": page,
        "total": page.paginator.count,
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
        "filters": g,
    }
    template = (
        "cmoc/_cmoc_rows.html" if request.headers.get("HX-Request") else "cmoc/cmoc_list.html"
    )
    return render(request, template, context)


@review_view()
def cmoc_detail(request, review: Review, cmoc_id: int):
    try:
        cmoc = selectors.cmoc_detail(review=review, cmoc_id=cmoc_id)
    except CMOC.DoesNotExist as exc:
        raise Http404 from exc
    evidence = list(cmoc.evidence.all())
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
            "stances": CMOCEvidence.Stance.choices,
            "can_edit": can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role),
        },
    )


@review_view()
def codebook(request, review: Review):
    return render(
        request,
        "cmoc/codebook.html",
        {
            "review": review,
            "tree": selectors.concept_tree(review=review),
            "mechanism_types": Concept.MechanismType.choices,
            "can_edit": can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role),
        },
    )

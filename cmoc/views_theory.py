"""Programme theory pages: the causal web (with its panel, path finder and exports), theory
versions with diffs, and asserted chain links. Thin: parse, call selectors/services, render."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cmoc import graph, selectors_theory
from cmoc.forms_theory import CMOCLinkForm, TheoryVersionForm
from cmoc.models import CMOC, TheoryVersion
from cmoc.services import theory as services
from cmoc.theory_diff import version_diff
from synthesis.models import Review
from synthesis.permissions import Action, can
from synthesis.views_base import int_or_none, review_view

PANEL_LIMIT = 40
# Beyond this many edges a browser web is a hairball: draw the strongest, say how many hide.
WEB_MAX_EDGES = 4000
# The CMOC-chain view draws one node per CMOC: past this, ask for a filter instead.
CMOC_VIEW_MAX = 3000


def _web_params(request, review: Review) -> dict:
    g = request.GET
    version = int_or_none(g.get("version"))
    if (
        version is not None
        and not TheoryVersion.objects.filter(review=review, number=version).exists()
    ):
        raise Http404("No such programme theory version.")
    return {
        "version": version,
        "level": "cmoc" if g.get("level") == "cmoc" else "concept",
        "phases": [p for p in g.getlist("phase") if p],
        "themes": [t for t in g.getlist("theme") if t],
        "relations": [r for r in g.getlist("relation") if r in CMOC.Relation.values],
        "min_sources": max(0, int_or_none(g.get("min_sources")) or 0),
    }


@review_view()
def web(request, review: Review):
    options = selectors_theory.filter_options(review=review)
    return render(
        request,
        "cmoc/theory/web.html",
        {
            "review": review,
            "options": options,
            "versions": selectors_theory.version_list(review=review),
            "concepts": selectors_theory.concept_choices(review=review),
            "filters": request.GET,
            "selected_phases": request.GET.getlist("phase"),
            "phases_json": json.dumps(options["phases"]),
            "can_export": can(request.user, review, Action.EXPORT, role=review.user_role),
            "formats": graph.EXPORTERS,
        },
    )


@review_view()
def web_data(request, review: Review):
    params = _web_params(request, review)
    if params["level"] == "cmoc":
        data = graph.filter_data(
            selectors_theory.web_data(review=review, version=params["version"]),
            phases=params["phases"],
            themes=params["themes"],
            relations=params["relations"],
            min_sources=params["min_sources"],
        )
        if len(data.cmocs) > CMOC_VIEW_MAX:
            return JsonResponse(
                {
                    "level": "cmoc",
                    "elements": [],
                    "message": f"{len(data.cmocs)} CMOCs are too many for the chain view "
                    f"(at most {CMOC_VIEW_MAX}): filter by phase, theme, relation or "
                    "minimum sources, or show concepts.",
                    "stats": {"cmocs": len(data.cmocs), "nodes": 0, "edges": 0},
                }
            )
    data, web = selectors_theory.web_graph(review=review, max_edges=WEB_MAX_EDGES, **params)
    in_cycle = sum(1 for _, a in web.nodes(data=True) if a.get("in_cycle"))
    return JsonResponse(
        {
            "level": params["level"],
            "elements": graph.to_cytoscape(web),
            "stats": {
                "cmocs": len(data.cmocs),
                "nodes": web.number_of_nodes(),
                "edges": web.number_of_edges(),
                "hidden_edges": web.graph.get("hidden_edges", 0),
                "chain_edges": (
                    web.graph["chain_edges"]
                    if "chain_edges" in web.graph
                    else graph.chain_count(data)
                )
                + len(data.links),
                "in_cycle": in_cycle,
                "truncated": bool(web.graph.get("truncated")),
            },
        }
    )


@review_view()
def web_panel(request, review: Review):
    params = _web_params(request, review)
    data, web = selectors_theory.web_graph(review=review, **params)
    g = request.GET
    node, source, target = (int_or_none(g.get(k)) for k in ("node", "source", "target"))
    context = {"review": review, "params": params, "level": params["level"]}
    if node is not None and node in web:
        attrs = web.nodes[node]
        context.update(kind="node", item=attrs, key=node)
        ids = attrs["cmocs"]
    elif source is not None and target is not None and web.has_edge(source, target):
        attrs = web.edges[source, target]
        context.update(
            kind="edge",
            item=attrs,
            source=web.nodes[source],
            target=web.nodes[target],
        )
        ids = attrs["cmocs"]
    else:
        return render(request, "cmoc/theory/_panel_empty.html", context)
    context["total"] = len(ids)
    context["cmocs"] = selectors_theory.panel_cmocs(
        review=review, cmoc_ids=ids[:PANEL_LIMIT], version=params["version"]
    )
    return render(request, "cmoc/theory/_panel.html", context)


@review_view()
def web_paths(request, review: Review):
    params = {**_web_params(request, review), "level": "concept"}
    data, web = selectors_theory.web_graph(review=review, **params)
    g = request.GET
    source, target = int_or_none(g.get("from")), int_or_none(g.get("to"))
    paths = []
    if source is not None and target is not None:
        for path in graph.concept_paths(web, source, target):
            steps = []
            for (a, b), cmoc_ids in zip(
                zip(path, path[1:], strict=False), graph.path_cmocs(web, path), strict=True
            ):
                steps.append(
                    {
                        "source": web.nodes[a]["label"],
                        "target": web.nodes[b]["label"],
                        "sign": web.edges[a, b]["sign"],
                        "cmocs": [(i, data.cmocs[i]["code"]) for i in cmoc_ids[:12]],
                        "more": max(0, len(cmoc_ids) - 12),
                    }
                )
            paths.append({"nodes": path, "steps": steps})
    return render(
        request,
        "cmoc/theory/_paths.html",
        {
            "review": review,
            "paths": paths,
            "asked": source is not None and target is not None,
            "source": web.nodes[source]["label"] if source in web else None,
            "target": web.nodes[target]["label"] if target in web else None,
            "params": params,
            "path_nodes": json.dumps([[f"c{n}" for n in p["nodes"]] for p in paths]),
        },
    )


@review_view(Action.EXPORT)
def web_export(request, review: Review, fmt: str):
    if fmt not in graph.EXPORTERS:
        raise Http404("Unknown export format.")
    params = _web_params(request, review)
    _data, web = selectors_theory.web_graph(review=review, **params)
    which = f"v{params['version']}" if params["version"] else "current"
    label = f"{review.title} — causal web ({which})"
    body = graph.export(
        web, fmt, label=label, metadata={"review": review.pk, "version": params["version"]}
    )
    content_type, ext = graph.EXPORTERS[fmt]
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="causal-web-{review.pk}-{which}-{params["level"]}.{ext}"'
    )
    return response


# --- versions --------------------------------------------------------------------------------


@review_view()
def versions(request, review: Review):
    phases = selectors_theory.filter_options(review=review)["phases"]
    can_edit = can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role)
    form = TheoryVersionForm(phases=phases)
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Your role cannot save programme theory versions.")
        form = TheoryVersionForm(request.POST, phases=phases)
        if form.is_valid():
            try:
                version = services.theory_version_create(
                    review=review,
                    user=request.user,
                    label=form.cleaned_data["label"],
                    kind=form.cleaned_data["kind"],
                    rationale=form.cleaned_data["rationale"],
                    phase_names=form.cleaned_data["phases"] or None,
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                messages.success(request, f"Saved programme theory v{version.number}.")
                return redirect("theory-version-detail", review.pk, version.number)
        status = 400
    version_rows = list(selectors_theory.version_list(review=review))
    return render(
        request,
        "cmoc/theory/versions.html",
        {"review": review, "versions": version_rows, "form": form, "can_edit": can_edit},
        status=status,
    )


@review_view()
def version_detail(request, review: Review, number: int):
    try:
        version = selectors_theory.version_get(review=review, number=number)
    except TheoryVersion.DoesNotExist as exc:
        raise Http404 from exc
    cmocs = version.snapshot.get("cmocs", [])
    return render(
        request,
        "cmoc/theory/version_detail.html",
        {
            "review": review,
            "version": version,
            "cmocs": cmocs,
            "n_links": len(version.snapshot.get("links", [])),
            "others": selectors_theory.version_list(review=review).exclude(pk=version.pk),
        },
    )


@review_view()
def version_compare(request, review: Review):
    g = request.GET
    all_versions = list(selectors_theory.version_list(review=review))
    a, b = int_or_none(g.get("a")), int_or_none(g.get("b"))
    if a is None and b is None and len(all_versions) >= 2:
        a, b = all_versions[-2].number, all_versions[-1].number
    context = {"review": review, "versions": all_versions, "a": a, "b": b, "diff": None}
    if a is not None and b is not None:
        try:
            old = selectors_theory.version_get(review=review, number=a)
            new = selectors_theory.version_get(review=review, number=b)
        except TheoryVersion.DoesNotExist as exc:
            raise Http404("No such programme theory version.") from exc
        diff = version_diff(old.snapshot, new.snapshot)
        excerpt_ids = {
            x["id"]
            for k in ("evidence_gained", "evidence_lost")
            for e in diff[k]
            for x in e["excerpts"]
        }
        excerpts = selectors_theory.excerpts_by_id(review=review, ids=excerpt_ids)
        for k in ("evidence_gained", "evidence_lost"):
            for e in diff[k]:
                for x in e["excerpts"]:
                    x["excerpt"] = excerpts.get(x["id"])
        live = set(
            CMOC.objects.filter(
                review=review,
                pk__in={e["id"] for k in diff["counts"] for e in diff[k]}
                | {e["prior_id"] for k in diff["counts"] for e in diff[k] if e["prior_id"]},
            ).values_list("pk", flat=True)
        )
        sections = [
            ("added", "Added", diff["added"]),
            ("refined", "Refined", diff["refined"]),
            ("refuted", "Refuted", diff["refuted"]),
            ("removed", "Removed", diff["removed"]),
            ("evidence_gained", "Evidence gained", diff["evidence_gained"]),
            ("evidence_lost", "Evidence lost", diff["evidence_lost"]),
        ]
        context.update(diff=diff, old=old, new=new, sections=sections, live=live)
    return render(request, "cmoc/theory/compare.html", context)


# --- asserted chain links --------------------------------------------------------------------


@review_view()
def links(request, review: Review):
    can_edit = can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role)
    form = CMOCLinkForm()
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Your role cannot change chain links.")
        form = CMOCLinkForm(request.POST)
        if form.is_valid():
            cd = form.cleaned_data
            codes = dict(
                CMOC.objects.filter(
                    review=review, code__in=[cd["source"].strip(), cd["target"].strip()]
                ).values_list("code", "pk")
            )
            try:
                services.cmoc_link_create(
                    review=review,
                    user=request.user,
                    source=codes.get(cd["source"].strip(), -1),
                    target=codes.get(cd["target"].strip(), -1),
                    kind=cd["kind"],
                    note=cd["note"],
                    evidence_ids=cd["evidence"],
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                messages.success(request, "Chain link recorded.")
                return redirect("theory-links", review.pk)
        status = 400
    return render(
        request,
        "cmoc/theory/links.html",
        {
            "review": review,
            "links": selectors_theory.link_list(review=review),
            "form": form,
            "can_edit": can_edit,
        },
        status=status,
    )


@require_POST
@review_view(Action.EDIT_EVIDENCE)
def link_delete(request, review: Review, link_id: int):
    try:
        services.cmoc_link_delete(review=review, user=request.user, link=link_id)
    except ValidationError as exc:
        raise Http404 from exc
    messages.success(request, "Chain link removed.")
    return redirect("theory-links", review.pk)

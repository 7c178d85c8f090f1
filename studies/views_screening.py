"""Screening pages: stages and criteria, the keyboard-first reviewer view (htmx partials),
conflicts, agreement, full texts. Thin: they call selectors_screening and services."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from studies import fulltext
from studies import selectors_screening as sel
from studies.agreement import agreement_from_counts
from studies.highlight import highlight, parse_terms
from studies.models import (
    Decision,
    Document,
    ExclusionReason,
    Record,
    RecordScore,
    ScreeningDecision,
    ScreeningResolution,
    ScreeningStage,
    Study,
)
from studies.screening_rules import is_conflict, is_dual
from studies.services import screening as svc
from synthesis.concurrency import EditConflict, differences
from synthesis.models import Review, Role
from synthesis.permissions import Action, can
from synthesis.services import review_screening_update
from synthesis.views_base import int_or_none, review_view


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _stage(review: Review, stage_id: int) -> ScreeningStage:
    try:
        return sel.stage_get(review=review, stage_id=stage_id)
    except ScreeningStage.DoesNotExist as exc:
        raise Http404("No such screening stage.") from exc


def _reason(stage: ScreeningStage, value) -> ExclusionReason | None:
    """The stage's exclusion reason a form sent, or None for none, a junk value or another
    stage's reason (the service then asks for one where a reason is required)."""
    pk = int_or_none(value)
    return None if pk is None else ExclusionReason.objects.filter(stage=stage, pk=pk).first()


def _record(review: Review, record_id) -> Record:
    try:
        return Record.objects.get(review=review, pk=int(record_id))
    except (Record.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such record.") from exc


# ---------------------------------------------------------------- stages and settings


@review_view()
def screening_home(request, review: Review, settings_form: dict | None = None):
    stages = sel.stage_list(review=review)
    for stage in stages:
        stage.review = review
    progress = sel.progress_by_stage(stages=stages, user=request.user)
    for stage in stages:
        stage.progress = progress[stage.pk]
    return render(
        request,
        "studies/screening/home.html",
        {
            "review": review,
            "stages": stages,
            "kinds": ScreeningStage.Kind.choices,
            "maybe_modes": Review.MaybeCounts.choices,
            "settings_form": settings_form or _settings_values(review),
            "can_manage": can(request.user, review, Action.MANAGE, role=review.user_role),
            "can_screen": can(request.user, review, Action.SCREEN, role=review.user_role),
        },
    )


@require_POST
@review_view(Action.MANAGE)
def stages_default(request, review: Review):
    svc.stages_create_default(user=request.user, review=review)
    messages.success(request, "Stages created: title and abstract, then full text.")
    return redirect("screening-home", review.pk)


@require_POST
@review_view(Action.MANAGE)
def stage_new(request, review: Review):
    try:
        svc.stage_create(
            user=request.user,
            review=review,
            name=request.POST.get("name", ""),
            kind=request.POST.get("kind", ScreeningStage.Kind.TITLE_ABSTRACT),
        )
        messages.success(request, "Stage created.")
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, m)
    return redirect("screening-home", review.pk)


def _stage_values(stage: ScreeningStage) -> dict:
    return {
        "name": stage.name, "inclusion_criteria": stage.inclusion_criteria,
        "exclusion_criteria": stage.exclusion_criteria,
        "reasons": "\n".join(r.label for r in stage.reasons.all()),
        "reason_required": stage.reason_required,
    }  # fmt: skip


@review_view(Action.MANAGE)
def stage_edit(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    errors: list[str] = []
    saved_now: dict[str, str] = {}
    p = request.POST
    version = stage.version
    if request.method == "POST":
        try:
            svc.stage_update(
                user=request.user,
                stage=stage,
                name=p.get("name", stage.name),
                inclusion_criteria=p.get("inclusion_criteria", ""),
                exclusion_criteria=p.get("exclusion_criteria", ""),
                reason_required=p.get("reason_required") == "on",
                reasons=p.get("reasons", "").splitlines(),
                expected_version=int_or_none(p.get("version")),
            )
            messages.success(request, "Criteria and reasons saved.")
            return redirect("screening-home", review.pk)
        except EditConflict as exc:
            errors = [exc.message_text]
            saved = _stage_values(exc.current)
            posted = {k: p.get(k, "") for k in saved} | {
                "reason_required": p.get("reason_required") == "on"
            }
            shown = {
                "reason_required": "Yes" if saved["reason_required"] else "No",
                "reasons": "; ".join(saved["reasons"].splitlines()),
            }
            saved_now = differences(posted, saved, shown)
            version = exc.version  # saving again keeps this reviewer's version
        except ValidationError as exc:
            errors = _errors(exc)
            version = p.get("version") or version
    if request.method == "POST":  # what was typed stays in the form
        values = {k: p.get(k, "") for k in ("name", "inclusion_criteria", "exclusion_criteria")}
        values |= {"reasons": p.get("reasons", ""), "reason_required": "reason_required" in p}
    else:
        values = _stage_values(stage)
    return render(
        request,
        "studies/screening/stage_edit.html",
        {"review": review, "stage": stage, "errors": errors, "values": values,
         "version": version, "saved_now": saved_now},
    )  # fmt: skip


@require_POST
@review_view(Action.MANAGE)
def screening_settings(request, review: Review):
    p = request.POST
    try:
        fraction = Decimal(p.get("dual_fraction", "0.1"))
        seed = int(p.get("dual_seed", review.dual_seed))
        review_screening_update(
            user=request.user,
            review=review,
            expected_version=int_or_none(p.get("version")),
            blind_screening=p.get("blind_screening") == "on",
            dual_fraction=fraction,
            dual_seed=seed,
            maybe_counts_as=p.get("maybe_counts_as", review.maybe_counts_as),
            highlight_include_terms=p.get("highlight_include_terms", ""),
            highlight_exclude_terms=p.get("highlight_exclude_terms", ""),
        )
        messages.success(request, "Screening settings saved.")
    except EditConflict as exc:
        # Shown on the screening page again, with the typed settings kept.
        saved = _settings_values(exc.current)
        del saved["version"]
        posted = {k: p.get(k, "") for k in saved} | {"blind_screening": "blind_screening" in p}
        shown = {
            "blind_screening": "Yes" if saved["blind_screening"] else "No",
            "maybe_counts_as": exc.current.get_maybe_counts_as_display(),
            **{k: "; ".join(saved[k].splitlines()) for k in HIGHLIGHT_TERMS},
        }
        form = posted | {
            "version": exc.version, "error": exc.message_text,
            "saved_now": differences(posted, saved, shown),
        }  # fmt: skip
        return screening_home(request, review.pk, settings_form=form)
    except (InvalidOperation, ValueError) as exc:
        messages.error(request, f"Settings not saved: {exc or 'enter numbers'}")
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, f"Settings not saved: {m}")
    return redirect("screening-home", review.pk)


HIGHLIGHT_TERMS = ("highlight_include_terms", "highlight_exclude_terms")


def _settings_values(review: Review) -> dict:
    return {
        "blind_screening": review.blind_screening, "dual_fraction": str(review.dual_fraction),
        "dual_seed": str(review.dual_seed), "maybe_counts_as": review.maybe_counts_as,
        "highlight_include_terms": review.highlight_include_terms,
        "highlight_exclude_terms": review.highlight_exclude_terms,
        "version": review.screening_version,
    }  # fmt: skip


# ---------------------------------------------------------------- reviewer view


def _queue_params(request) -> tuple[str, str]:
    src = request.POST if request.method == "POST" else request.GET
    order = src.get("order", "position")
    filter_ = src.get("filter", "undecided")
    return (
        order if order in sel.ORDERS else "position",
        filter_ if filter_ in sel.FILTERS else "undecided",
    )


def _panel_context(request, review, stage, record, order, filter_, error=None, draft=None) -> dict:
    # `draft`: what a refused post carried (note, reason), shown again instead of the saved vote
    ctx = {
        "review": review, "stage": stage, "record": record, "order": order,
        "filter": filter_, "error": error, "orders": sel.ORDERS, "filters": sel.FILTERS,
        "draft": draft,
    }  # fmt: skip
    ctx["reasons"] = list(ExclusionReason.objects.filter(stage=stage).order_by("order", "id"))
    if record is None:
        return ctx
    votes = list(
        sel.decisions_visible_to(request.user, stage)
        .filter(record=record)
        .select_related("reviewer", "reason")
        .order_by("created_at")
    )
    mine = next((v for v in votes if v.reviewer_id == request.user.pk), None)
    others = [v for v in votes if v.reviewer_id != request.user.pk]
    # Always looked up (a constant query count per record), shown only beside visible votes.
    resolution = (
        ScreeningResolution.objects.filter(stage=stage, record=record)
        .select_related("reason", "resolved_by")
        .first()
    )
    ctx.update(
        mine=mine,
        others=others,
        conflict=bool(others) and is_conflict([v.decision for v in votes], review.maybe_counts_as),
        resolution=resolution if others else None,
        score=RecordScore.objects.filter(stage=stage, record=record).first(),
        dual=is_dual(record.pk, review.dual_seed, review.dual_fraction),
    )
    inc = parse_terms(review.highlight_include_terms)
    exc = parse_terms(review.highlight_exclude_terms)
    ctx["title_html"] = highlight(record.title, inc, exc)
    ctx["abstract_html"] = highlight(record.abstract, inc, exc)
    ctx["keywords_html"] = highlight("; ".join(map(str, record.keywords or [])), inc, exc)
    if stage.kind == ScreeningStage.Kind.FULL_TEXT:
        ctx["documents"] = list(Document.objects.filter(record=record).only("id", "title", "file"))
    return ctx


def _panel(request, review, stage, record, order, filter_, error=None, trigger=False, draft=None):
    resp = render(
        request,
        "studies/screening/_panel.html",
        _panel_context(request, review, stage, record, order, filter_, error, draft),
    )
    if trigger:
        resp["HX-Trigger"] = "screened"
    return resp


def _next(stage, user, after, order, filter_):
    found = sel.next_record(stage=stage, user=user, after=after, order=order, filter_=filter_)
    if found is None and after is not None:  # wrap round to records skipped earlier
        found = sel.next_record(stage=stage, user=user, order=order, filter_=filter_)
    return found


@review_view(Action.SCREEN)
def screen(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    order, filter_ = _queue_params(request)
    if order == "random":
        # Records created by a path that did not key them (one indexed UPDATE, usually of
        # nothing) join the random queue when it is opened.
        svc.record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed)
    record = None
    if request.GET.get("r"):
        record = sel.record_for_stage(stage=stage, record_id=_record(review, request.GET["r"]).pk)
    if record is None:
        start = None
        if filter_ == "undecided" and order != "priority":
            start = sel.last_decided(stage=stage, user=request.user)
        record = _next(stage, request.user, start, order, filter_)
    ctx = _panel_context(request, review, stage, record, order, filter_)
    ctx["stages"] = sel.stage_list(review=review)
    return render(request, "studies/screening/screen.html", ctx)


@review_view(Action.SCREEN)
def screen_record(request, review: Review, stage_id: int):
    """Partial: one record (`r`), or the next one in the queue after `after`."""
    stage = _stage(review, stage_id)
    order, filter_ = _queue_params(request)
    if request.GET.get("r"):
        record = sel.record_for_stage(stage=stage, record_id=_record(review, request.GET["r"]).pk)
        if record is None:
            raise Http404("That record is not screened at this stage.")
    else:
        after = _record(review, request.GET["after"]) if request.GET.get("after") else None
        record = _next(stage, request.user, after, order, filter_)
    return _panel(request, review, stage, record, order, filter_)


@require_POST
@review_view(Action.SCREEN)
def screen_decide(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    order, filter_ = _queue_params(request)
    record = _record(review, request.POST.get("record"))
    reason = _reason(stage, request.POST.get("reason"))
    try:
        svc.decision_record(
            user=request.user,
            stage=stage,
            record=record,
            decision=request.POST.get("decision", ""),
            reason=reason,
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        draft = {"note": request.POST.get("note", ""), "reason_id": reason.pk if reason else None}
        return _panel(
            request, review, stage, record, order, filter_,
            error=" ".join(_errors(exc)), draft=draft,
        )  # fmt: skip
    # After going back to change an earlier vote, carry on where the reviewer was (the
    # furthest record of the session) rather than scanning forward from the old record.
    resume = request.POST.get("resume")
    if resume and resume != str(record.pk):
        frontier = sel.record_for_stage(stage=stage, record_id=_record(review, resume).pk)
        if (
            frontier is not None
            and not ScreeningDecision.objects.filter(
                stage=stage, record=frontier, reviewer=request.user
            ).exists()
        ):
            return _panel(request, review, stage, frontier, order, filter_, trigger=True)
        record = frontier or record
    nxt = _next(stage, request.user, record, order, filter_)
    if not request.headers.get("HX-Request"):  # plain form post (no JavaScript)
        query = f"?order={order}&filter={filter_}" + (f"&r={nxt.pk}" if nxt else "")
        return redirect(reverse("screening-screen", args=[review.pk, stage.pk]) + query)
    return _panel(request, review, stage, nxt, order, filter_, trigger=True)


@require_POST
@review_view(Action.SCREEN)
def screen_undo(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    order, filter_ = _queue_params(request)
    record = _record(review, request.POST.get("record"))
    svc.decision_undo(user=request.user, stage=stage, record=record)
    return _panel(request, review, stage, record, order, filter_, trigger=True)


@review_view(Action.SCREEN)
def screen_progress(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    return render(
        request,
        "studies/screening/_progress.html",
        {"review": review, "stage": stage, "p": sel.progress(stage=stage, user=request.user)},
    )


# ---------------------------------------------------------------- conflicts and agreement


CONFLICTS_PAGE = 50


def _cursor(value: str | None) -> tuple[int, int] | None:
    try:
        position, pk = (int(x) for x in (value or "").split("-"))
    except ValueError:
        return None
    return position, pk


@review_view()
def conflicts(request, review: Review, stage_id: int):
    """Keyset pages ("next 50 after this record"): no OFFSET and no count of the whole
    stage, so a page costs the same on the first conflict and the ten-thousandth."""
    stage = _stage(review, stage_id)
    show = request.GET.get("show", "open")
    after = _cursor(request.GET.get("after"))
    rows = list(sel.conflict_list(stage=stage, unresolved=show == "open", after=after)[
        : CONFLICTS_PAGE + 1
    ])  # fmt: skip
    more = len(rows) > CONFLICTS_PAGE
    rows = rows[:CONFLICTS_PAGE]
    votes: dict[int, list[ScreeningDecision]] = {}
    for v in (
        sel.decisions_visible_to(request.user, stage)
        .filter(record_id__in=[r.pk for r in rows])
        .select_related("reviewer", "reason")
        .order_by("created_at")
    ):
        votes.setdefault(v.record_id, []).append(v)
    for r in rows:
        r.votes = votes.get(r.pk, [])
    if show == "open" and after is None and not more:
        open_count = len(rows)  # the whole list is on this page: exact, and free
    else:
        open_count = sel.open_conflicts_cached(stage=stage)
    return render(
        request,
        "studies/screening/conflicts.html",
        {
            "review": review, "stage": stage, "rows": rows, "show": show, "first": after is None,
            "next_after": f"{rows[-1].position}-{rows[-1].pk}" if more else None,
            "open_count": open_count,
        },
    )  # fmt: skip


@review_view()
def conflict_detail(request, review: Review, stage_id: int, record_id: int):
    stage = _stage(review, stage_id)
    record = _record(review, record_id)
    error = None
    if request.method == "POST":
        reason = _reason(stage, request.POST.get("reason"))
        try:
            svc.resolution_record(
                user=request.user, stage=stage, record=record,
                decision=request.POST.get("decision", ""), reason=reason,
                note=request.POST.get("note", ""), expected=request.POST.get("resolution"),
            )  # fmt: skip
            messages.success(request, f"Conflict on record {record.pk} resolved.")
            return redirect("screening-conflicts", review.pk, stage.pk)
        except ValidationError as exc:
            error = " ".join(_errors(exc))
        except PermissionDenied as exc:
            error = str(exc)
    votes = list(
        sel.decisions_visible_to(request.user, stage)
        .filter(record=record)
        .select_related("reviewer", "reason")
        .order_by("created_at")
    )
    if len(votes) < 2:
        raise Http404("No visible conflict on that record.")
    resolution = (
        ScreeningResolution.objects.filter(stage=stage, record=record)
        .select_related("reason", "resolved_by")
        .first()
    )
    if error is not None:  # shown again as entered, to correct
        entered = {
            "decision": request.POST.get("decision", ""),
            "reason": request.POST.get("reason", ""),
            "note": request.POST.get("note", ""),
        }
    else:
        entered = {
            "decision": resolution.decision if resolution else "",
            "reason": str(resolution.reason_id or "") if resolution else "",
            "note": resolution.note if resolution else "",
        }
    can_screen = can(request.user, review, Action.SCREEN, role=review.user_role)
    # The service refuses a voter who is not the owner: no form they cannot use.
    voter = review.user_role != Role.OWNER and any(v.reviewer_id == request.user.pk for v in votes)
    return render(
        request,
        "studies/screening/conflict_detail.html",
        {
            "review": review, "stage": stage, "record": record, "votes": votes, "error": error,
            "resolution": resolution, "entered": entered,
            "resolution_state": svc.resolution_state(resolution),
            "reasons": stage.reasons.all(), "decisions": Decision.choices,
            "can_resolve": can_screen and not voter, "voter": can_screen and voter,
        },
    )  # fmt: skip


@review_view()
def agreement_page(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    mode = request.GET.get("maybe", review.maybe_counts_as)
    if mode not in Review.MaybeCounts.values:
        mode = review.maybe_counts_as
    by_pair = sel.agreement_counts(stage=stage)
    from django.contrib.auth import get_user_model

    names = dict(
        get_user_model()
        .objects.filter(pk__in={u for pair in by_pair for u in pair})
        .values_list("pk", "username")
    )
    all_counts: Counter[tuple[str, str]] = Counter()
    rows = []
    for (a, b), counts in sorted(by_pair.items()):
        all_counts.update(counts)
        rows.append(
            {"a": names.get(a, a), "b": names.get(b, b),
             "stats": agreement_from_counts(counts, maybe=mode)}
        )  # fmt: skip
    overall = agreement_from_counts(all_counts, maybe=mode)
    return render(
        request,
        "studies/screening/agreement.html",
        {
            "review": review, "stage": stage, "rows": rows, "overall": overall, "mode": mode,
            "modes": Review.MaybeCounts.choices,
            "cells": [[overall.cell(r, c) for c in overall.categories] for r in overall.categories],
        },
    )  # fmt: skip


# ---------------------------------------------------------------- full texts


def _fulltext_stage(review: Review) -> ScreeningStage | None:
    return (
        ScreeningStage.objects.filter(review=review, kind=ScreeningStage.Kind.FULL_TEXT)
        .order_by("order")
        .first()
    )


def _back_to_fulltexts(request, review: Review, record: Record):
    """The list as the reviewer left it (filter and page), at the row just acted on."""
    back = QueryDict(request.POST.get("back", ""))
    query = urlencode({k: back[k] for k in ("status", "page") if back.get(k)})
    url = reverse("screening-fulltexts", args=[review.pk])
    return redirect(f"{url}{'?' + query if query else ''}#record-{record.pk}")


@review_view()
def fulltexts(request, review: Review):
    ft_stage = _fulltext_stage(review)
    prev = sel.previous_stage(ft_stage) if ft_stage else None
    if prev is not None:
        prev.review = review
        svc.reports_sought_sync(user=request.user, stage=prev)
    status = request.GET.get("status", "")
    qs = sel.reports_sought(review=review, status=status).select_related("study")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    ids = [r.pk for r in page]
    docs: dict[int, list] = {}
    for d in Document.objects.filter(record_id__in=ids).only("id", "title", "file", "record_id"):
        docs.setdefault(d.record_id, []).append(d)
    outcomes = {}
    if ft_stage is not None:
        ft_stage.review = review
        outcomes = svc.record_outcomes(ft_stage, list(page))
    for r in page:
        r.docs = docs.get(r.pk, [])
        r.ft_outcome = outcomes.get(r.pk)
    base = Record.objects.filter(review=review, duplicate_of__isnull=True)
    counts = {
        s: base.filter(fulltext_status=s).count()
        for s in (Record.FullTextStatus.SOUGHT, Record.FullTextStatus.RETRIEVED,
                  Record.FullTextStatus.NOT_RETRIEVED)
    }  # fmt: skip
    return render(
        request,
        "studies/screening/fulltexts.html",
        {
            "review": review, "page": page, "stage": ft_stage, "status": status,
            "counts": counts, "statuses": Record.FullTextStatus.choices,
            "studies": Study.objects.filter(review=review).only("id", "label"),
            "can_screen": can(request.user, review, Action.SCREEN, role=review.user_role),
        },
    )  # fmt: skip


@require_POST
@review_view(Action.SCREEN)
def fulltext_upload(request, review: Review, record_id: int):
    record = _record(review, record_id)
    f = request.FILES.get("file")
    if f is None:
        messages.error(request, "Choose a PDF, TXT or HTML file to upload.")
    else:
        try:
            doc = svc.fulltext_upload(
                user=request.user, record=record, filename=f.name, data=f.read()
            )
            messages.success(request, f"{f.name}: {len(doc.page_map)} page(s) of text extracted.")
        except fulltext.ExtractionError as exc:
            messages.error(request, str(exc))
    return _back_to_fulltexts(request, review, record)


@require_POST
@review_view(Action.SCREEN)
def fulltext_batch(request, review: Review):
    files = [(f.name, f.read()) for f in request.FILES.getlist("files")]
    if not files:
        messages.error(request, "Choose the files to upload.")
        return redirect("screening-fulltexts", review.pk)
    result = svc.fulltext_batch_upload(user=request.user, review=review, files=files)
    if result.matched:
        messages.success(
            request,
            f"{len(result.matched)} matched: "
            + "; ".join(f"{n} → record {r.pk}" for n, r in result.matched),
        )
    if result.unmatched:
        messages.error(
            request, "Not matched (upload them one by one): " + "; ".join(result.unmatched)
        )
    for e in result.errors:
        messages.error(request, e)
    return redirect("screening-fulltexts", review.pk)


@require_POST
@review_view(Action.SCREEN)
def fulltext_not_retrieved(request, review: Review, record_id: int):
    record = _record(review, record_id)
    svc.fulltext_not_retrieved(user=request.user, record=record, note=request.POST.get("note", ""))
    messages.success(request, f"Record {record.pk}: full text not retrieved.")
    return _back_to_fulltexts(request, review, record)


@require_POST
@review_view(Action.EDIT_EVIDENCE)
def studies_create(request, review: Review):
    stage = _fulltext_stage(review)
    if stage is None:
        raise Http404("No full-text stage.")
    stage.review = review
    created = svc.studies_from_included(user=request.user, stage=stage)
    messages.success(request, f"{len(created)} stud{'y' if len(created) == 1 else 'ies'} created.")
    return redirect("screening-fulltexts", review.pk)


@require_POST
@review_view(Action.EDIT_EVIDENCE)
def report_group(request, review: Review, record_id: int):
    record = _record(review, record_id)
    if not request.POST.get("study"):
        messages.error(request, f"Record {record.pk}: choose the study it is a report of.")
        return _back_to_fulltexts(request, review, record)
    study = Study.objects.filter(review=review, pk=int_or_none(request.POST["study"])).first()
    if study is None:
        raise Http404("No such study.")
    try:
        # "shown": the study the page showed it under, so a co-reviewer's newer choice stays.
        svc.report_group(
            user=request.user, record=record, study=study, expected=request.POST.get("shown")
        )
    except ValidationError as exc:
        for m in _errors(exc):
            messages.error(request, m)
        return _back_to_fulltexts(request, review, record)
    messages.success(request, f"Record {record.pk} is now a report of {study.label}.")
    return _back_to_fulltexts(request, review, record)

"""Identification pages: search log, upload → preview → import, import status, duplicates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from studies import selectors_identification as sel
from studies.importers import FORMATS, ImportFormatError
from studies.importers.tabular import FIELDS
from studies.models import DuplicateCandidate, ImportBatch, Record, Search
from studies.services import identification as svc
from synthesis.concurrency import EditConflict, VersionedForm
from synthesis.models import Review
from synthesis.permissions import Action, can
from synthesis.views_activity import history_for
from synthesis.views_base import review_view

MAX_UPLOAD = 200 * 1024 * 1024


class SearchForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = Search
        fields = ["source", "kind", "phase", "run_on", "query", "limits", "reported_hits", "notes"]
        widgets = {
            "run_on": forms.DateInput(attrs={"type": "date"}),
            "query": forms.Textarea(attrs={"rows": 8, "class": "mono"}),
            "limits": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, review: Review, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = review.phases.all()


class UploadForm(forms.Form):
    search = forms.ModelChoiceField(queryset=Search.objects.none(), label="Search")
    file = forms.FileField(label="Export file")
    format = forms.ChoiceField(
        choices=[("auto", "Detect from content"), *FORMATS.items()], initial="auto"
    )

    def __init__(self, *args, review: Review, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["search"].queryset = Search.objects.filter(review=review)

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_UPLOAD:
            raise forms.ValidationError("The file is larger than 200 MB.")
        if f.size == 0:
            raise forms.ValidationError("The file is empty.")
        return f


def _can_edit(request, review) -> bool:
    return can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role)


@review_view()
def search_list(request, review: Review):
    searches = list(sel.search_list(review=review))
    return render(
        request,
        "studies/identification/search_list.html",
        {
            "review": review,
            "searches": searches,
            "prisma": sel.prisma_identification(review),
            "batches": sel.batch_list(review=review)[:20],
            "can_edit": _can_edit(request, review),
        },
    )


@review_view(Action.EDIT_EVIDENCE)
def search_edit(request, review: Review, search_id: int | None = None):
    search = None
    if search_id is not None:
        try:
            search = sel.search_get(review=review, search_id=search_id)
        except Search.DoesNotExist as exc:
            raise Http404 from exc
    initial = {"version": search.version} if search is not None else None
    form = SearchForm(request.POST or None, instance=search, review=review, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        try:
            if search is None:
                search = svc.search_create(user=request.user, review=review, **data)
            else:
                svc.search_update(
                    user=request.user, search=Search.objects.get(pk=search.pk),
                    expected_version=form.cleaned_data["version"], **data,
                )  # fmt: skip
        except EditConflict as exc:
            form.conflict(exc)
        except (ValueError, forms.ValidationError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Search saved.")
            return redirect("identification-searches", review.pk)
    return render(
        request,
        "studies/identification/search_form.html",
        {"review": review, "form": form, "search": search,
         "history": history_for(request.user, review, search) if search else None},
    )  # fmt: skip


@review_view(Action.EDIT_EVIDENCE)
def import_upload(request, review: Review):
    initial = {"search": request.GET.get("search")}
    form = UploadForm(request.POST or None, request.FILES or None, review=review, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = svc.import_batch_create(
            user=request.user,
            review=review,
            search=form.cleaned_data["search"],
            data=upload.read(),
            filename=upload.name,
            format=form.cleaned_data["format"],
        )  # a CSV's columns are mapped on the preview page
        return redirect("identification-batch", review.pk, batch.pk)
    if not Search.objects.filter(review=review).exists():
        messages.info(request, "Log the search first: every import belongs to a search.")
        return redirect("identification-search-new", review.pk)
    return render(request, "studies/identification/upload.html", {"review": review, "form": form})


def _batch_or_404(review, batch_id) -> ImportBatch:
    try:
        return sel.batch_get(review=review, batch_id=batch_id)
    except ImportBatch.DoesNotExist as exc:
        raise Http404 from exc


@review_view()
def import_batch(request, review: Review, batch_id: int):
    batch = _batch_or_404(review, batch_id)
    preview = None
    if batch.status == ImportBatch.Status.PREVIEW and batch.file:
        preview = svc.import_batch_preview(user=request.user, batch=batch)
    template = "studies/identification/batch.html"
    fields = [("", "— not imported (kept in raw) —"), *((f, f.replace("_", " ")) for f in FIELDS)]
    history = None
    if request.headers.get("HX-Request") and request.GET.get("part") == "status":
        template = "studies/identification/_batch_status.html"
    else:  # the status part is polled while the import runs: history only on the page
        history = history_for(request.user, review, batch)
    return render(
        request,
        template,
        {"review": review, "batch": batch, "preview": preview, "can_edit": _can_edit(request, review),
         "pending": sel.duplicate_list(review=review).filter(batch=batch).count(),
         "fields": fields, "history": history},
    )  # fmt: skip


@require_POST
@review_view(Action.EDIT_EVIDENCE)
def import_columns(request, review: Review, batch_id: int):
    """The preview's column → field selects: save the mapping, show the preview again."""
    batch = _batch_or_404(review, batch_id)
    headers, fields = request.POST.getlist("header"), request.POST.getlist("field")
    if len(headers) != len(fields) or not headers:
        messages.error(request, "The column mapping was incomplete; nothing was changed.")
        return redirect("identification-batch", review.pk, batch.pk)
    try:
        svc.import_batch_columns_set(
            user=request.user, batch=batch, columns=dict(zip(headers, fields, strict=True))
        )
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("identification-batch", review.pk, batch.pk)


@require_POST
@review_view(Action.EDIT_EVIDENCE)
def import_confirm(request, review: Review, batch_id: int):
    batch = _batch_or_404(review, batch_id)
    try:
        batch = svc.import_confirm(user=request.user, batch=batch)
    except ImportFormatError as exc:
        messages.error(request, f"Nothing was imported. {exc.message}")
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        if batch.status == ImportBatch.Status.DONE:
            messages.success(
                request,
                f"Imported {batch.parsed_count} records: {batch.created_count} new, "
                f"{batch.duplicate_count} duplicates merged.",
            )
    return redirect("identification-batch", review.pk, batch.pk)


@review_view()
def duplicate_list(request, review: Review):
    status = request.GET.get("status", "pending")
    if status not in ("pending", "merged", "rejected"):
        status = "pending"
    page = Paginator(sel.duplicate_list(review=review, status=status), 25).get_page(
        request.GET.get("page")
    )
    pairs = list(page)
    sources = sel.record_sources(
        review=review, record_ids=[r for p in pairs for r in (p.record_a_id, p.record_b_id)]
    )
    return render(
        request,
        "studies/identification/duplicates.html",
        {"review": review, "page": page, "pairs": [_pair_view(p, sources) for p in pairs],
         "status": status, "can_edit": _can_edit(request, review),
         "total": page.paginator.count},
    )  # fmt: skip


COMPARE = [("title", "Title"), ("authors", "Authors"), ("year", "Year"), ("journal", "Journal"),
           ("volume", "Volume"), ("issue", "Issue"), ("pages", "Pages"), ("doi", "DOI"),
           ("pmid", "PMID"), ("type", "Type"), ("abstract", "Abstract")]  # fmt: skip


def _show(value) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _pair_view(p: DuplicateCandidate, sources: dict) -> dict:
    rows = []
    for field, label in COMPARE:
        a, b = _show(getattr(p.record_a, field)), _show(getattr(p.record_b, field))
        if field == "abstract":
            a, b = a[:600], b[:600]
        rows.append({"label": label, "a": a, "b": b,
                     "differs": bool(a and b and a.casefold() != b.casefold()),
                     "missing": bool(a) != bool(b)})  # fmt: skip
    return {"pair": p, "rows": rows, "sources_a": sources.get(p.record_a_id, []),
            "sources_b": sources.get(p.record_b_id, [])}  # fmt: skip


def _candidate_or_404(review, candidate_id) -> DuplicateCandidate:
    try:
        return DuplicateCandidate.objects.select_related("record_a", "record_b").get(
            review=review, pk=candidate_id
        )
    except DuplicateCandidate.DoesNotExist as exc:
        raise Http404 from exc


@require_POST
@review_view(Action.EDIT_EVIDENCE)
def duplicate_decide(request, review: Review, candidate_id: int, verb: str):
    candidate = _candidate_or_404(review, candidate_id)
    try:
        if verb == "confirm":
            survivor = None
            keep = request.POST.get("survivor")
            if keep:
                survivor = Record.objects.filter(review=review, pk=keep).first()
                if survivor is None:
                    return HttpResponseBadRequest("Unknown record.")
            candidate = svc.duplicate_confirm(
                user=request.user, candidate=candidate, survivor=survivor
            )
            msg = "Merged."
        elif verb == "reject":
            candidate = svc.duplicate_reject(user=request.user, candidate=candidate)
            msg = "Kept as two records."
        elif verb == "undo":
            candidate = svc.duplicate_undo(user=request.user, candidate=candidate)
            msg = "Undone: the pair is back on the list to check."
        else:
            raise Http404
    except ValueError as exc:
        msg = str(exc)
    if request.headers.get("HX-Request"):
        candidate = _candidate_or_404(review, candidate.pk)
        sources = sel.record_sources(
            review=review, record_ids=[candidate.record_a_id, candidate.record_b_id]
        )
        status = request.POST.get("status", "pending")
        if status not in ("pending", "merged", "rejected"):
            status = "pending"
        # The pair stays in place (to undo); the heading's count of the list shown follows it.
        total = sel.duplicate_list(review=review, status=status).count()
        return render(
            request,
            "studies/identification/_pair.html",
            {"review": review, "p": _pair_view(candidate, sources), "can_edit": True,
             "message": msg, "status": status, "oob_total": True, "total": total},
        )  # fmt: skip
    messages.info(request, msg)
    status = request.POST.get("status", "pending")
    return redirect(f"{reverse('identification-duplicates', args=[review.pk])}?status={status}")

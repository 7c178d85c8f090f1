"""Reporting pages and downloads: exports, PRISMA 2020, RAMESES, API access, backup."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from synthesis import backup, export_jobs, exports, prisma, rameses, services
from synthesis.audit import event_record
from synthesis.models import Review
from synthesis.permissions import Action, can, check
from synthesis.selectors_reporting import prisma_counts, rameses_facts
from synthesis.views_base import review_view

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LABELS = [
    ("cmocs", "CMOC table", "One row per CMOC with concepts, sources and excerpt quotes."),
    ("study-cmocs", "CMOCs per study", "Which CMOCs each study's excerpts support."),
    ("characteristics", "Study characteristics", "From the current extraction form."),
    ("decisions", "Screening decisions", "Votes you may see, with reasons and resolutions."),
    ("agreement", "Screening agreement", "Percent agreement and Cohen's kappa per pair."),
]


# Tables whose XLSX is prepared as a background job (they grow to 100k rows); the others
# are small enough to write during the request.
JOB_TABLES = {"cmocs", "characteristics"}


def _downloads_context(request, review: Review) -> dict:
    jobs = list(export_jobs.export_jobs_for(user=request.user, review=review)[:10])
    return {
        "review": review,
        "jobs": [
            (job, export_jobs.KINDS.get(job.params.get("what"), ("", "?"))[1]) for job in jobs
        ],
        "pending": any(job.status in (job.Status.QUEUED, job.Status.RUNNING) for job in jobs),
    }


@review_view()
def reporting_index(request, review: Review):
    role = review.user_role
    return render(
        request,
        "synthesis/reporting/index.html",
        {
            **_downloads_context(request, review),
            "exports": EXPORT_LABELS,
            "job_tables": JOB_TABLES,
            "can_export": can(request.user, review, Action.EXPORT, role=role),
            "can_manage": can(request.user, review, Action.MANAGE, role=role),
        },
    )


@review_view()
def export_jobs_part(request, review: Review):
    """The user's prepared downloads (polled by htmx while one is being prepared)."""
    return render(
        request, "synthesis/reporting/_downloads.html", _downloads_context(request, review)
    )


@require_POST
@review_view()
def export_job_create(request, review: Review, what: str):
    try:
        export_jobs.export_job_request(user=request.user, review=review, what=what)
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    messages.info(request, "Preparing the download; the link appears below when it is ready.")
    target = "reporting-backup" if what == "backup.zip" else "reporting"
    return redirect(f"{reverse(target, args=[review.pk])}#downloads")


@review_view()
def export_job_download(request, review: Review, job_id: int):
    found = export_jobs.export_job_file(user=request.user, review=review, job_id=job_id)
    if found is None:
        raise Http404("No such download (it may still be in preparation).")
    fh, filename = found
    return FileResponse(fh, as_attachment=True, filename=filename)


def _audit_export(request, review, what: str) -> None:
    event_record(review=review, actor=request.user, verb="export.download", summary=what)


@review_view(Action.EXPORT)
def export_download(request, review: Review, name: str, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404("Exports come as .csv or .xlsx.")
    if fmt == "xlsx" and name in JOB_TABLES and not request.GET.get("study"):
        messages.info(request, "This workbook is prepared in the background: use its XLSX button.")
        return redirect("reporting", review.pk)
    study = request.GET.get("study")
    try:
        study_id = int(study) if study else None
        table = exports.export_table(user=request.user, review=review, name=name, study_id=study_id)
    except (ValueError, OverflowError) as exc:
        raise Http404(str(exc)) from exc
    _audit_export(request, review, f"{name}.{fmt}")
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_lines(table), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{table.filename}.csv"'
        return response
    return FileResponse(
        exports.xlsx_tempfile([table]), as_attachment=True, filename=f"{table.filename}.xlsx"
    )


@review_view(Action.EXPORT)
def export_bibliography(request, review: Review, fmt: str):
    if fmt not in ("ris", "bib"):
        raise Http404("Included studies come as .ris or .bib.")
    _audit_export(request, review, f"included.{fmt}")
    if fmt == "ris":
        body, ctype = exports.ris_text(review), "application/x-research-info-systems"
    else:
        body, ctype = exports.bibtex_text(review), "application/x-bibtex"
    response = HttpResponse(body, content_type=f"{ctype}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="included-review-{review.pk}.{fmt}"'
    return response


@review_view()
def prisma_page(request, review: Review):
    flow = prisma.flow(prisma_counts(review=review))
    return render(
        request,
        "synthesis/reporting/prisma.html",
        {
            "review": review,
            "flow": flow,
            "svg": prisma.svg(flow),
            "can_export": can(request.user, review, Action.EXPORT, role=review.user_role),
        },
    )


def prisma_file(review: Review, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, extension) of the PRISMA diagram; shared with the command."""
    flow = prisma.flow(prisma_counts(review=review))
    if fmt == "svg":
        return prisma.svg(flow).encode(), "image/svg+xml", "svg"
    if fmt == "png":
        import cairosvg

        return cairosvg.svg2png(bytestring=prisma.svg(flow).encode(), scale=2), "image/png", "png"
    if fmt == "prisma2020":
        return prisma.prisma2020_csv(flow).encode(), "text/csv", "csv"
    if fmt == "xlsx":  # every count, with the per-source and per-reason breakdowns
        rows = []
        for box, value in flow.counts.items():
            items = value.items() if isinstance(value, dict) else [("", value)]
            rows += [[box, detail, n] for detail, n in items]
        table = exports.Table("PRISMA 2020 counts", ["Box", "Detail", "n"], rows, "prisma")
        with exports.xlsx_tempfile([table]) as tmp:
            body = tmp.read()
        return body, XLSX_TYPE, "xlsx"
    if fmt == "csv":  # plain counts, one per line
        lines = ["box,n"] + [f"{k},{v}" for k, v in flow.counts.items() if not isinstance(v, dict)]
        return ("\n".join(lines) + "\n").encode(), "text/csv", "csv"
    raise Http404("Unknown format.")


@review_view(Action.EXPORT)
def prisma_download(request, review: Review, fmt: str):
    body, ctype, ext = prisma_file(review, fmt)
    _audit_export(request, review, f"prisma.{fmt}")
    response = HttpResponse(body, content_type=ctype)
    name = "prisma2020-data" if fmt == "prisma2020" else "prisma"
    response["Content-Disposition"] = f'attachment; filename="{name}-review-{review.pk}.{ext}"'
    return response


@review_view()
def rameses_page(request, review: Review, checklist: str = "rameses"):
    if checklist not in rameses.CHECKLISTS:
        raise Http404
    facts = rameses_facts(review=review)
    return render(
        request,
        "synthesis/reporting/rameses.html",
        {
            "review": review,
            "checklist": checklist,
            "checklists": [(k, v[0]) for k, v in rameses.CHECKLISTS.items()],
            "title": rameses.CHECKLISTS[checklist][0],
            "items": rameses.checklist(checklist, facts),
            "can_export": can(request.user, review, Action.EXPORT, role=review.user_role),
        },
    )


@review_view(Action.EXPORT)
def rameses_download(request, review: Review, checklist: str):
    if checklist not in rameses.CHECKLISTS:
        raise Http404
    _audit_export(request, review, f"{checklist}.csv")
    response = HttpResponse(
        rameses.checklist_csv(checklist, rameses_facts(review=review)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{checklist}-review-{review.pk}.csv"'
    return response


@review_view()
def api_access(request, review: Review):
    """How to reach this review through the REST API, and the user's API token."""
    if request.method == "POST":
        services.api_token_replace(user=request.user, review=review)
        messages.success(request, "A new API token was created; the old one no longer works.")
        return redirect("reporting-api", review.pk)
    token = Token.objects.filter(user=request.user).first()
    return render(request, "synthesis/reporting/api.html", {"review": review, "token": token})


@review_view(Action.MANAGE)
def backup_page(request, review: Review):
    return render(request, "synthesis/reporting/backup.html", _downloads_context(request, review))


@require_POST
@review_view(Action.MANAGE)
def backup_restore(request, review: Review):
    """Restore an archive as a new review owned by the current user (owners only: restoring
    may create user accounts)."""
    upload = request.FILES.get("archive")
    if upload is None:
        messages.error(request, "Choose a review archive (.zip) to restore.")
        return redirect("reporting-backup", review.pk)
    try:
        new = backup.review_import(archive=upload, user=request.user)
    except backup.BackupError as exc:
        messages.error(request, f"Nothing was restored: {exc}")
        return redirect("reporting-backup", review.pk)
    except PermissionDenied:
        raise
    messages.success(request, f"Restored as a new review “{new.title}”.")
    check(request.user, new, Action.VIEW)
    return redirect("review-dashboard", new.pk)

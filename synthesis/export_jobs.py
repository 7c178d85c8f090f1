"""Large downloads prepared as background jobs (django-q2, the `Job` model the imports use):
the CMOC and characteristics workbooks, the all-tables workbook and the review archive.
The page shows the job's progress and, when it is done, a download link for the user who
asked (the file holds what *they* may see). CSV stays streamed straight to the browser.
"""

import os
import tempfile
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from synthesis import backup, exports
from synthesis.audit import event_record
from synthesis.jobs import job_enqueue, job_progress
from synthesis.models import Job, Review
from synthesis.permissions import Action, check

KIND = "export"
WORKBOOK = ["cmocs", "study-cmocs", "characteristics", "decisions", "agreement"]
# what → (action needed, label shown on the page)
KINDS: dict[str, tuple[str, str]] = {
    "cmocs.xlsx": (Action.EXPORT, "CMOC table (XLSX)"),
    "characteristics.xlsx": (Action.EXPORT, "Study characteristics (XLSX)"),
    "workbook.xlsx": (Action.EXPORT, "All tables (XLSX workbook)"),
    "backup.zip": (Action.MANAGE, "Review archive (zip)"),
}


def export_job_request(*, user, review: Review, what: str) -> Job:
    """Queue the preparation of a large download for `user`."""
    if what not in KINDS:
        raise ValueError(f"Unknown download: {what}")
    check(user, review, KINDS[what][0])
    _prune(user=user, review=review)
    with transaction.atomic():
        job = job_enqueue(
            review=review, kind=KIND, func="synthesis.export_jobs.export_job_run",
            params={"what": what, "user_id": user.pk}, user=user,
        )  # fmt: skip
        event_record(review=review, actor=user, verb="export.request", target=job, summary=what)
    return job


KEEP = 5  # prepared files kept per user and review; older ones are deleted
# A prepared file is a snapshot of the review (the archive holds all of it): after a week it is
# deleted whoever asked for it, and asked for again if still wanted.
EXPIRE_AFTER = timedelta(days=7)


def _prune(*, user, review: Review) -> None:
    """Delete the files of the user's older downloads, and of anyone's download in this review
    older than EXPIRE_AFTER, so exports do not pile up in storage."""
    done = Job.objects.filter(status=Job.Status.DONE)
    stale = {
        job.pk: job
        for job in [
            *export_jobs_for(user=user, review=review).filter(status=Job.Status.DONE)[KEEP - 1 :],
            *done.filter(review=review, kind=KIND, created_at__lt=timezone.now() - EXPIRE_AFTER),
        ]
    }
    for job in stale.values():
        if job.result.get("file"):
            default_storage.delete(job.result["file"])
            Job.objects.filter(pk=job.pk).update(
                result={**job.result, "file": ""}, message="Expired: ask for it again"
            )


def export_jobs_for(*, user, review: Review) -> QuerySet[Job]:
    """The user's own export jobs in this review, newest first."""
    return Job.objects.filter(review=review, kind=KIND, created_by=user).order_by(
        "-created_at", "-id"
    )


def export_job_file(*, user, review: Review, job_id: int):
    """(open file, download name) of a finished export job the user asked for; None when
    there is no such file. The permission is checked again: a role may have changed."""
    job = export_jobs_for(user=user, review=review).filter(pk=job_id).first()
    if job is None or job.status != Job.Status.DONE or not job.result.get("file"):
        return None
    check(user, review, KINDS[job.params["what"]][0])
    if not default_storage.exists(job.result["file"]):
        return None
    event_record(review=review, actor=user, verb="export.download", summary=job.result["filename"])
    return default_storage.open(job.result["file"], "rb"), job.result["filename"]


def _table_sizes(review: Review, names: list[str]) -> int:
    from cmoc.models import CMOC
    from studies.models import Study

    sizes = {
        "cmocs": lambda: CMOC.objects.filter(review=review).count(),
        "characteristics": lambda: Study.objects.filter(review=review).count(),
    }
    return sum(sizes[n]() for n in names if n in sizes)


def export_job_run(*, job: Job, what: str, user_id: int) -> dict:
    """Write the file into storage (exports/review-<id>/) and return where it is."""
    user = get_user_model().objects.get(pk=user_id)
    review = Review.objects.get(pk=job.review_id)
    check(user, review, KINDS[what][0])  # membership may have changed since the request
    stem, ext = what.rsplit(".", 1)
    filename = f"{stem}-review-{review.pk}.{ext}"
    with tempfile.NamedTemporaryFile(suffix=f".{ext}") as tmp:
        if what == "backup.zip":

            def on_table(done, total, message):
                job_progress(job, progress=done, total=total, message=message)

            counts = backup.review_export(user=user, review=review, path=tmp, progress=on_table)
            rows = sum(counts.values())
        else:
            names = WORKBOOK if stem == "workbook" else [stem]
            tables = [exports.export_table(user=user, review=review, name=n) for n in names]
            if len(tables) > 1:  # one step per sheet

                def on_row(t, i):
                    if i == 0:
                        job_progress(
                            job, progress=t, total=len(tables), message=f"{tables[t].title}"
                        )
            else:  # one step per row
                total = _table_sizes(review, names)

                def on_row(t, i):
                    job_progress(job, progress=i, total=total, message=f"{i} of {total} rows")

            exports.xlsx_write(tables, tmp.name, on_row=on_row)
            rows = None
        tmp.flush()
        tmp.seek(0)
        stored = default_storage.save(
            f"exports/review-{review.pk}/job-{job.pk}-{filename}", File(tmp)
        )
        size = os.path.getsize(tmp.name)
    job_progress(job, progress=job.total or 1, total=job.total or 1, message="Ready")
    return {"file": stored, "filename": filename, "size": size, "rows": rows}

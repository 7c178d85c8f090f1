"""Background jobs with progress, on django-q2 (database broker: no extra service needed).

A service enqueues a job with `job_enqueue`; the worker runs `job_run`, which imports the
named function and calls it with `job=` so it can report progress via `job_progress`.
"""

import importlib
import logging
import traceback

from django.db import transaction
from django.utils import timezone

from synthesis.models import Job

log = logging.getLogger(__name__)


def job_enqueue(*, review, kind: str, func: str, params: dict, user=None) -> Job:
    job = Job.objects.create(review=review, kind=kind, func=func, params=params, created_by=user)

    def _send() -> None:
        from django_q.tasks import async_task

        async_task("synthesis.jobs.job_run", job.pk, task_name=f"{kind}-{job.pk}")

    # Only hand the job to the worker once the row is committed and visible to it.
    transaction.on_commit(_send)
    return job


def job_progress(
    job: Job, *, progress: int, total: int | None = None, message: str = "", store: bool = True
) -> None:
    """Report progress. It is written to the job's live-progress file at once (see
    `Job.live`), and to the job's row unless `store=False`. The file is what the pages show
    while the job runs: a job that works inside one long transaction (an import, all or
    nothing) would otherwise show its progress only once it is over. `store=False` is for
    code that must not use the database connection at that moment (see record_writer)."""
    fields = {"progress": progress, "message": message[:300]}
    if total is not None:
        fields["total"] = total
    for k, v in fields.items():
        setattr(job, k, v)
    job.live_write()
    if store:
        Job.objects.filter(pk=job.pk).update(**fields)


def job_run(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    if job.status in (Job.Status.DONE, Job.Status.RUNNING):
        return  # idempotent: a re-delivered task does not run twice
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    module_name, func_name = job.func.rsplit(".", 1)
    try:
        func = getattr(importlib.import_module(module_name), func_name)
        result = func(job=job, **job.params) or {}
    except Exception as exc:  # the job records the failure for the user to see
        log.exception("job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            error=f"{exc}\n\n{traceback.format_exc(limit=5)}"[:5000],
            message=str(exc)[:300],
            finished_at=timezone.now(),
        )
        job.live_clear()
        return
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.DONE, result=result, finished_at=timezone.now()
    )
    job.live_clear()

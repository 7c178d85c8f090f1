"""Large downloads as background jobs: requested from the page, run by django-q2 (sync in
tests), progress on the page, a download link for the user who asked."""

import io
import json
import zipfile

import openpyxl
import pytest

from synthesis import exports
from synthesis.models import Job, ReviewEvent
from tests.synthesis.reporting_data import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(review, users):
    return build(review, users)


@pytest.fixture
def request_job(client_for, review, django_capture_on_commit_callbacks):
    def run(user: str, what: str):
        c = client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            resp = c.post(f"/reviews/{review.pk}/reporting/downloads/new/{what}")
        return c, resp

    return run


def _download(c, review, job):
    resp = c.get(f"/reviews/{review.pk}/reporting/downloads/{job.pk}/")
    assert resp.status_code == 200, resp
    return b"".join(resp.streaming_content)


@pytest.mark.parametrize(
    "what, header",
    [
        ("cmocs.xlsx", exports.CMOC_HEADER),
        ("characteristics.xlsx", ["Study", "Title", "Year", "Kind", "Phase", "Country", "Sector"]),
    ],
)
def test_xlsx_job_progress_and_download(what, header, request_job, review, data):
    c, resp = request_job("analyst", what)
    assert resp.status_code == 302 and resp["Location"].endswith("/reporting/#downloads")
    job = Job.objects.get(kind="export")
    assert job.status == Job.Status.DONE, job.error
    assert job.params["what"] == what and job.percent == 100
    assert job.total == (2 if what == "cmocs.xlsx" else 3)  # rows of the table
    page = c.get(f"/reviews/{review.pk}/reporting/").content.decode()
    link = f"/reviews/{review.pk}/reporting/downloads/{job.pk}/"
    assert link in page and job.result["filename"] in page
    wb = openpyxl.load_workbook(io.BytesIO(_download(c, review, job)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == header and len(rows) == job.total + 1
    assert ReviewEvent.objects.filter(verb="export.request", summary=what).exists()
    assert ReviewEvent.objects.filter(verb="export.download").exists()


def test_workbook_job_has_all_sheets(request_job, review, data):
    c, _ = request_job("reviewer", "workbook.xlsx")
    job = Job.objects.get(kind="export")
    wb = openpyxl.load_workbook(io.BytesIO(_download(c, review, job)), read_only=True)
    assert wb.sheetnames == [
        "CMOCs", "CMOCs per study", "Study characteristics", "Screening decisions",
        "Screening agreement",
    ]  # fmt: skip


def test_pending_job_shows_progress_and_polls(client_for, review, data, users):
    """A queued job (no worker yet) shows its progress bar and keeps polling."""
    from synthesis.export_jobs import export_job_request

    job = export_job_request(user=users["analyst"], review=review, what="cmocs.xlsx")
    Job.objects.filter(pk=job.pk).update(
        status="running", progress=1, total=4, message="1 of 4 rows"
    )
    c = client_for("analyst")
    part = c.get(f"/reviews/{review.pk}/reporting/downloads/").content.decode()
    assert 'hx-trigger="every 1s"' in part and 'aria-valuenow="25"' in part
    assert "1 of 4 rows" in part
    # Not done yet: no file to download.
    assert c.get(f"/reviews/{review.pk}/reporting/downloads/{job.pk}/").status_code == 404


def test_only_the_requester_downloads(request_job, client_for, review, data):
    _, _ = request_job("analyst", "cmocs.xlsx")
    job = Job.objects.get(kind="export")
    url = f"/reviews/{review.pk}/reporting/downloads/{job.pk}/"
    assert client_for("reviewer").get(url).status_code == 404  # someone else's file
    assert client_for("outsider").get(url).status_code == 404
    assert (
        "downloads/"
        not in client_for("reviewer")
        .get(f"/reviews/{review.pk}/reporting/")
        .content.decode()
        .split('id="downloads"')[1]
    )


def test_roles_that_may_not_export_cannot_queue(request_job, review, data):
    _, resp = request_job("viewer", "cmocs.xlsx")
    assert resp.status_code == 403
    _, resp = request_job("reviewer", "backup.zip")  # the archive is for owners
    assert resp.status_code == 403
    _, resp = request_job("outsider", "cmocs.xlsx")
    assert resp.status_code == 404
    _, resp = request_job("analyst", "nonsense.exe")
    assert resp.status_code == 404
    assert not Job.objects.exists()


def test_backup_archive_job(request_job, review, data):
    c, resp = request_job("owner", "backup.zip")
    assert resp["Location"].endswith("/reporting/backup/#downloads")
    job = Job.objects.get(kind="export")
    assert job.status == Job.Status.DONE, job.error
    page = c.get(f"/reviews/{review.pk}/reporting/backup/").content.decode()
    assert f"/reporting/downloads/{job.pk}/" in page
    archive = zipfile.ZipFile(io.BytesIO(_download(c, review, job)))
    assert json.loads(archive.read("manifest.json"))["counts"]["cmoc.cmoc"] == 2


def test_large_xlsx_no_longer_built_during_the_request(client_for, review, data):
    resp = client_for("analyst").get(f"/reviews/{review.pk}/reporting/export/cmocs.xlsx")
    assert resp.status_code == 302 and not Job.objects.exists()


def test_old_prepared_files_are_pruned(request_job, review, data):
    from django.core.files.storage import default_storage

    from synthesis.export_jobs import KEEP

    for _ in range(KEEP + 1):
        c, _ = request_job("analyst", "characteristics.xlsx")
    jobs = list(Job.objects.filter(kind="export").order_by("created_at", "id"))
    first = jobs[0]
    assert first.result["file"] == "" and first.message.startswith("Expired")
    kept = [j for j in jobs if j.result["file"]]
    assert len(kept) == KEEP and all(default_storage.exists(j.result["file"]) for j in kept)
    assert c.get(f"/reviews/{review.pk}/reporting/downloads/{first.pk}/").status_code == 404


def test_prepared_files_expire_after_a_week_whoever_asked(request_job, review, data):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from synthesis.export_jobs import EXPIRE_AFTER

    request_job("owner", "backup.zip")
    old = Job.objects.get(kind="export")
    path = old.result["file"]
    Job.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - EXPIRE_AFTER - timedelta(hours=1)
    )
    request_job("analyst", "cmocs.xlsx")  # another user's request sweeps the review
    old.refresh_from_db()
    assert old.result["file"] == "" and not default_storage.exists(path)
    assert old.message.startswith("Expired")
    fresh = Job.objects.filter(kind="export").exclude(pk=old.pk).get()
    assert default_storage.exists(fresh.result["file"])

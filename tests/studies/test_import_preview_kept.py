"""The preview of an uploaded file is parsed once and kept; an unreadable file says so in lists."""

from pathlib import Path

import pytest
from django.urls import reverse

from studies.models import ImportBatch, Search
from studies.services import identification as svc

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


@pytest.fixture
def search(review, users):
    return svc.search_create(user=users["owner"], review=review, source="MEDLINE", kind="database")


def _upload(c, review, search, name: str, data: bytes) -> ImportBatch:
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = c.post(
        reverse("identification-upload", args=[review.pk]),
        {"search": search.pk, "file": SimpleUploadedFile(name, data), "format": "auto"},
    )
    assert r.status_code == 302
    return ImportBatch.objects.latest("pk")


def test_preview_parsed_once_then_kept(review, search, client_for, monkeypatch):
    c = client_for("reviewer")
    batch = _upload(c, review, search, "medline.ris", (SAMPLES / "ovid_medline.ris").read_bytes())
    calls = []
    real = svc.parse_stream
    monkeypatch.setattr(svc, "parse_stream", lambda *a, **k: calls.append(1) or real(*a, **k))
    url = reverse("identification-batch", args=[review.pk, batch.pk])
    for _ in range(3):
        page = c.get(url).content.decode()
        assert 'id="preview-count">3<' in page
    assert len(calls) == 1
    batch.refresh_from_db()
    assert batch.preview["parsed"] == 3 and len(batch.preview["sample"]) == 3
    # the viewer sees the same kept preview
    assert 'id="preview-count">3<' in client_for("viewer").get(url).content.decode()
    assert len(calls) == 1


def test_unreadable_file_is_listed_as_unreadable(review, search, client_for):
    c = client_for("reviewer")
    batch = _upload(
        c, review, search, "broken.ris", b"Dear colleague,\nthis is a letter, not a bibliography.\n"
    )
    page = c.get(reverse("identification-batch", args=[review.pk, batch.pk])).content.decode()
    assert "cannot be imported" in page and "broken.ris" in page
    listing = c.get(reverse("identification-searches", args=[review.pk])).content.decode()
    row = listing[listing.index("broken.ris") :].split("</tr>")[0]
    assert "Unreadable" in row and "Awaiting confirmation" not in row
    # a readable file not yet confirmed still awaits confirmation
    good = _upload(c, review, search, "good.ris", (SAMPLES / "ovid_medline.ris").read_bytes())
    c.get(reverse("identification-batch", args=[review.pk, good.pk]))
    listing = c.get(reverse("identification-searches", args=[review.pk])).content.decode()
    row = listing[listing.index("good.ris") :].split("</tr>")[0]
    assert "Awaiting confirmation" in row


def test_kept_preview_not_used_after_import(review, search, client_for):
    c = client_for("reviewer")
    batch = _upload(c, review, search, "medline.ris", (SAMPLES / "ovid_medline.ris").read_bytes())
    c.get(reverse("identification-batch", args=[review.pk, batch.pk]))
    c.post(reverse("identification-batch-confirm", args=[review.pk, batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE and batch.status_label == "Imported"
    assert Search.objects.get().pk == search.pk

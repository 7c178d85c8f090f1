import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models

from synthesis import backup
from synthesis.models import Review, ReviewEvent
from tests.synthesis.reporting_data import build

pytestmark = pytest.mark.django_db
IGNORED_VERBS = {"review.export", "review.import"}


def canonical(review) -> dict:
    """Everything about a review with ids replaced by positions, users by usernames and
    files by their content: equal for a review and its restored copy."""
    User = get_user_model()
    positions: dict[str, dict[int, int]] = {}
    rows_by_model: dict[str, list] = {}
    for model, lookup in backup.MODELS:
        qs = backup._queryset(model, lookup, review)
        if model is ReviewEvent:
            qs = qs.exclude(verb__in=IGNORED_VERBS)
        objs = list(qs)
        positions[backup.label(model)] = {o.pk: i for i, o in enumerate(objs)}
        rows_by_model[backup.label(model)] = objs
    out = {}
    for model, _ in backup.MODELS:
        rows = []
        for obj in rows_by_model[backup.label(model)]:
            row = {}
            for f in model._meta.concrete_fields:
                if f.primary_key:
                    continue
                value = getattr(obj, f.attname)
                if f.is_relation and value is not None:
                    if f.related_model is User:
                        value = User.objects.get(pk=value).username
                    elif backup.label(f.related_model) in positions:
                        value = positions[backup.label(f.related_model)][value]
                    else:
                        value = None
                elif isinstance(f, models.FileField):
                    value = getattr(obj, f.attname).read() if value else b""
                elif f.name == "target_id" and model is ReviewEvent:
                    value = None  # audit targets keep the old ids (they are history)
                row[f.name] = value
            for f in model._meta.many_to_many:
                target = positions[backup.label(f.related_model)]
                row[f.name] = sorted(target[o.pk] for o in getattr(obj, f.name).all())
            rows.append(row)
        out[backup.label(model)] = rows
    return out


def test_round_trip_restores_everything(review, users, tmp_path):
    build(review, users)
    before = canonical(review)
    assert all(before[backup.label(m)] for m, _ in backup.MODELS), [
        backup.label(m) for m, _ in backup.MODELS if not before[backup.label(m)]
    ]
    path = tmp_path / "review.zip"
    backup.review_export(user=users["owner"], review=review, path=str(path))
    with open(path, "rb") as fh:
        restored = backup.review_import(archive=fh, user=users["owner"])
    assert restored.pk != review.pk
    assert canonical(restored) == before
    # The original is untouched and both exist side by side.
    assert Review.objects.count() == 2


def test_missing_users_created_inactive(review, users, tmp_path):
    build(review, users)
    path = tmp_path / "review.zip"
    backup.review_export(user=users["owner"], review=review, path=str(path))
    get_user_model().objects.filter(username="reviewer2").delete()
    with open(path, "rb") as fh:
        restored = backup.review_import(archive=fh, user=users["owner"])
    ghost = get_user_model().objects.get(username="reviewer2")
    assert not ghost.is_active and not ghost.has_usable_password()
    assert restored.memberships.filter(user=ghost).exists()


def test_bad_archive_writes_nothing(review, users, tmp_path):
    build(review, users)
    buf = io.BytesIO()
    backup.review_export(user=users["owner"], review=review, path=buf)
    n_reviews = Review.objects.count()
    # Corrupt one line in the middle of the archive.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as dst:
        for item in src.namelist():
            content = src.read(item)
            if item == "data/cmoc.cmoc.jsonl":
                content = content + b"{not json\n"
            dst.writestr(item, content)
    broken.seek(0)
    with pytest.raises(backup.BackupError, match=r"cmoc.cmoc.jsonl line 3"):
        backup.review_import(archive=broken, user=users["owner"])
    assert Review.objects.count() == n_reviews
    with pytest.raises(backup.BackupError, match="not a zip"):
        backup.review_import(archive=io.BytesIO(b"hello"), user=users["owner"])


def test_commands_and_page(review, users, tmp_path, client_for):
    build(review, users)
    path = tmp_path / "r.zip"
    call_command("export_review", "--review", str(review.pk), "--output", str(path))
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert manifest["counts"]["cmoc.cmoc"] == 2
    call_command("import_review", str(path), "--owner", "owner")
    assert Review.objects.count() == 2
    assert client_for("reviewer").get(f"/reviews/{review.pk}/reporting/backup/").status_code == 403
    c = client_for("owner")
    upload = io.BytesIO(
        path.read_bytes()
    )  # the page's archive comes from a job (test_reporting_jobs)
    upload.name = "backup.zip"
    resp = c.post(f"/reviews/{review.pk}/reporting/backup/restore/", {"archive": upload})
    assert resp.status_code == 302 and Review.objects.count() == 3
    bad = io.BytesIO(b"nope")
    bad.name = "bad.zip"
    resp = c.post(f"/reviews/{review.pk}/reporting/backup/restore/", {"archive": bad}, follow=True)
    assert "Nothing was restored" in resp.content.decode() and Review.objects.count() == 3

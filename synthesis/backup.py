"""Backup and restore of a whole review as one zip archive.

Layout: `manifest.json`, `data/<app>.<model>.jsonl` (one JSON object per line, in
dependency order) and `files/<storage name>` for uploaded documents and import files.
Restoring creates a new review: every row gets a new id and every reference is remapped;
users are matched by username (missing ones are created inactive, without a password).
Theory version snapshots are kept verbatim (they record the ids of their time).
"""

import contextlib
import datetime
import json
import zipfile
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from cmoc import models as cm
from studies import models as sm
from synthesis import models as syn
from synthesis.audit import event_record
from synthesis.permissions import Action, check

FORMAT = "retroduce-review"
VERSION = 1
BATCH = 1000


class _Encoder(DjangoJSONEncoder):
    """Like Django's, but keeps microseconds so restored timestamps are exact."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


class BackupError(Exception):
    """The archive cannot be restored; nothing was written."""


# (model, lookup from the model to the review) in an order where references point backwards
# (self references and a few forward ones are patched in a second pass).
MODELS: list[tuple[type[models.Model], str]] = [
    (syn.Review, "pk"),
    (syn.Membership, "review"),
    (syn.Phase, "review"),
    (sm.Search, "review"),
    (sm.ImportBatch, "review"),
    (sm.Study, "review"),
    (sm.Record, "review"),
    (sm.Participant, "review"),
    (sm.Document, "review"),
    (sm.ScreeningStage, "review"),
    (sm.ExclusionReason, "stage__review"),
    (sm.ScreeningDecision, "record__review"),
    (sm.ScreeningResolution, "record__review"),
    (cm.Concept, "review"),
    (cm.Excerpt, "review"),
    (cm.MiddleRangeTheory, "review"),
    (cm.CMOC, "review"),
    (cm.CMOCElement, "cmoc__review"),
    (cm.CMOCEvidence, "cmoc__review"),
    (cm.CMOCComment, "cmoc__review"),
    (cm.CMOCLink, "review"),
    (cm.DemiRegularity, "review"),
    (cm.TheoryVersion, "review"),
    (sm.Appraisal, "review"),
    (sm.ExtractionForm, "review"),
    (sm.ExtractionField, "form__review"),
    (sm.ExtractionAnswer, "study__review"),
    (sm.RankingRun, "review"),
    (sm.RecordScore, "stage__review"),
    (syn.ReviewEvent, "review"),
]
SKIPPED_REFERENCES = {syn.Job}  # background jobs are transient: their links are dropped


def label(model) -> str:
    return model._meta.label_lower


def _queryset(model, lookup, review):
    return model.objects.filter(**{lookup: review.pk}).order_by("pk")


def _row(obj) -> dict:
    row = {}
    for f in obj._meta.concrete_fields:
        if f.is_relation:
            row[f.attname] = getattr(obj, f.attname)
        elif isinstance(f, models.FileField):
            row[f.attname] = getattr(obj, f.attname).name or ""
        else:
            row[f.attname] = f.value_from_object(obj)
    for f in obj._meta.many_to_many:
        row[f.name] = sorted(o.pk for o in getattr(obj, f.name).all())
    return row


def review_export(*, user, review: syn.Review, path, progress=None) -> dict:
    """Write the archive to `path` (a file name or a binary file). Owners only.
    `progress(done, total, message)` is called after each table (background jobs)."""
    check(user, review, Action.MANAGE)
    usernames = dict(get_user_model().objects.values_list("pk", "username"))
    counts = {}
    files: list[str] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for step, (model, lookup) in enumerate(MODELS):
            if progress is not None:
                progress(step, len(MODELS), f"Writing {model._meta.verbose_name_plural}")
            qs = _queryset(model, lookup, review)
            if model._meta.many_to_many:
                qs = qs.prefetch_related(*[f.name for f in model._meta.many_to_many])
            n = 0
            with zf.open(f"data/{label(model)}.jsonl", "w") as out:
                for obj in qs.iterator(chunk_size=BATCH):
                    row = _row(obj)
                    for f in model._meta.concrete_fields:
                        if f.is_relation and f.related_model is get_user_model():
                            row[f.attname] = usernames.get(row[f.attname])
                        if isinstance(f, models.FileField) and row[f.attname]:
                            files.append(row[f.attname])
                    out.write((json.dumps(row, cls=_Encoder) + "\n").encode())
                    n += 1
            counts[label(model)] = n
            for name in files:  # after the JSONL entry is closed: one open entry at a time
                if default_storage.exists(name) and f"files/{name}" not in zf.namelist():
                    with (
                        default_storage.open(name, "rb") as src,
                        zf.open(f"files/{name}", "w") as dst,
                    ):
                        while chunk := src.read(1 << 20):
                            dst.write(chunk)
            files.clear()
        manifest = {
            "format": FORMAT, "version": VERSION, "review_id": review.pk, "title": review.title,
            "exported_at": timezone.now().isoformat(), "exported_by": user.username,
            "counts": counts,
        }  # fmt: skip
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    event_record(review=review, actor=user, verb="review.export", target=review, data=counts)
    return counts


@contextlib.contextmanager
def _keep_timestamps():
    """Restore created/updated times as archived instead of 'now'."""
    fields = [
        f
        for model, _ in MODELS
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, now_add in saved:
            f.auto_now, f.auto_now_add = now, now_add


def _lines(zf: zipfile.ZipFile, name: str) -> Iterator[tuple[int, dict]]:
    if name not in zf.namelist():
        return
    with zf.open(name) as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                yield lineno, json.loads(raw)
            except json.JSONDecodeError as exc:
                raise BackupError(f"{name} line {lineno}: not JSON ({exc.msg}).") from exc


def review_import(*, archive, user, owner=None) -> syn.Review:
    """Restore an archive as a new review. `user` (or `owner`) becomes an owner of it."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise BackupError("The file is not a zip archive.") from exc
    with zf:
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except (KeyError, json.JSONDecodeError) as exc:
            raise BackupError("The archive has no readable manifest.json.") from exc
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise BackupError("The archive is not a Retroduce review backup (version 1).")
        saved_files: list[str] = []
        try:
            with transaction.atomic():
                with _keep_timestamps():
                    review, old_id = _restore(
                        zf, user=user, owner=owner or user, saved_files=saved_files
                    )
                event_record(
                    review=review, actor=user, verb="review.import", target=review,
                    summary=f"Restored from review {old_id}",
                )  # fmt: skip
        except BackupError:
            for name in saved_files:  # the transaction rolled back: drop copied files too
                default_storage.delete(name)
            raise
        except Exception as exc:
            for name in saved_files:
                default_storage.delete(name)
            raise BackupError(f"{type(exc).__name__}: {exc}") from exc
    return review


def _restore(zf, *, user, owner, saved_files) -> tuple[syn.Review, int]:
    User = get_user_model()
    users = {u.username: u.pk for u in User.objects.only("id", "username")}

    def user_id(username):
        if username is None:
            return None
        if username not in users:
            new = User(username=username, is_active=False)
            new.set_unusable_password()
            new.save()
            users[username] = new.pk
        return users[username]

    ids: dict[str, dict[int, int]] = {}
    deferred: list[tuple[type, int, str, int]] = []  # (model, new pk, attname, old target)
    m2m: list[tuple[type, str, int, list[int]]] = []
    for model, _ in MODELS:
        name = f"data/{label(model)}.jsonl"
        fk_fields = [f for f in model._meta.concrete_fields if f.is_relation]
        file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        plain = [
            f for f in model._meta.concrete_fields
            if not f.is_relation and not f.primary_key and f not in file_fields
        ]  # fmt: skip
        mapping = ids.setdefault(label(model), {})
        batch: list[tuple[int, models.Model]] = []

        def flush(batch=batch, model=model, mapping=mapping):
            if batch:
                created = model.objects.bulk_create([o for _, o in batch])
                for (old, _), obj in zip(batch, created, strict=True):
                    mapping[old] = obj.pk
                batch.clear()

        for lineno, row in _lines(zf, name):
            obj = model()
            old_pk = row.get("id")
            try:
                for f in plain:
                    if f.attname in row:
                        setattr(obj, f.attname, f.to_python(row[f.attname]))
                for f in file_fields:
                    stored = row.get(f.attname) or ""
                    if stored and f"files/{stored}" in zf.namelist():
                        new_name = default_storage.save(
                            stored, ContentFile(zf.read(f"files/{stored}"))
                        )
                        saved_files.append(new_name)
                        setattr(obj, f.attname, new_name)
                    else:
                        setattr(obj, f.attname, stored)
                for f in fk_fields:
                    value = row.get(f.attname)
                    target = f.related_model
                    if value is None or target in SKIPPED_REFERENCES:
                        setattr(obj, f.attname, None)
                    elif target is User:
                        setattr(obj, f.attname, user_id(value))
                    elif value in ids.get(label(target), {}):
                        setattr(obj, f.attname, ids[label(target)][value])
                    elif f.null:
                        setattr(obj, f.attname, None)  # forward or self reference: patch later
                        deferred.append((model, old_pk, f.attname, value, label(target)))
                    else:
                        raise BackupError(
                            f"{name} line {lineno}: {f.name} points at a missing row ({value})."
                        )
            except BackupError:
                raise
            except Exception as exc:  # bad values name their place in the archive
                raise BackupError(f"{name} line {lineno}: {exc}") from exc
            for f in model._meta.many_to_many:
                if row.get(f.name):
                    m2m.append((model, f.name, old_pk, row[f.name]))
            batch.append((old_pk, obj))
            if len(batch) >= BATCH:
                flush()
        flush()
    for model, old_pk, attname, old_target, target_label in deferred:
        new_target = ids.get(target_label, {}).get(old_target)
        if new_target is not None:
            model.objects.filter(pk=ids[label(model)][old_pk]).update(**{attname: new_target})
    for model, field_name, old_pk, targets in m2m:
        f = model._meta.get_field(field_name)
        target_ids = ids.get(label(f.related_model), {})
        getattr(model.objects.get(pk=ids[label(model)][old_pk]), field_name).set(
            [target_ids[t] for t in targets if t in target_ids]
        )
    review_ids = ids.get(label(syn.Review), {})
    if len(review_ids) != 1:
        raise BackupError("The archive must hold exactly one review.")
    review = syn.Review.objects.get(pk=next(iter(review_ids.values())))
    if owner is not None:
        membership, _ = syn.Membership.objects.get_or_create(
            review=review, user=owner, defaults={"role": syn.Role.OWNER}
        )
        if membership.role != syn.Role.OWNER:
            membership.role = syn.Role.OWNER
            membership.save(update_fields=["role"])
    return review, next(iter(review_ids))

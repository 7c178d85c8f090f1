"""Optimistic concurrency for shared edit forms: two reviewers who open the same object and
both save never silently lose one of the saves.

Every shared, editable object carries a `version` (a positive integer, 1 when created). An
editor sends back the version it opened; `edit_lock` locks the row, and when the version
saved now differs, raises EditConflict naming who saved it and when (from the audit log)
and nothing is written. `edit_save` writes only the given fields plus the next version.
Without an expected version (scripts, old API clients) the update applies as before.

`VersionedForm` is the page side: a hidden `version`, and after a conflict the value saved
now under each field whose value differs from what the reviewer typed (which is kept).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from synthesis.models import ReviewEvent


class EditConflict(ValidationError):
    """An edit made from a version that a co-reviewer has replaced since. Nothing is
    changed; `current` is the object as saved now, for the editor to compare."""

    def __init__(self, message: str, *, current: models.Model, version: int | None = None):
        super().__init__({"version": message}, code="conflict")
        self.current = current
        # The version saved now (of the counter the edit was checked against).
        self.version = getattr(current, "version", None) if version is None else version

    @property
    def message_text(self) -> str:
        return self.message_dict["version"][0]


def last_saved(
    target, verbs: tuple[str, ...], linked_verbs: tuple[str, ...] = ()
) -> tuple[str, str]:
    """(who, " at <when>") of the latest audit event of one of `verbs` on `target`, or of
    one of `linked_verbs` on another object that names `target` in its data (e.g. a theory
    linked to a CMOC: {"cmoc": <id>})."""
    name = target._meta.model_name
    events = Q(target_type=name, target_id=target.pk, verb__in=verbs)
    if linked_verbs:
        events |= Q(
            review_id=target.review_id, verb__in=linked_verbs, **{f"data__{name}": target.pk}
        )
    event = ReviewEvent.objects.filter(events).select_related("actor").order_by("-id").first()
    actor = event.actor if event is not None else None
    who = (actor.get_full_name() or actor.username) if actor is not None else "Someone"
    at = event.created_at if event is not None else getattr(target, "updated_at", None)
    return who, f" at {timezone.localtime(at).strftime('%d %b %Y %H:%M')}" if at else ""


def conflict_message(
    current, expected: int, *, verbs: tuple[str, ...], name: str, version_field: str = "version",
    linked_verbs: tuple[str, ...] = (),
) -> str:  # fmt: skip
    """Who saved `current` (by the latest audit event of one of `verbs`, or `linked_verbs`:
    see last_saved), when, and what to do; `name` is how the object is called to the
    editor (e.g. "C001", "the search")."""
    who, when = last_saved(current, verbs, linked_verbs)
    return (
        f"{who} saved {name}{when} (version {getattr(current, version_field)}), after the version "
        f"you edited (version {expected}) was opened. Nothing was saved: compare your changes "
        "with the saved ones, then save again to keep yours."
    )


def edit_lock(
    obj, *, expected_version: int | None, verbs: tuple[str, ...], name=None,
    version_field: str = "version", linked_verbs: tuple[str, ...] = (),
):  # fmt: skip
    """Lock `obj`'s row for the rest of the transaction and check the editor's version.

    The caller's copy may be older than the row: it is brought up to date from the locked
    row (so old → new in the audit log is true and unrelated fields are not written back).
    Raises EditConflict when `expected_version` is given and is not the saved version.
    `name`: the object's name in the message (a callable on the saved row, or a string;
    default str(row)). `version_field`: the counter checked, where one row holds the fields
    of more than one form, each with its own (Review: details, screening settings). Call
    inside transaction.atomic."""
    model = type(obj)
    saved = model._default_manager.select_for_update().filter(pk=obj.pk).first()
    if saved is None:
        raise ValidationError(
            f"This {model._meta.verbose_name} was deleted by a co-reviewer; nothing was saved."
        )
    version = getattr(saved, version_field)
    if expected_version is not None and int(expected_version) != version:
        label = name(saved) if callable(name) else (name or str(saved))
        raise EditConflict(
            conflict_message(
                saved, int(expected_version), verbs=verbs, name=label,
                version_field=version_field, linked_verbs=linked_verbs,
            ),
            current=saved, version=version,
        )  # fmt: skip
    for field in model._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    return obj


def edit_save(obj, fields, *, version_field: str = "version") -> None:
    """Save only `fields` (model field names) and the next version (and `updated_at`,
    where the model has one)."""
    names = set(fields) | {version_field}
    if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
        names.add("updated_at")
    setattr(obj, version_field, getattr(obj, version_field) + 1)
    obj.save(update_fields=sorted(names))


# --- forms -------------------------------------------------------------------------------


def _norm(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return " ".join(str(value).replace("\r\n", "\n").split())


def differences(posted: dict, saved: dict, shown: dict | None = None) -> dict[str, str]:
    """{name: the saved value as shown} for each name whose posted value differs from the
    saved one (compared as text with runs of white space as one; `shown` gives a display
    text where it is not the value itself, e.g. a choice's label)."""
    shown = shown or {}
    out = {}
    for name, value in saved.items():
        if _norm(posted.get(name)) != _norm(value):
            out[name] = _norm(shown.get(name, value)) or "(empty)"
    return out


class VersionedForm:
    """Mixin for a form (or model form) that edits a versioned object: the hidden `version`
    it was opened on, and `conflict()` to show an EditConflict. `saved_values(current)` gives
    the object's values in the form's own terms (default: each field's attribute)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"] = forms.IntegerField(
            required=False, min_value=1, widget=forms.HiddenInput
        )
        # After an edit conflict: {field name: the value saved now}, where it differs from
        # what this form holds (shown under the field).
        self.saved_now: dict[str, str] = {}

    def saved_values(self, current) -> dict:
        return {name: getattr(current, name) for name in self.fields if name != "version"}

    def conflict(self, exc: EditConflict) -> None:
        """The message, and the saved value under each field that differs from the
        reviewer's input (which stays in the form); the form's version becomes the saved
        one, so that saving again keeps the reviewer's version (knowingly)."""
        self.add_error(None, exc.message_text)
        saved, posted, shown = {}, {}, {}
        for name, value in self.saved_values(exc.current).items():
            field = self.fields.get(name)
            raw = self.data.get(self.add_prefix(name))
            if isinstance(field, forms.ModelMultipleChoiceField):
                key = self.add_prefix(name)
                raw = (
                    self.data.getlist(key) if hasattr(self.data, "getlist") else self.data.get(key)
                )
                raw = sorted(str(v) for v in raw or [])
                shown[name] = ", ".join(str(v) for v in value)
                value = sorted(str(v) for v in field.prepare_value(value))
            elif isinstance(field, forms.BooleanField):
                raw = bool(raw) and raw not in ("false", "False", "0")
                shown[name] = "Yes" if value else "No"
            elif isinstance(field, forms.ModelChoiceField):
                shown[name] = str(value) if value is not None else ""
                value = field.prepare_value(value)
            elif isinstance(field, forms.ChoiceField):
                shown[name] = dict(field.choices).get(value, value)
            saved[name], posted[name] = value, raw
        self.saved_now = differences(posted, saved, shown)
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(exc.version)

"""Extraction forms designed by the review owner, answers per study, consolidation.

A form that already has answers is never edited in place: the change makes a new version
(fields copied), so earlier answers stay attached to the fields they answered and stay
readable under their version. Fields keep their `key` across versions, which is how the
characteristics table and the extraction page carry answers forward.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.text import slugify

from studies import extraction_values as ev
from studies.models import ExtractionAnswer, ExtractionField, ExtractionForm, Study
from studies.selectors_appraisal import consensus_version
from synthesis.audit import event_record
from synthesis.concurrency import EditConflict, edit_lock, edit_save, last_saved
from synthesis.models import Review
from synthesis.permissions import Action, check

DEFAULT_FORM_NAME = "Study characteristics"

# The seed's extraction form (chapter 3: study, country, collaboration type, sector, methods
# and sample, phase of use; refinement form adds primary driver and mandated vs voluntary).
DEFAULT_FIELDS: list[dict] = [
    {"key": "study", "label": "Study", "type": ev.SHORT_TEXT, "required": True,
     "help_text": "Citation as it appears in the table, e.g. 'Mervyn et al.'."},
    {"key": "country", "label": "Country", "type": ev.SHORT_TEXT, "required": True,
     "help_text": "Country of the collaboration; 'Mixed' for multi-country reviews, 'N/A' if "
     "not applicable."},
    {"key": "partnership_type", "label": "Collaboration/partnership type",
     "type": ev.SHORT_TEXT, "required": True,
     "help_text": "Type as reported, e.g. Merger, Alliance, Joint commissioning, Integrated "
     "care, Network. Keep the study's own wording."},
    {"key": "sector", "label": "Sector", "type": ev.SHORT_TEXT, "required": True,
     "help_text": "e.g. Health and social care, Acute care, Primary care, Public sector."},
    {"key": "methods_and_sample", "label": "Methods and sample (where applicable)",
     "type": ev.LONG_TEXT,
     "help_text": "Design, data sources and sample sizes; 'Review' for non-empirical documents."},
    {"key": "phase_of_use", "label": "Phase of use in synthesis", "type": ev.SINGLE_CHOICE,
     "required": True, "choices": ["Gleaning", "Refinement", "Gleaning and refinement"],
     "help_text": "Which phase(s) of the synthesis drew on this document."},
    {"key": "primary_driver", "label": "Primary driver", "type": ev.SINGLE_CHOICE,
     "choices": ["Expansion", "Consolidation", "Participation", "Learning", "Sustenance",
                 "Mimicry", "Coercion", "Unclear"],
     "help_text": "Primary driver for the collaboration, as best deduced from the study."},
    {"key": "mandated_voluntary", "label": "Mandated or voluntary", "type": ev.SINGLE_CHOICE,
     "choices": ["Mandated", "Voluntary", "Unclear"],
     "help_text": "'Unclear' when the report does not allow a judgement."},
]  # fmt: skip


def _field_errors(field_type: str, choices: list[str], label: str) -> dict[str, str]:
    errors = {}
    if field_type not in ev.TYPES:
        errors["type"] = f"Choose one of: {', '.join(ev.TYPES)}."
    if field_type in ev.CHOICE_TYPES and not choices:
        errors["choices"] = "Give at least one choice (one per line)."
    if not label.strip():
        errors["label"] = "Give the field a label."
    return errors


def form_family(form: ExtractionForm):
    """Every version of a form, newest first."""
    return ExtractionForm.objects.filter(review_id=form.review_id, name=form.name).order_by(
        "-version"
    )


def form_current(form: ExtractionForm) -> ExtractionForm:
    return form if form.is_current else form_family(form).filter(is_current=True).first()


@transaction.atomic
def form_create(
    *, user, review: Review, name: str = DEFAULT_FORM_NAME, dual_extraction: bool = False
) -> ExtractionForm:
    check(user, review, Action.MANAGE)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the form a name."})
    if ExtractionForm.objects.filter(review=review, name=name).exists():
        raise ValidationError({"name": f"There is already a form called “{name}”."})
    form = ExtractionForm.objects.create(
        review=review, name=name, version=1, is_current=True, dual_extraction=dual_extraction
    )
    event_record(review=review, actor=user, verb="form.create", target=form, summary=name)
    return form


@transaction.atomic
def form_update(
    *, user, form: ExtractionForm, dual_extraction: bool, expected_version: int | None = None
) -> ExtractionForm:
    """Settings that do not change what a field means; no new version needed.
    `expected_version`: the settings_version the owner's page showed; if another owner has
    saved the settings since, EditConflict and nothing changes."""
    check(user, form.review_id, Action.MANAGE)
    form = form_current(form)
    edit_lock(
        form, expected_version=expected_version, verbs=("form.update",),
        name=lambda f: f"the settings of {f.name}", version_field="settings_version",
    )  # fmt: skip
    form.dual_extraction = dual_extraction
    edit_save(form, ["dual_extraction"], version_field="settings_version")
    event_record(
        review=form.review_id, actor=user, verb="form.update", target=form,
        summary=f"dual extraction {'on' if dual_extraction else 'off'}",
    )  # fmt: skip
    return form


@transaction.atomic
def extraction_form_create_default(*, user, review: Review) -> ExtractionForm:
    """The seed's characteristics form (Table 6 columns plus driver and mandated/voluntary)."""
    form = form_create(user=user, review=review, name=DEFAULT_FORM_NAME)
    ExtractionField.objects.bulk_create(
        ExtractionField(
            form=form,
            key=f["key"],
            label=f["label"],
            type=f["type"],
            choices=f.get("choices", []),
            help_text=f.get("help_text", ""),
            required=f.get("required", False),
            order=i,
        )
        for i, f in enumerate(DEFAULT_FIELDS, start=1)
    )
    return form


def _form_for_change(*, user, form: ExtractionForm) -> ExtractionForm:
    """The version to edit: the current one, or a new version if it already has answers."""
    check(user, form.review_id, Action.MANAGE)
    form = (
        ExtractionForm.objects.select_for_update()
        .filter(review_id=form.review_id, name=form.name, is_current=True)
        .first()
    )
    if form is None:
        raise ValueError("This form has no current version.")
    if not ExtractionAnswer.objects.filter(field__form=form).exists():
        return form
    old_fields = list(form.fields.all())
    form.is_current = False
    form.save(update_fields=["is_current"])
    new = ExtractionForm.objects.create(
        review_id=form.review_id,
        name=form.name,
        version=form.version + 1,
        is_current=True,
        dual_extraction=form.dual_extraction,
        settings_version=form.settings_version,
    )
    ExtractionField.objects.bulk_create(
        ExtractionField(
            form=new,
            key=f.key,
            label=f.label,
            type=f.type,
            choices=f.choices,
            help_text=f.help_text,
            required=f.required,
            order=f.order,
            edit_version=f.edit_version,
        )  # fmt: skip
        for f in old_fields
    )
    event_record(
        review=form.review_id, actor=user, verb="form.version", target=new,
        summary=f"{new.name} v{new.version} (v{form.version} has answers)",
    )  # fmt: skip
    return new


def _unique_key(form: ExtractionForm, wanted: str) -> str:
    base = slugify(wanted).replace("-", "_")[:50] or "field"
    taken = set(form.fields.values_list("key", flat=True))
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


@transaction.atomic
def field_add(
    *,
    user,
    form: ExtractionForm,
    label: str,
    type: str = ev.SHORT_TEXT,
    key: str = "",
    choices: Iterable[str] | str = (),
    help_text: str = "",
    required: bool = False,
) -> ExtractionField:
    choices = ev.clean_choices(choices)
    errors = _field_errors(type, choices, label)
    if errors:
        raise ValidationError(errors)
    form = _form_for_change(user=user, form=form)
    order = (form.fields.aggregate(m=Max("order"))["m"] or 0) + 1
    field = ExtractionField.objects.create(
        form=form,
        key=_unique_key(form, key or label),
        label=label.strip(),
        type=type,
        choices=choices if type in ev.CHOICE_TYPES else [],
        help_text=help_text.strip(),
        required=required,
        order=order,
    )
    event_record(
        review=form.review_id, actor=user, verb="field.add", target=field,
        summary=f"{form} + {field.label}",
    )  # fmt: skip
    return field


def _same_field_in(form: ExtractionForm, field: ExtractionField) -> ExtractionField:
    if field.form_id == form.pk:
        return field
    return form.fields.get(key=field.key)


@transaction.atomic
def field_update(
    *,
    user,
    field: ExtractionField,
    label: str,
    type: str,
    choices: Iterable[str] | str = (),
    help_text: str = "",
    required: bool = False,
    expected_version: int | None = None,
) -> ExtractionField:
    """`expected_version`: the field's edit_version the owner's page showed; if another owner
    has saved the field since (in this form version or the one before), EditConflict and
    nothing changes (no new form version either)."""
    choices = ev.clean_choices(choices)
    errors = _field_errors(type, choices, label)
    if errors:
        raise ValidationError(errors)
    form = _form_for_change(user=user, form=field.form)  # locks the form: changes queue
    field = _same_field_in(form, field)
    edit_lock(
        field, expected_version=expected_version, verbs=("field.update",),
        name=lambda f: f"the field {f.label}", version_field="edit_version",
    )  # fmt: skip
    field.label, field.type, field.help_text, field.required = (
        label.strip(), type, help_text.strip(), required,
    )  # fmt: skip
    field.choices = choices if type in ev.CHOICE_TYPES else []
    edit_save(
        field, ["label", "type", "choices", "help_text", "required"], version_field="edit_version"
    )
    event_record(
        review=form.review_id, actor=user, verb="field.update", target=field,
        summary=f"{form}: {field.label}",
    )  # fmt: skip
    return field


@transaction.atomic
def field_remove(*, user, field: ExtractionField) -> ExtractionForm:
    form = _form_for_change(user=user, form=field.form)
    field = _same_field_in(form, field)
    event_record(
        review=form.review_id, actor=user, verb="field.remove", target=field,
        summary=f"{form} − {field.label}",
    )  # fmt: skip
    field.delete()
    return form


@transaction.atomic
def field_reorder(*, user, form: ExtractionForm, keys: list[str]) -> ExtractionForm:
    """Put the fields in the order of `keys` (every field's key, once)."""
    current = form_current(form)
    if sorted(keys) != sorted(current.fields.values_list("key", flat=True)):
        raise ValidationError({"order": "List every field exactly once."})
    form = _form_for_change(user=user, form=current)
    fields = {f.key: f for f in form.fields.all()}
    for i, key in enumerate(keys, start=1):
        fields[key].order = i
    ExtractionField.objects.bulk_update(fields.values(), ["order"])
    event_record(review=form.review_id, actor=user, verb="field.reorder", target=form)
    return form


@transaction.atomic
def field_move(*, user, field: ExtractionField, offset: int) -> ExtractionForm:
    """Move a field up (−1) or down (+1): the keyboard/button version of reordering."""
    form = form_current(field.form)
    keys = list(form.fields.order_by("order", "id").values_list("key", flat=True))
    i = keys.index(field.key)
    j = max(0, min(len(keys) - 1, i + offset))
    if i == j:
        return form
    keys[i], keys[j] = keys[j], keys[i]
    return field_reorder(user=user, form=form, keys=keys)


@dataclass
class SavedConsensus:
    """The consensus answers as saved now (an EditConflict's `current`): field key → value."""

    version: str
    values: dict


@transaction.atomic
def answer_save(
    *,
    user,
    study: Study,
    form: ExtractionForm,
    values: Mapping[str, object],
    consensus: bool = False,
    expected_version: str | None = None,
) -> list[ExtractionAnswer]:
    """Save one extractor's answers (or the consensus answers) for a study on the current
    version of a form. Every field of the form is validated; a missing key is an empty
    answer. On any error nothing is written and ValidationError carries errors by key.

    An extractor's own answers are theirs alone; the consensus answers are shared by all.
    `expected_version` (consensus only): the consensus_version the consolidation form was
    opened on; if anyone has saved the consensus since, EditConflict and nothing changes."""
    check(user, form.review_id, Action.EDIT_EVIDENCE)
    if study.review_id != form.review_id:
        raise ValueError("That study belongs to another review.")
    if not form.is_current:
        raise ValueError(
            f"{form} has been replaced by a newer version; reload the form and answer that."
        )
    fields = list(form.fields.order_by("order", "id"))
    cleaned: dict[int, object] = {}
    errors: dict[str, str] = {}
    for field in fields:
        choices = ev.YES_NO_UNCLEAR_CHOICES if field.type == ev.YES_NO_UNCLEAR else field.choices
        try:
            cleaned[field.pk] = ev.clean_answer(
                field.type, values.get(field.key), choices=choices, required=field.required
            )
        except ev.AnswerError as exc:
            errors[field.key] = str(exc)
    if errors:
        raise ValidationError(errors)

    if consensus:
        # The study's row lock orders consensus saves, also when there is no answer yet to
        # lock: the second waits, then sees the first's answers (and their version).
        list(Study.objects.select_for_update().filter(pk=study.pk).values_list("pk"))
    mine = ExtractionAnswer.objects.filter(study=study, field__in=fields, is_consensus=consensus)
    if not consensus:
        mine = mine.filter(extractor=user)
    existing = {a.field_id: a for a in mine.select_for_update()}
    if consensus and expected_version is not None:
        now = consensus_version(existing.values())
        if str(expected_version) != now:
            who, when = last_saved(study, ("extraction.consensus",))
            raise EditConflict(
                f"{who} saved the consensus answers for {study}{when}, after you opened this "
                "form. Nothing was saved: compare your answers with the saved ones, then save "
                "again to keep yours.",
                current=SavedConsensus(version=now, values={
                    f.key: existing[f.pk].value for f in fields if f.pk in existing
                }),
            )  # fmt: skip
    to_create, to_update, to_delete = [], [], []
    for field in fields:
        value, answer = cleaned[field.pk], existing.get(field.pk)
        if value is None:
            if answer is not None:
                to_delete.append(answer.pk)
        elif answer is None:
            to_create.append(
                ExtractionAnswer(
                    study=study, field=field, extractor=user, value=value, is_consensus=consensus
                )
            )
        elif answer.value != value or (consensus and answer.extractor_id != user.pk):
            answer.value, answer.extractor = value, user
            answer.version += 1
            to_update.append(answer)
    try:
        ExtractionAnswer.objects.bulk_create(to_create)
    except IntegrityError as exc:  # a concurrent save of the same answers
        raise ValueError("Someone saved these answers at the same moment; reload.") from exc
    for answer in to_update:
        answer.save(update_fields=["value", "extractor", "version", "updated_at"])
    ExtractionAnswer.objects.filter(pk__in=to_delete).delete()
    event_record(
        review=form.review_id,
        actor=user,
        verb="extraction.consensus" if consensus else "extraction.save",
        target=study,
        summary=f"{study} · {form}: {len(to_create)} new, {len(to_update)} changed, "
        f"{len(to_delete)} cleared",
    )
    return list(
        ExtractionAnswer.objects.filter(
            study=study,
            field__in=fields,
            is_consensus=consensus,
            **({} if consensus else {"extractor": user}),
        ).select_related("field")
    )

"""Forms for the coding workbench. They only validate shapes; services own the rules."""

from django import forms

from cmoc.models import CMOC, Direction, IntervieweeStance, MiddleRangeTheory, Role
from cmoc.services.coding import ElementSpec
from studies.models import Document, Participant, Study
from synthesis.concurrency import VersionedForm
from synthesis.models import Phase, Review
from synthesis.views_base import int_or_none


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """Ticked ids, each one a whole number a database column can hold. Django looks them up
    with `pk__in`, which SQLite answers with OverflowError (a server error) for an id beyond
    its integer range: Django guards plain lookups against that, not `__in`."""

    def _check_values(self, value):
        for pk in value:
            if int_or_none(pk) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class CMOCForm(VersionedForm, forms.Form):
    code = forms.CharField(
        max_length=40, required=False, help_text="Left empty, the next free code is used."
    )
    context = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    mechanism_resource = forms.CharField(
        label="Mechanism — resource", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    mechanism_reasoning = forms.CharField(
        label="Mechanism — reasoning", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Compose it from the parts, then edit.",
    )
    phase = forms.ModelChoiceField(queryset=Phase.objects.none(), required=False)
    origin = forms.ChoiceField(choices=CMOC.Origin.choices, initial=CMOC.Origin.INFERRED)
    relation = forms.ChoiceField(
        label="Relation to prior theory", choices=CMOC.Relation.choices, required=False
    )
    prior_code = forms.CharField(
        label="Prior CMOC (code)",
        max_length=40,
        required=False,
        help_text="The CMOC of the prior theory this one affirms, refines or refutes.",
    )
    confidence = forms.ChoiceField(choices=CMOC.Confidence.choices, required=False)
    confidence_note = forms.CharField(
        label="Confidence — justification", widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )  # fmt: skip
    theme = forms.CharField(max_length=200, required=False)
    tags = forms.CharField(
        required=False, help_text="Comma-separated, e.g. mandated, public–private"
    )
    middle_range_theories = IdsChoiceField(
        queryset=MiddleRangeTheory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    stance = forms.ChoiceField(
        label="The excerpt", choices=[("supports", "supports"), ("contradicts", "contradicts")],
        required=False, initial="supports",
    )  # fmt: skip

    def __init__(self, *args, review: Review, cmoc: CMOC | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.review, self.cmoc = review, cmoc
        self.fields["phase"].queryset = Phase.objects.filter(review=review)
        self.fields["middle_range_theories"].queryset = MiddleRangeTheory.objects.filter(
            review=review
        )
        self.element_rows: dict[str, list[dict]] = {}

    def saved_values(self, current: CMOC) -> dict:
        saved = {
            "context": current.context, "mechanism_resource": current.mechanism_resource,
            "mechanism_reasoning": current.mechanism_reasoning, "outcome": current.outcome,
            "statement": current.statement, "origin": current.origin,
            "relation": current.relation, "confidence": current.confidence,
            "confidence_note": current.confidence_note, "theme": current.theme,
            "tags": ", ".join(current.tags or []),
            # linked from a theory's page meanwhile (middle_range_theory_link)
            "middle_range_theories": list(current.middle_range_theories.order_by("name")),
        }  # fmt: skip
        if (self.data.get("code") or "").strip():  # left empty, the code is kept
            saved["code"] = current.code
        return saved

    def clean_prior_code(self):
        code = self.cleaned_data["prior_code"].strip()
        if not code:
            return None
        prior = CMOC.objects.filter(review=self.review, code__iexact=code).first()
        if prior is None:
            raise forms.ValidationError(f"No CMOC with code {code} in this review.")
        if self.cmoc is not None and prior.pk == self.cmoc.pk:
            raise forms.ValidationError("A CMOC cannot be its own prior.")
        return prior

    def elements(self) -> list[ElementSpec]:
        """Concept pickers arrive as parallel lists ``<role>_concept`` / ``<role>_direction``."""
        specs = []
        for role in Role.values:
            labels = self.data.getlist(f"{role}_concept")
            directions = self.data.getlist(f"{role}_direction")
            for i, label in enumerate(labels):
                direction = directions[i] if i < len(directions) else ""
                if direction not in Direction.values:
                    direction = ""
                if label.strip():
                    specs.append(ElementSpec(role=role, label=label.strip(), direction=direction))
        return specs

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {
            "code": d["code"].strip() or None,
            "statement": d["statement"].strip(),
            "context": d["context"].strip(),
            "mechanism_resource": d["mechanism_resource"].strip(),
            "mechanism_reasoning": d["mechanism_reasoning"].strip(),
            "outcome": d["outcome"].strip(),
            "phase": d["phase"],
            "origin": d["origin"],
            "relation": d["relation"],
            "prior": d["prior_code"],
            "confidence": d["confidence"],
            "confidence_note": d["confidence_note"].strip(),
            "theme": d["theme"].strip(),
            "tags": [t.strip() for t in d["tags"].split(",") if t.strip()],
        }


def element_rows(*, data=None, cmoc: CMOC | None = None, blanks: int = 2) -> dict[str, list]:
    """Rows for the concept pickers: what was posted, else the CMOC's elements, plus blanks."""
    rows: dict[str, list[dict]] = {}
    for role in Role.values:
        if data is not None:
            labels = data.getlist(f"{role}_concept")
            dirs = data.getlist(f"{role}_direction")
            got = [
                {"label": label, "direction": dirs[i] if i < len(dirs) else ""}
                for i, label in enumerate(labels)
                if label.strip()
            ]
        elif cmoc is not None:
            got = [
                {"label": e.concept.label, "direction": e.direction}
                for e in cmoc.elements.all()
                if e.role == role
            ]
        else:
            got = []
        rows[role] = got + [{"label": "", "direction": ""}] * blanks
    return rows


class ExcerptForm(forms.Form):
    start = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    text = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    interviewee_stance = forms.ChoiceField(
        label="Interviewee's stance to the theory put to them",
        choices=IntervieweeStance.choices,
        required=False,
    )


class ExcerptEditForm(VersionedForm, forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    interviewee_stance = forms.ChoiceField(
        label="Interviewee's stance to the theory put to them",
        choices=IntervieweeStance.choices,
        required=False,
    )
    page = forms.IntegerField(min_value=1, required=False, help_text="Left empty: from the text.")
    start = forms.IntegerField(min_value=0, label="Starts at character")
    end = forms.IntegerField(min_value=1, label="Ends at character")


class ParticipantForm(VersionedForm, forms.Form):
    code = forms.CharField(max_length=40)
    role = forms.CharField(max_length=200, required=False)
    case = forms.CharField(label="Case / programme", max_length=200, required=False)
    organisation_type = forms.CharField(max_length=200, required=False)
    interview_phase = forms.CharField(max_length=120, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class TranscriptForm(forms.Form):
    file = forms.FileField(help_text=".txt, .docx or .vtt")
    title = forms.CharField(max_length=500, required=False)
    kind = forms.ChoiceField(
        choices=[
            (Document.Kind.TRANSCRIPT, "Interview transcript"),
            (Document.Kind.FOCUS_GROUP, "Focus group transcript"),
        ]
    )
    participant = forms.ModelChoiceField(queryset=Participant.objects.none(), required=False)
    study = forms.ModelChoiceField(queryset=Study.objects.none(), required=False)

    def __init__(self, *args, review: Review, **kwargs):
        # Shown beside DocumentTextForm, which also has title/study/kind: own ids, so that
        # each label points at its own field.
        kwargs.setdefault("auto_id", "transcript-%s")
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = Participant.objects.filter(review=review)
        self.fields["study"].queryset = Study.objects.filter(review=review)


class DocumentTextForm(forms.Form):
    title = forms.CharField(max_length=500)
    study = forms.ModelChoiceField(queryset=Study.objects.none(), required=False)
    kind = forms.ChoiceField(choices=Document.Kind.choices, initial=Document.Kind.FULL_TEXT)
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        strip=False,
        help_text="Paste extracted text; a form feed marks a page break.",
    )

    def __init__(self, *args, review: Review, **kwargs):
        kwargs.setdefault("auto_id", "text-%s")
        super().__init__(*args, **kwargs)
        self.fields["study"].queryset = Study.objects.filter(review=review)

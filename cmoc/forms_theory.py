from django import forms

from cmoc.models import CMOCLink, TheoryVersion


class TheoryVersionForm(forms.Form):
    label = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=TheoryVersion.Kind.choices, initial=TheoryVersion.Kind.REFINED)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    phases = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty to include the CMOCs of every phase.",
    )

    def __init__(self, *args, phases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phases"].choices = [(p, p) for p in phases]


class CMOCLinkForm(forms.Form):
    source = forms.CharField(label="From CMOC (code)", max_length=40)
    target = forms.CharField(label="To CMOC (code)", max_length=40)
    kind = forms.ChoiceField(choices=CMOCLink.Kind.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    evidence = forms.CharField(
        label="Evidence excerpt ids",
        required=False,
        help_text="Comma-separated ids of the excerpts that show the link.",
    )

    def clean_evidence(self) -> list[int]:
        raw = self.cleaned_data.get("evidence", "")
        ids = []
        for part in raw.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise forms.ValidationError(f"“{part}” is not an excerpt id.")
            ids.append(int(part))
        return ids

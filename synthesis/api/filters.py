"""django-filter filtersets for the v1 API."""

import django_filters
from django import forms
from django.db.models import Q

from cmoc.models import CMOC, CMOCElement, CMOCEvidence, CMOCLink, Concept, Excerpt, Role
from cmoc.search import cmoc_text_filter
from studies.models import (
    Appraisal,
    Document,
    ExtractionAnswer,
    Record,
    ScreeningDecision,
    Search,
    Study,
)

MAX_ID = 2**63 - 1  # beyond this SQLite/PostgreSQL integers overflow: answer 400, not 500


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """ISO 8601 timestamp, normalised to UTC before it reaches the database: PostgreSQL
    refuses offsets beyond ±15:59 that ISO parsing accepts (e.g. +21:45)."""

    def filter(self, qs, value):
        if value is not None:
            import datetime

            from rest_framework.exceptions import ValidationError

            try:
                value = value.astimezone(datetime.UTC)
            except (OverflowError, ValueError) as exc:
                raise ValidationError({"updated_since": ["Timestamp out of range."]}) from exc
        return super().filter(qs, value)


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class SearchFilter(django_filters.FilterSet):
    phase = IdFilter()

    class Meta:
        model = Search
        fields = ["phase", "kind"]


class RecordFilter(django_filters.FilterSet):
    search = IdFilter(field_name="batch__search")
    study = IdFilter()
    year = IdFilter(max_value=9999)
    is_duplicate = django_filters.BooleanFilter(
        field_name="duplicate_of", lookup_expr="isnull", exclude=True
    )
    included = django_filters.BooleanFilter(field_name="study", lookup_expr="isnull", exclude=True)
    created_since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Record
        fields = ["search", "study", "year", "fulltext_status", "is_duplicate", "included"]


class StudyFilter(django_filters.FilterSet):
    phase = IdFilter()
    updated_since = UpdatedSinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Study
        fields = ["phase", "kind", "updated_since"]


class DocumentFilter(django_filters.FilterSet):
    study = IdFilter()
    record = IdFilter()

    class Meta:
        model = Document
        fields = ["study", "record", "kind"]


class ScreeningDecisionFilter(django_filters.FilterSet):
    stage = IdFilter()
    stage_kind = django_filters.CharFilter(field_name="stage__kind")
    record = IdFilter()
    reviewer = django_filters.CharFilter(field_name="reviewer__username")
    updated_since = UpdatedSinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = ScreeningDecision
        fields = ["stage", "stage_kind", "record", "reviewer", "decision", "updated_since"]


class AppraisalFilter(django_filters.FilterSet):
    study = IdFilter()
    excerpt = IdFilter()
    cmoc = IdFilter()
    target = django_filters.ChoiceFilter(
        choices=[("study", "study"), ("excerpt", "excerpt"), ("cmoc", "CMOC")],
        method="filter_target",
    )
    updated_since = UpdatedSinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Appraisal
        fields = ["study", "excerpt", "cmoc", "relevance", "rigour", "verdict", "updated_since"]

    def filter_target(self, qs, name, value):
        return qs.filter(**{f"{value}__isnull": False})


class ExtractionAnswerFilter(django_filters.FilterSet):
    study = IdFilter()
    field = django_filters.CharFilter(field_name="field__key")
    updated_since = UpdatedSinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = ExtractionAnswer
        fields = ["study", "field", "is_consensus", "updated_since"]


class ConceptFilter(django_filters.FilterSet):
    parent = IdFilter()
    role = django_filters.ChoiceFilter(
        choices=Role.choices, method="filter_role", help_text="Concepts used in this role."
    )

    class Meta:
        model = Concept
        fields = ["parent", "mechanism_type", "role"]

    def filter_role(self, qs, name, value):
        return qs.filter(pk__in=Concept.objects.filter(elements__role=value).values("pk"))


class ExcerptFilter(django_filters.FilterSet):
    document = IdFilter()
    study = IdFilter(field_name="document__study")
    cmoc = IdFilter(method="filter_cmoc", help_text="Excerpts that are evidence for this CMOC.")

    class Meta:
        model = Excerpt
        fields = ["document", "study", "cmoc"]

    def filter_cmoc(self, qs, name, value):
        return qs.filter(pk__in=CMOCEvidence.objects.filter(cmoc_id=value).values("excerpt_id"))


class CMOCFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        help_text='Every word or "quoted phrase", in code, statement, parts or theme.',
    )
    phase = IdFilter()
    concept = IdFilter(method="filter_concept", help_text="CMOCs using this concept (see role).")
    role = django_filters.ChoiceFilter(
        choices=Role.choices, method="filter_noop", help_text="Role of `concept` in the CMOC."
    )
    relation = django_filters.ChoiceFilter(choices=CMOC.Relation.choices)
    study = IdFilter(method="filter_study", help_text="CMOCs with evidence from this study.")
    min_sources = IdFilter(
        field_name="source_count", lookup_expr="gte", max_value=2**31 - 1,
        help_text="Only CMOCs supported by at least this many sources (2 = supported).",
    )  # fmt: skip
    checked = django_filters.BooleanFilter()
    updated_since = UpdatedSinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = CMOC
        fields = ["phase", "relation", "origin", "checked"]

    def filter_q(self, qs, name, value):
        # The CMOC list page's search: every word or "quoted phrase", in any field. The API
        # searched for the whole string, so "faith trust" found nothing here and 6 there.
        return cmoc_text_filter(qs, value)

    def filter_noop(self, qs, name, value):
        return qs  # read by filter_concept

    def filter_concept(self, qs, name, value):
        cond = Q(elements__concept_id=value)
        role = self.form.cleaned_data.get("role")
        if role:
            cond &= Q(elements__role=role)
        return qs.filter(pk__in=CMOC.objects.filter(cond).values("pk"))

    def filter_study(self, qs, name, value):
        return qs.filter(
            pk__in=CMOCEvidence.objects.filter(excerpt__document__study_id=value).values("cmoc_id")
        )


class ChainFilter(django_filters.FilterSet):
    """Validates the chain filters; `ChainViewSet` hands them to `selectors_reporting.chains`
    (the rows are a UNION, which cannot be filtered afterwards)."""

    concept = IdFilter(help_text="Computed links through this concept.")
    cmoc = IdFilter(help_text="Links where this CMOC is source or target.")
    kind = django_filters.ChoiceFilter(
        choices=[("concept", "Computed from a shared concept"), *CMOCLink.Kind.choices],
        help_text="Computed links only, or asserted links of one kind.",
    )

    class Meta:
        model = CMOCElement
        fields: list = []

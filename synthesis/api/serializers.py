"""Serializers for the v1 API. Read serializers mirror the models; write serializers only
validate shapes and hand over to the service functions."""

from rest_framework import serializers

from cmoc.models import (
    CMOC,
    CMOCElement,
    CMOCEvidence,
    Concept,
    DemiRegularity,
    Direction,
    Excerpt,
    Role,
    TheoryVersion,
)
from studies.models import (
    Appraisal,
    Document,
    ExtractionAnswer,
    Record,
    ScreeningDecision,
    ScreeningStage,
    Search,
    Study,
)
from synthesis.models import Phase, Review


class ReviewSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, help_text="Your role in this review.")

    class Meta:
        model = Review
        fields = [
            "id", "title", "question", "registration", "description", "blind_screening",
            "dual_fraction", "maybe_counts_as", "role", "created_at", "updated_at",
        ]  # fmt: skip


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["id", "name", "order", "description"]


class SearchSerializer(serializers.ModelSerializer):
    arm = serializers.CharField(read_only=True, help_text="PRISMA arm: databases or other.")
    n_records = serializers.IntegerField(read_only=True)

    class Meta:
        model = Search
        fields = [
            "id", "phase", "source", "kind", "arm", "run_on", "query", "limits",
            "reported_hits", "n_records", "notes", "created_at",
        ]  # fmt: skip


class RecordSerializer(serializers.ModelSerializer):
    searches = serializers.SerializerMethodField()

    class Meta:
        model = Record
        fields = [
            "id", "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
            "doi", "pmid", "url", "keywords", "type", "language", "study", "duplicate_of",
            "fulltext_status", "position", "searches", "created_at",
        ]  # fmt: skip

    def get_searches(self, obj) -> list[int]:
        # The search of the record's import (a paper found by several searches is several
        # records, merged: see `duplicate_of`); none for a record added by hand.
        return [obj.found_by] if obj.found_by is not None else []


class StudySerializer(serializers.ModelSerializer):
    n_records = serializers.IntegerField(read_only=True)
    n_documents = serializers.IntegerField(read_only=True)

    class Meta:
        model = Study
        fields = [
            "id", "label", "title", "year", "kind", "phase", "notes", "n_records",
            "n_documents", "created_at", "updated_at",
        ]  # fmt: skip


class DocumentSerializer(serializers.ModelSerializer):
    pages = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id", "study", "record", "participant", "kind", "title", "content_type", "pages",
            "created_at",
        ]  # fmt: skip

    def get_pages(self, obj) -> int:
        return len(obj.page_map or [])


class DocumentDetailSerializer(DocumentSerializer):
    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "text", "page_map"]


class ScreeningStageSerializer(serializers.ModelSerializer):
    reasons = serializers.SlugRelatedField(many=True, read_only=True, slug_field="label")

    class Meta:
        model = ScreeningStage
        fields = [
            "id", "kind", "name", "order", "inclusion_criteria", "exclusion_criteria",
            "reason_required", "reasons",
        ]  # fmt: skip


class ScreeningDecisionSerializer(serializers.ModelSerializer):
    stage_kind = serializers.CharField(source="stage.kind", read_only=True)
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)
    reason = serializers.CharField(source="reason.label", read_only=True, default=None)

    class Meta:
        model = ScreeningDecision
        fields = [
            "id", "record", "stage", "stage_kind", "reviewer", "decision", "reason", "note",
            "created_at", "updated_at",
        ]  # fmt: skip


class AppraisalSerializer(serializers.ModelSerializer):
    appraiser = serializers.CharField(source="appraiser.username", read_only=True)
    exclusion_reason = serializers.CharField(
        source="exclusion_reason.label", read_only=True, default=None
    )

    class Meta:
        model = Appraisal
        fields = [
            "id", "study", "excerpt", "cmoc", "appraiser", "relevance", "informs",
            "relevance_note", "richness", "richness_criteria", "rigour", "method_described",
            "data_supports_claim", "rigour_note", "external_tool", "external_score", "verdict",
            "verdict_reason", "exclusion_reason", "created_at", "updated_at",
        ]  # fmt: skip


class ExtractionAnswerSerializer(serializers.ModelSerializer):
    field_key = serializers.CharField(source="field.key", read_only=True)
    field_label = serializers.CharField(source="field.label", read_only=True)
    form = serializers.IntegerField(source="field.form_id", read_only=True)
    extractor = serializers.CharField(source="extractor.username", read_only=True)

    class Meta:
        model = ExtractionAnswer
        fields = [
            "id", "study", "form", "field", "field_key", "field_label", "extractor", "value",
            "is_consensus", "updated_at",
        ]  # fmt: skip


class ConceptSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(
        required=False, min_value=1,
        help_text="Bumped by every change. On update: the `version` you read; if someone has "
        "saved the concept since, nothing is changed and the answer is 409 with the version "
        "now saved; without it, the update applies whatever was saved in between.",
    )  # fmt: skip

    class Meta:
        model = Concept
        fields = [
            "id", "label", "parent", "description", "synonyms", "mechanism_type", "source",
            "version", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at"]
        # Uniqueness is checked by the service, which knows the review.
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        review = self.context.get("review")
        if review is not None:
            self.fields["parent"].queryset = Concept.objects.filter(review=review)


class ExcerptSerializer(serializers.ModelSerializer):
    study = serializers.IntegerField(source="document.study_id", read_only=True, allow_null=True)
    locator = serializers.CharField(read_only=True)
    coder = serializers.CharField(source="coder.username", read_only=True, default=None)
    text = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    start = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    end = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    page = serializers.IntegerField(min_value=1, max_value=100_000, required=False, allow_null=True)

    class Meta:
        model = Excerpt
        fields = [
            "id", "document", "study", "text", "page", "start", "end", "locator", "note",
            "coder", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        review = self.context.get("review")
        if review is not None:
            self.fields["document"].queryset = Document.objects.filter(review=review)


class CMOCElementSerializer(serializers.ModelSerializer):
    concept_label = serializers.CharField(source="concept.label", read_only=True)

    class Meta:
        model = CMOCElement
        fields = ["role", "concept", "concept_label", "direction"]


class CMOCEvidenceSerializer(serializers.ModelSerializer):
    quote = serializers.CharField(source="excerpt.text", read_only=True)
    locator = serializers.CharField(source="excerpt.locator", read_only=True)
    page = serializers.IntegerField(source="excerpt.page", read_only=True, allow_null=True)
    document = serializers.IntegerField(source="excerpt.document_id", read_only=True)
    study = serializers.IntegerField(
        source="excerpt.document.study_id", read_only=True, allow_null=True
    )
    source = serializers.SerializerMethodField(help_text="How the source is cited.")

    class Meta:
        model = CMOCEvidence
        fields = [
            "id", "cmoc", "excerpt", "stance", "note", "quote", "locator", "page", "document",
            "study", "source",
        ]  # fmt: skip
        read_only_fields = ["id"]
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        review = self.context.get("review")
        if review is not None and "cmoc" in self.fields:
            self.fields["cmoc"].queryset = CMOC.objects.filter(review=review)
            self.fields["excerpt"].queryset = Excerpt.objects.filter(review=review)

    def get_source(self, obj) -> str:
        return source_label(obj.excerpt.document)


def source_label(document) -> str:
    if document.study_id:
        return document.study.label
    if document.participant_id:
        return document.participant.code
    return document.title


class CMOCSerializer(serializers.ModelSerializer):
    phase_name = serializers.CharField(source="phase.name", read_only=True, default=None)
    elements = CMOCElementSerializer(many=True, read_only=True)
    evidence = CMOCEvidenceSerializer(many=True, read_only=True)
    is_supported = serializers.BooleanField(read_only=True)

    class Meta:
        model = CMOC
        fields = [
            "id", "code", "phase", "phase_name", "statement", "context", "mechanism_resource",
            "mechanism_reasoning", "outcome", "origin", "relation", "prior", "confidence",
            "theme", "tags", "source_count", "is_supported", "checked", "elements", "evidence",
            "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["version"]


def _locator(page, start, end) -> str:
    return (f"p. {page}, " if page else "") + f"chars {start}–{end}"


def cmoc_representations(rows: list[dict], relations: tuple[dict, dict]) -> list[dict]:
    """The CMOCSerializer shape built from plain rows (`selectors_reporting.CMOC_API_COLUMNS`
    and `cmoc_api_relations`): the list endpoint's fast path. A test pins it to the
    serializer's output so the two cannot drift apart."""
    elements, evidence = relations
    dt = serializers.DateTimeField().to_representation
    out = []
    for r in rows:
        pk = r["id"]
        out.append({
            "id": pk, "code": r["code"], "phase": r["phase_id"], "phase_name": r["phase_name"],
            "statement": r["statement"], "context": r["context"],
            "mechanism_resource": r["mechanism_resource"],
            "mechanism_reasoning": r["mechanism_reasoning"], "outcome": r["outcome"],
            "origin": r["origin"], "relation": r["relation"], "prior": r["prior_id"],
            "confidence": r["confidence"], "theme": r["theme"], "tags": r["tags"],
            "source_count": r["source_count"], "is_supported": r["source_count"] >= 2,
            "checked": r["checked"],
            "elements": [
                {"role": role, "concept": concept, "concept_label": label, "direction": sign}
                for _, role, concept, label, sign in elements.get(pk, ())
            ],
            "evidence": [
                {
                    "id": ev_id, "cmoc": pk, "excerpt": excerpt, "stance": stance, "note": note,
                    "quote": text, "locator": _locator(page, start, end), "page": page,
                    "document": document, "study": study,
                    "source": study_label if study else (participant or title),
                }
                for (
                    _, ev_id, excerpt, stance, note, text, page, start, end, document, study,
                    study_label, participant, title,
                ) in evidence.get(pk, ())
            ],
            "version": r["version"], "created_at": dt(r["created_at"]),
            "updated_at": dt(r["updated_at"]),
        })  # fmt: skip
    return out


class ReviewConceptField(serializers.PrimaryKeyRelatedField):
    """A concept of the review in the serializer context (resolved lazily: nested fields are
    built before the context exists)."""

    def get_queryset(self):
        review = self.context.get("review")
        return Concept.objects.filter(review=review) if review else Concept.objects.none()


class ElementWriteSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    concept = ReviewConceptField(queryset=Concept.objects.none())
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, default="")


class CMOCWriteSerializer(serializers.ModelSerializer):
    elements = ElementWriteSerializer(many=True, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    version = serializers.IntegerField(
        required=False, min_value=1, write_only=True,
        help_text="On update: the `version` you read. If someone has saved the CMOC since, "
        "nothing is changed and the answer is 409 with the version now saved; without it, "
        "the update applies whatever was saved in between.",
    )  # fmt: skip

    class Meta:
        model = CMOC
        fields = [
            "code", "phase", "statement", "context", "mechanism_resource",
            "mechanism_reasoning", "outcome", "origin", "relation", "prior", "confidence",
            "confidence_note", "theme", "tags", "elements", "version",
        ]  # fmt: skip
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        review = self.context.get("review")
        if review is not None:
            self.fields["phase"].queryset = Phase.objects.filter(review=review)
            self.fields["prior"].queryset = CMOC.objects.filter(review=review)


class DemiRegularitySerializer(serializers.ModelSerializer):
    class Meta:
        model = DemiRegularity
        fields = ["id", "label", "summary", "cmocs", "created_at"]


class TheoryVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = TheoryVersion
        fields = ["id", "number", "label", "kind", "rationale", "created_by", "created_at"]


class TheoryVersionDetailSerializer(TheoryVersionSerializer):
    class Meta(TheoryVersionSerializer.Meta):
        fields = [*TheoryVersionSerializer.Meta.fields, "snapshot"]


class ChainSerializer(serializers.Serializer):
    source = serializers.IntegerField(source="src", help_text="CMOC whose outcome …")
    source_code = serializers.CharField(source="src_code")
    target = serializers.IntegerField(source="dst_id", help_text="… is this CMOC's context.")
    target_code = serializers.CharField(source="dst_code")
    kind = serializers.CharField(
        source="link_kind",
        help_text='"concept" when computed from a shared concept, else the kind of the link '
        "a reviewer asserted (outcome_context, outcome_mechanism, countervailing, moderates).",
    )
    concept = serializers.IntegerField(source="concept_ref", allow_null=True)
    concept_label = serializers.CharField(source="concept_name", allow_null=True)
    outcome_direction = serializers.CharField(allow_null=True)
    context_direction = serializers.CharField(allow_null=True)
    link = serializers.IntegerField(allow_null=True, help_text="Id of the asserted link.")
    note = serializers.CharField(source="link_note", allow_null=True)

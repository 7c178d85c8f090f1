from django.contrib import admin

from studies import models as m


@admin.register(m.Search)
class SearchAdmin(admin.ModelAdmin):
    list_display = ["source", "kind", "review", "phase", "run_on", "reported_hits"]
    list_filter = ["kind", "review"]
    search_fields = ["source", "query", "notes"]


@admin.register(m.ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["filename", "format", "search", "status", "parsed_count", "created_count",
                    "duplicate_count", "created_at"]  # fmt: skip
    list_filter = ["status", "format"]


@admin.register(m.Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "journal", "doi", "pmid", "duplicate_of", "study"]
    list_filter = ["review", "year"]
    search_fields = ["title", "doi", "pmid"]
    raw_id_fields = ["duplicate_of", "study", "batch"]


class DocumentInline(admin.TabularInline):
    model = m.Document
    extra = 0
    fields = ["title", "kind", "file"]


@admin.register(m.Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["label", "year", "kind", "phase", "review"]
    list_filter = ["kind", "review", "phase"]
    search_fields = ["label", "title"]
    inlines = [DocumentInline]


@admin.register(m.Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "study", "participant", "created_at"]
    list_filter = ["kind", "review"]
    search_fields = ["title"]
    raw_id_fields = ["study", "record", "participant"]


class ReasonInline(admin.TabularInline):
    model = m.ExclusionReason
    extra = 0


@admin.register(m.ScreeningStage)
class ScreeningStageAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "order", "review", "reason_required"]
    inlines = [ReasonInline]


@admin.register(m.ScreeningDecision)
class ScreeningDecisionAdmin(admin.ModelAdmin):
    list_display = ["record", "stage", "reviewer", "decision", "reason", "updated_at"]
    list_filter = ["decision", "stage"]
    raw_id_fields = ["record"]


@admin.register(m.ScreeningResolution)
class ScreeningResolutionAdmin(admin.ModelAdmin):
    list_display = ["record", "stage", "decision", "resolved_by", "updated_at"]
    raw_id_fields = ["record"]


@admin.register(m.Appraisal)
class AppraisalAdmin(admin.ModelAdmin):
    list_display = ["target", "appraiser", "relevance", "rigour", "verdict", "updated_at"]
    list_filter = ["relevance", "rigour", "verdict"]
    raw_id_fields = ["study", "excerpt", "cmoc"]


class FieldInline(admin.TabularInline):
    model = m.ExtractionField
    extra = 0


@admin.register(m.ExtractionForm)
class ExtractionFormAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "is_current", "review"]
    inlines = [FieldInline]


@admin.register(m.ExtractionAnswer)
class ExtractionAnswerAdmin(admin.ModelAdmin):
    list_display = ["study", "field", "extractor", "value"]
    raw_id_fields = ["study", "field"]


@admin.register(m.Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["code", "role", "case", "organisation_type", "interview_phase", "review"]
    search_fields = ["code", "role", "case"]


@admin.register(m.DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    list_display = ["id", "review", "record_a", "record_b", "score", "status", "auto"]
    list_filter = ["status", "auto"]
    raw_id_fields = ["record_a", "record_b", "survivor", "batch"]

from django.contrib import admin

from cmoc import models as m


@admin.register(m.Concept)
class ConceptAdmin(admin.ModelAdmin):
    list_display = ["label", "parent", "mechanism_type", "source", "review"]
    list_filter = ["mechanism_type", "review"]
    search_fields = ["label", "description"]
    raw_id_fields = ["parent"]


class ElementInline(admin.TabularInline):
    model = m.CMOCElement
    extra = 0
    raw_id_fields = ["concept"]


class EvidenceInline(admin.TabularInline):
    model = m.CMOCEvidence
    extra = 0
    raw_id_fields = ["excerpt"]


@admin.register(m.CMOC)
class CMOCAdmin(admin.ModelAdmin):
    list_display = ["code", "phase", "relation", "origin", "source_count", "checked"]
    list_filter = ["phase", "relation", "origin", "checked", "review"]
    search_fields = ["code", "statement"]
    raw_id_fields = ["prior"]
    inlines = [ElementInline, EvidenceInline]


@admin.register(m.Excerpt)
class ExcerptAdmin(admin.ModelAdmin):
    list_display = ["__str__", "document", "page", "start", "end", "coder"]
    search_fields = ["text"]
    raw_id_fields = ["document"]


@admin.register(m.CMOCLink)
class CMOCLinkAdmin(admin.ModelAdmin):
    list_display = ["source", "kind", "target"]
    raw_id_fields = ["source", "target"]


@admin.register(m.DemiRegularity)
class DemiRegularityAdmin(admin.ModelAdmin):
    list_display = ["label", "review"]
    filter_horizontal = ["cmocs"]


@admin.register(m.MiddleRangeTheory)
class MiddleRangeTheoryAdmin(admin.ModelAdmin):
    list_display = ["name", "citation", "review"]


@admin.register(m.TheoryVersion)
class TheoryVersionAdmin(admin.ModelAdmin):
    list_display = ["number", "label", "kind", "review", "created_at"]
    readonly_fields = ["snapshot"]

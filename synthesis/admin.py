from django.contrib import admin

from synthesis.models import Job, Membership, Phase, Review, ReviewEvent


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["title", "registration", "blind_screening", "dual_fraction", "created_at"]
    search_fields = ["title", "question", "registration"]
    inlines = [MembershipInline, PhaseInline]


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "review", "actor", "verb", "target_type", "target_id", "summary"]
    list_filter = ["verb", "review"]
    search_fields = ["summary", "verb"]
    readonly_fields = [f.name for f in ReviewEvent._meta.fields]

    def has_add_permission(self, request):
        return False  # the audit trail is written by services only

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "review", "kind", "status", "progress", "total", "message"]
    list_filter = ["status", "kind"]

from django.urls import path

from studies import views_screening as v

urlpatterns = [
    path("screening/", v.screening_home, name="screening-home"),
    path("screening/stages/default/", v.stages_default, name="screening-stages-default"),
    path("screening/stages/new/", v.stage_new, name="screening-stage-new"),
    path("screening/stages/<int:stage_id>/edit/", v.stage_edit, name="screening-stage-edit"),
    path("screening/settings/", v.screening_settings, name="screening-settings"),
    path("screening/<int:stage_id>/", v.screen, name="screening-screen"),
    path("screening/<int:stage_id>/record/", v.screen_record, name="screening-record"),
    path("screening/<int:stage_id>/decide/", v.screen_decide, name="screening-decide"),
    path("screening/<int:stage_id>/undo/", v.screen_undo, name="screening-undo"),
    path("screening/<int:stage_id>/progress/", v.screen_progress, name="screening-progress"),
    path("screening/<int:stage_id>/conflicts/", v.conflicts, name="screening-conflicts"),
    path(
        "screening/<int:stage_id>/conflicts/<int:record_id>/",
        v.conflict_detail,
        name="screening-conflict",
    ),
    path("screening/<int:stage_id>/agreement/", v.agreement_page, name="screening-agreement"),
    path("fulltexts/", v.fulltexts, name="screening-fulltexts"),
    path("fulltexts/batch/", v.fulltext_batch, name="screening-fulltext-batch"),
    path("fulltexts/studies/", v.studies_create, name="screening-studies-create"),
    path("fulltexts/<int:record_id>/upload/", v.fulltext_upload, name="screening-fulltext-upload"),
    path(
        "fulltexts/<int:record_id>/not-retrieved/",
        v.fulltext_not_retrieved,
        name="screening-not-retrieved",
    ),
    path("fulltexts/<int:record_id>/group/", v.report_group, name="screening-report-group"),
]

from django.urls import path

from studies import views_appraisal as v

urlpatterns = [
    path("appraisal/", v.appraisal_list, name="appraisal-list"),
    path("appraisal/cmoc/", v.appraisal_cmoc_by_code, name="appraisal-cmoc-by-code"),
    path("appraisal/<str:kind>/<int:target_id>/", v.appraisal_target, name="appraisal-target"),
    path("extraction/", v.form_list, name="extraction-forms"),
    path("extraction/forms/new/", v.form_create, name="extraction-form-create"),
    path("extraction/forms/<int:form_id>/design/", v.form_design, name="extraction-form-design"),
    path(
        "extraction/forms/<int:form_id>/settings/",
        v.form_settings,
        name="extraction-form-settings",
    ),
    path(
        "extraction/forms/<int:form_id>/fields/<int:field_id>/",
        v.field_change,
        name="extraction-field-change",
    ),
    path(
        "extraction/forms/<int:form_id>/studies/<int:study_id>/",
        v.study_extract,
        name="extraction-study",
    ),
    path(
        "extraction/forms/<int:form_id>/studies/<int:study_id>/consolidate/",
        v.study_consolidate,
        name="extraction-consolidate",
    ),
    path("characteristics/", v.characteristics, name="characteristics"),
    path("characteristics/export.csv", v.characteristics_csv, name="characteristics-csv"),
    path("characteristics/export.xlsx", v.characteristics_xlsx, name="characteristics-xlsx"),
    path("progress/", v.progress, name="progress"),
]

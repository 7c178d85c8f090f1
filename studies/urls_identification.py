from django.urls import path

from studies import views_identification as v

urlpatterns = [
    path("identification/", v.search_list, name="identification-searches"),
    path("identification/searches/new/", v.search_edit, name="identification-search-new"),
    path(
        "identification/searches/<int:search_id>/edit/",
        v.search_edit,
        name="identification-search-edit",
    ),
    path("identification/import/", v.import_upload, name="identification-upload"),
    path("identification/imports/<int:batch_id>/", v.import_batch, name="identification-batch"),
    path(
        "identification/imports/<int:batch_id>/confirm/",
        v.import_confirm,
        name="identification-batch-confirm",
    ),
    path(
        "identification/imports/<int:batch_id>/columns/",
        v.import_columns,
        name="identification-batch-columns",
    ),
    path("identification/duplicates/", v.duplicate_list, name="identification-duplicates"),
    path(
        "identification/duplicates/<int:candidate_id>/<str:verb>/",
        v.duplicate_decide,
        name="identification-duplicate-decide",
    ),
]

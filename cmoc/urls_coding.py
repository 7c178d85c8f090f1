from django.urls import path

from cmoc import views_coding as v

urlpatterns = [
    path("coding/documents/", v.document_list, name="coding-documents"),
    path("coding/documents/<int:document_id>/", v.reader, name="coding-reader"),
    path(
        "coding/documents/<int:document_id>/excerpts/",
        v.excerpt_create,
        name="coding-excerpt-create",
    ),
    path("coding/excerpts/<int:excerpt_id>/attach/", v.excerpt_attach, name="coding-attach"),
    path(
        "coding/excerpts/<int:excerpt_id>/delete/", v.excerpt_delete, name="coding-excerpt-delete"
    ),
    path("coding/excerpts/<int:excerpt_id>/edit/", v.excerpt_edit, name="coding-excerpt-edit"),
    path("coding/cmocs/search/", v.cmoc_search, name="coding-cmoc-search"),
    path("coding/concepts/suggest/", v.concept_suggest, name="coding-concept-suggest"),
    path("coding/cmocs/compose/", v.compose, name="coding-compose"),
    path("coding/cmocs/new/", v.cmoc_new, name="coding-cmoc-new"),
    path("coding/cmocs/<int:cmoc_id>/edit/", v.cmoc_edit, name="coding-cmoc-edit"),
    path("coding/cmocs/<int:cmoc_id>/check/", v.cmoc_check, name="coding-cmoc-check"),
    path("coding/evidence/<int:evidence_id>/", v.evidence_update, name="coding-evidence"),
    path("coding/codebook/", v.codebook_action, name="coding-codebook-action"),
    path("coding/participants/", v.participants, name="coding-participants"),
    path(
        "coding/participants/<int:participant_id>/edit/",
        v.participant_edit,
        name="coding-participant-edit",
    ),
    path("coding/theory-links/", v.theory_links, name="coding-theory-links"),
    path(
        "coding/demi-regularities/<int:dr_id>/",
        v.demi_regularity_detail,
        name="coding-demi-regularity",
    ),
    path(
        "coding/demi-regularities/<int:dr_id>/edit/",
        v.demi_regularity_edit,
        name="coding-demi-regularity-edit",
    ),
    path(
        "coding/demi-regularities/<int:dr_id>/delete/",
        v.demi_regularity_delete,
        name="coding-demi-regularity-delete",
    ),
    path("coding/theories/<int:theory_id>/edit/", v.theory_edit, name="coding-theory-edit"),
    path("coding/theories/<int:theory_id>/delete/", v.theory_delete, name="coding-theory-delete"),
]

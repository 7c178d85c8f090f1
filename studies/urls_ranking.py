from django.urls import path

from studies import views_ranking as views

urlpatterns = [
    path("screening/stages/<int:stage_id>/ranking/", views.ranking_stage, name="ranking-stage"),
    path(
        "screening/stages/<int:stage_id>/ranking/panel/",
        views.ranking_panel,
        name="ranking-panel",
    ),
    path(
        "screening/stages/<int:stage_id>/ranking/retrain/",
        views.ranking_retrain,
        name="ranking-retrain",
    ),
    path(
        "screening/stages/<int:stage_id>/ranking/exclude-remaining/",
        views.ranking_exclude_remaining,
        name="ranking-exclude-remaining",
    ),
]

from django.urls import path

from cmoc import views_theory as views

urlpatterns = [
    path("theory/web/", views.web, name="theory-web"),
    path("theory/web/data/", views.web_data, name="theory-web-data"),
    path("theory/web/panel/", views.web_panel, name="theory-web-panel"),
    path("theory/web/paths/", views.web_paths, name="theory-web-paths"),
    path("theory/web/export/<str:fmt>/", views.web_export, name="theory-web-export"),
    path("theory/versions/", views.versions, name="theory-versions"),
    path("theory/versions/compare/", views.version_compare, name="theory-version-compare"),
    path("theory/versions/<int:number>/", views.version_detail, name="theory-version-detail"),
    path("theory/links/", views.links, name="theory-links"),
    path("theory/links/<int:link_id>/delete/", views.link_delete, name="theory-link-delete"),
]

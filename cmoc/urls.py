from django.urls import path

from cmoc import views

urlpatterns = [
    path("cmocs/", views.cmoc_list, name="cmoc-list"),
    path("cmocs/export.<str:fmt>", views.cmoc_list_export, name="cmoc-list-export"),
    path("cmocs/<int:cmoc_id>/", views.cmoc_detail, name="cmoc-detail"),
    path("codebook/", views.codebook, name="codebook"),
]

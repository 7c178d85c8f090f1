from django.urls import path

from studies import views

urlpatterns = [
    path("studies/", views.study_list, name="study-list"),
    path("studies/<int:study_id>/", views.study_detail, name="study-detail"),
]

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from synthesis import views, views_activity, views_settings

urlpatterns = [
    path("", views.review_list, name="review-list"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/password_change.html",
            success_url="/accounts/password/done/",
        ),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_changed.html"
        ),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("reviews/new/", views_settings.review_start, name="review-start"),
    path("reviews/<int:review_id>/", views.review_dashboard, name="review-dashboard"),
    path(
        "reviews/<int:review_id>/settings/", views_settings.review_settings, name="review-settings"
    ),
    path("reviews/<int:review_id>/activity/", views_activity.activity_list, name="activity"),
    path(
        "reviews/<int:review_id>/activity/export.csv",
        views_activity.activity_csv,
        name="activity-csv",
    ),
    path("api/", include("synthesis.api.urls")),
    path("reviews/<int:review_id>/", include("studies.urls")),
    path("reviews/<int:review_id>/", include("studies.urls_identification")),
    path("reviews/<int:review_id>/", include("studies.urls_screening")),
    path("reviews/<int:review_id>/", include("studies.urls_ranking")),
    path("reviews/<int:review_id>/", include("studies.urls_appraisal")),
    path("reviews/<int:review_id>/", include("cmoc.urls")),
    path("reviews/<int:review_id>/", include("cmoc.urls_coding")),
    path("reviews/<int:review_id>/", include("cmoc.urls_theory")),
    path("reviews/<int:review_id>/", include("synthesis.urls_reporting")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

"""API URLs: /api/v1/… endpoints, the OpenAPI 3 schema and its docs (served from the
vendored sidecar, no CDN)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from synthesis.api import views

router = DefaultRouter()
router.register("reviews", views.ReviewViewSet, basename="api-review")

# Everything inside one review: /api/v1/reviews/<review_pk>/<name>/. New endpoints go here.
REVIEW_SCOPED = [
    ("phases", views.PhaseViewSet),
    ("searches", views.SearchViewSet),
    ("records", views.RecordViewSet),
    ("studies", views.StudyViewSet),
    ("documents", views.DocumentViewSet),
    ("screening-stages", views.ScreeningStageViewSet),
    ("screening-decisions", views.ScreeningDecisionViewSet),
    ("appraisals", views.AppraisalViewSet),
    ("extraction-answers", views.ExtractionAnswerViewSet),
    ("concepts", views.ConceptViewSet),
    ("excerpts", views.ExcerptViewSet),
    ("cmocs", views.CMOCViewSet),
    ("cmoc-evidence", views.CMOCEvidenceViewSet),
    ("demi-regularities", views.DemiRegularityViewSet),
    ("theory-versions", views.TheoryVersionViewSet),
    ("chains", views.ChainViewSet),
]
for name, viewset in REVIEW_SCOPED:
    router.register(rf"reviews/(?P<review_pk>[0-9]+)/{name}", viewset, basename=f"api-{name}")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

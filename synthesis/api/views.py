"""v1 API views. Every queryset starts from the reviews the user belongs to; non-members get
404, members whose role lacks the action 403. Writes call the same services as the pages.

To add an endpoint: subclass `ReviewScopedViewSet`, set `queryset_for_review`, a serializer
and a filterset, and register it in `urls.py`.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F, OuterRef, Prefetch, Subquery
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from cmoc.models import (
    CMOC,
    CMOCElement,
    CMOCEvidence,
    Concept,
    DemiRegularity,
    Excerpt,
    TheoryVersion,
)
from cmoc.services import api_writes
from studies.models import (
    Appraisal,
    Document,
    ExtractionAnswer,
    Record,
    ScreeningStage,
    Search,
    Study,
)
from studies.selectors_screening import decisions_visible_to
from synthesis import selectors_reporting
from synthesis.api import filters
from synthesis.api import serializers as s
from synthesis.concurrency import EditConflict
from synthesis.models import Membership, Review
from synthesis.permissions import Action, can, get_review

MAX_ID = filters.MAX_ID


class LargeListPagination(CursorPagination):
    """Cursor pagination for lists that grow to 100k rows: constant cost per page."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("id",)


class CMOCPagination(LargeListPagination):
    ordering = ("code",)


def _int_or_404(value) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    if not 0 <= n <= MAX_ID:
        raise Http404
    return n


class EditConflictError(APIException):
    """409: the object was saved by someone else after the `version` the client sent."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, conflict: EditConflict):
        super().__init__({"version": conflict.message_dict["version"]})
        self.detail["current_version"] = conflict.version  # a number, not a message


def service_call(func, /, **kwargs):
    """Run a service and turn its validation errors into 400 responses (an edit conflict
    into 409)."""
    try:
        return func(**kwargs)
    except EditConflict as exc:
        raise EditConflictError(exc) from exc
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        raise ValidationError(detail) from exc
    except ValueError as exc:
        raise ValidationError({"detail": str(exc)}) from exc


class ReviewViewSet(viewsets.ReadOnlyModelViewSet):
    """Reviews you are a member of, with your role."""

    serializer_class = s.ReviewSerializer
    ordering_fields = ["title", "created_at", "updated_at"]
    ordering = ["title"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        user = self.request.user
        role = Membership.objects.filter(review=OuterRef("pk"), user=user).values("role")[:1]
        return Review.objects.for_user(user).annotate(role=Subquery(role))

    def get_object(self):
        _int_or_404(self.kwargs["pk"])
        return super().get_object()


class MayWrite(permissions.BasePermission):
    """Writes need the view's `write_action`. `initial` already refuses them with a reason;
    this answers the browsable API's question, so that it shows no create/edit form to an
    analyst or viewer who would only be refused."""

    def has_permission(self, request, view):
        review = getattr(view, "review", None)
        if review is None or request.method in permissions.SAFE_METHODS:
            return True  # before `initial` has resolved the review, or a read
        return can(request.user, review, view.write_action, role=review.user_role)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "review_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Review id"
        )
    ]
)
class ReviewScopedViewSet(viewsets.GenericViewSet):
    """Base for everything inside one review: resolves `self.review` with the right action."""

    write_action = Action.EDIT_EVIDENCE
    lookup_value_regex = "[0-9]+"
    permission_classes = [permissions.IsAuthenticated, MayWrite]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, throttling first
        action = Action.VIEW if request.method in permissions.SAFE_METHODS else self.write_action
        self.review = get_review(request.user, _int_or_404(kwargs.get("review_pk")), action)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "review": getattr(self, "review", None)}

    def queryset_for_review(self, review):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.serializer_class.Meta.model.objects.none()
        return self.queryset_for_review(self.review)

    def get_object(self):
        _int_or_404(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field))
        return super().get_object()


class ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, ReviewScopedViewSet):
    pass


class PhaseViewSet(ReadOnly):
    serializer_class = s.PhaseSerializer
    ordering_fields = ["order", "name"]

    def queryset_for_review(self, review):
        return review.phases.order_by("order", "name")


class SearchViewSet(ReadOnly):
    serializer_class = s.SearchSerializer
    filterset_class = filters.SearchFilter
    ordering_fields = ["run_on", "source", "id"]

    def queryset_for_review(self, review):
        return (
            Search.objects.filter(review=review)
            .annotate(n_records=Count("import_batches__records"))
            .order_by("run_on", "id")
        )


class RecordViewSet(ReadOnly):
    serializer_class = s.RecordSerializer
    filterset_class = filters.RecordFilter
    pagination_class = LargeListPagination
    ordering_fields = ["id", "position", "year"]

    def queryset_for_review(self, review):
        return (
            Record.objects.filter(review=review)
            .defer("raw")
            .annotate(found_by=F("batch__search_id"))
        )


class StudyViewSet(ReadOnly):
    serializer_class = s.StudySerializer
    filterset_class = filters.StudyFilter
    ordering_fields = ["label", "year", "updated_at", "id"]

    def queryset_for_review(self, review):
        return (
            Study.objects.filter(review=review)
            .annotate(
                n_records=Count("records", distinct=True),
                n_documents=Count("documents", distinct=True),
            )
            .order_by("label")
        )


class DocumentViewSet(ReadOnly):
    serializer_class = s.DocumentSerializer
    filterset_class = filters.DocumentFilter
    ordering_fields = ["title", "id", "created_at"]

    def get_serializer_class(self):
        return s.DocumentDetailSerializer if self.action == "retrieve" else s.DocumentSerializer

    def queryset_for_review(self, review):
        qs = Document.objects.filter(review=review).order_by("title", "id")
        return qs if self.action == "retrieve" else qs.defer("text")


class ScreeningStageViewSet(ReadOnly):
    serializer_class = s.ScreeningStageSerializer

    def queryset_for_review(self, review):
        return ScreeningStage.objects.filter(review=review).prefetch_related("reasons")


class ScreeningDecisionViewSet(ReadOnly):
    """Screening votes without breaking blinding (the screening pages' own rule,
    `studies.selectors_screening.decisions_visible_to`): your own, and others' only when the
    review is not blind or the record has all the votes it needs at that stage."""

    serializer_class = s.ScreeningDecisionSerializer
    filterset_class = filters.ScreeningDecisionFilter
    pagination_class = LargeListPagination
    ordering_fields = ["id", "updated_at"]

    def queryset_for_review(self, review):
        return decisions_visible_to(self.request.user, review=review).select_related(
            "stage", "reviewer", "reason"
        )


class AppraisalViewSet(ReadOnly):
    serializer_class = s.AppraisalSerializer
    filterset_class = filters.AppraisalFilter
    ordering_fields = ["id", "updated_at"]

    def queryset_for_review(self, review):
        return (
            Appraisal.objects.filter(review=review)
            .select_related("appraiser", "exclusion_reason")
            .order_by("id")
        )


class ExtractionAnswerViewSet(ReadOnly):
    serializer_class = s.ExtractionAnswerSerializer
    filterset_class = filters.ExtractionAnswerFilter
    ordering_fields = ["id", "updated_at"]

    def queryset_for_review(self, review):
        return (
            ExtractionAnswer.objects.filter(study__review=review)
            .select_related("field", "extractor")
            .order_by("study_id", "field__order", "id")
        )


class ConceptViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadOnly):
    """The codebook. Reviewers and owners may add and edit concepts."""

    serializer_class = s.ConceptSerializer
    filterset_class = filters.ConceptFilter
    ordering_fields = ["label", "id", "created_at"]

    def queryset_for_review(self, review):
        return Concept.objects.filter(review=review).order_by("label")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)  # a new concept starts at 1
        serializer.instance = service_call(
            api_writes.concept_create, user=self.request.user, review=self.review, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = service_call(
            api_writes.concept_update, user=self.request.user, concept=serializer.instance,
            expected_version=data.pop("version", None), **data,
        )  # fmt: skip


class ExcerptViewSet(mixins.CreateModelMixin, ReadOnly):
    """Coded passages with locators. Reviewers and owners may add excerpts."""

    serializer_class = s.ExcerptSerializer
    filterset_class = filters.ExcerptFilter
    pagination_class = LargeListPagination
    ordering_fields = ["id", "created_at"]

    def queryset_for_review(self, review):
        return Excerpt.objects.filter(review=review).select_related("document", "coder")

    def perform_create(self, serializer):
        serializer.instance = service_call(
            api_writes.excerpt_create, user=self.request.user, **serializer.validated_data
        )


@extend_schema_view(
    create=extend_schema(request=s.CMOCWriteSerializer, responses={201: s.CMOCSerializer}),
    update=extend_schema(request=s.CMOCWriteSerializer, responses=s.CMOCSerializer),
    partial_update=extend_schema(request=s.CMOCWriteSerializer, responses=s.CMOCSerializer),
)
class CMOCViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadOnly):
    """CMOCs with their elements (concept, role, direction) and evidence (excerpt quotes,
    locators and sources). Reviewers and owners may create and edit."""

    serializer_class = s.CMOCSerializer
    filterset_class = filters.CMOCFilter
    pagination_class = CMOCPagination
    ordering_fields = ["code", "source_count", "updated_at", "id"]

    def queryset_for_review(self, review):
        return selectors_reporting.cmoc_export_queryset(review=review)

    def list(self, request, *args, **kwargs):
        # Fast path (bench/exports.py: p95 ≤ 100 ms at 100k CMOCs): filter and cursor on plain
        # rows, then two queries for the page's elements and evidence; no model instances.
        qs = self.filter_queryset(selectors_reporting.cmoc_api_queryset(review=self.review))
        page = self.paginate_queryset(qs.values(*selectors_reporting.CMOC_API_COLUMNS))
        relations = selectors_reporting.cmoc_api_relations([r["id"] for r in page])
        return self.get_paginated_response(s.cmoc_representations(page, relations))

    def _save(self, request, instance=None, partial=False):
        write = s.CMOCWriteSerializer(
            instance, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        write.is_valid(raise_exception=True)
        data = dict(write.validated_data)
        if "elements" in data:
            data["elements"] = [dict(e) for e in data["elements"]]
        expected_version = data.pop("version", None)
        if instance is None:
            cmoc = service_call(
                api_writes.cmoc_create, user=request.user, review=self.review, **data
            )
        else:
            cmoc = service_call(
                api_writes.cmoc_update, user=request.user, cmoc=instance,
                expected_version=expected_version, **data,
            )  # fmt: skip
        fresh = self.queryset_for_review(self.review).get(pk=cmoc.pk)
        return self.get_serializer(fresh).data

    def create(self, request, *args, **kwargs):
        return Response(self._save(request), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        return Response(self._save(request, self.get_object(), partial=partial))


class CMOCEvidenceViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ReadOnly):
    """Excerpts linked to CMOCs as supporting or contradicting evidence."""

    serializer_class = s.CMOCEvidenceSerializer
    pagination_class = LargeListPagination
    ordering_fields = ["id"]

    def queryset_for_review(self, review):
        return CMOCEvidence.objects.filter(cmoc__review=review).select_related(
            "excerpt__document__study", "excerpt__document__participant"
        )

    def perform_create(self, serializer):
        serializer.instance = service_call(
            api_writes.cmoc_evidence_add, user=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        service_call(api_writes.cmoc_evidence_remove, user=self.request.user, evidence=instance)


class DemiRegularityViewSet(ReadOnly):
    serializer_class = s.DemiRegularitySerializer
    ordering_fields = ["label", "id"]

    def queryset_for_review(self, review):
        return (
            DemiRegularity.objects.filter(review=review)
            .prefetch_related(Prefetch("cmocs", queryset=CMOC.objects.only("id")))
            .order_by("label")
        )


class TheoryVersionViewSet(ReadOnly):
    serializer_class = s.TheoryVersionSerializer
    ordering_fields = ["number"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.TheoryVersionDetailSerializer
        return s.TheoryVersionSerializer

    def queryset_for_review(self, review):
        qs = TheoryVersion.objects.filter(review=review).select_related("created_by")
        return qs if self.action == "retrieve" else qs.defer("snapshot")


class ChainViewSet(mixins.ListModelMixin, ReviewScopedViewSet):
    """Chain links: computed ones (the outcome concept of one CMOC is a context concept of
    another) and the ones reviewers asserted between CMOCs."""

    serializer_class = s.ChainSerializer
    filterset_class = filters.ChainFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        return CMOCElement.objects.none()  # the rows come from filter_queryset

    def filter_queryset(self, queryset):
        fs = filters.ChainFilter(self.request.query_params, queryset=queryset)
        if not fs.is_valid():
            raise ValidationError(fs.errors)
        f = fs.form.cleaned_data
        return selectors_reporting.chains(
            review=self.review, concept_id=f.get("concept"), cmoc_id=f.get("cmoc"),
            kind=f.get("kind") or None,
        )  # fmt: skip

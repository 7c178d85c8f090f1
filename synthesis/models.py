"""The review as a whole: reviews, memberships (roles), phases, audit events, background jobs."""

import json
import os
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    REVIEWER = "reviewer", "Reviewer"
    ANALYST = "analyst", "Analyst"
    VIEWER = "viewer", "Viewer"


class ReviewQuerySet(models.QuerySet):
    def for_user(self, user):
        """Reviews the user is a member of: the start of every read."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(memberships__user=user)


class Review(models.Model):
    class MaybeCounts(models.TextChoices):
        INCLUDE = "include", "as include"
        EXCLUDE = "exclude", "as exclude"
        SEPARATE = "separate", "as its own category"

    title = models.CharField(max_length=300)
    question = models.TextField(blank=True)
    registration = models.CharField("registration id", max_length=100, blank=True)
    description = models.TextField(blank=True)
    blind_screening = models.BooleanField(
        default=True, help_text="Reviewers do not see each other's votes until both decided."
    )
    dual_fraction = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=0.1,
        help_text="Share of records screened independently by a second reviewer (0–1).",
    )
    dual_seed = models.PositiveIntegerField(default=20200220)
    maybe_counts_as = models.CharField(
        max_length=10, choices=MaybeCounts.choices, default=MaybeCounts.INCLUDE
    )
    highlight_include_terms = models.TextField(blank=True, help_text="One term per line.")
    highlight_exclude_terms = models.TextField(blank=True, help_text="One term per line.")
    auto_merge_threshold = models.FloatField(
        default=0.97, help_text="Duplicate clusters scoring at least this merge automatically."
    )
    # Two forms edit a review, each with its own version (see synthesis.concurrency), so that
    # an owner saving one never conflicts with another saving the other: `version` counts
    # the details (Settings page), `screening_version` the screening settings.
    version = models.PositiveIntegerField(default=1)
    screening_version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dual_fraction__gte=0) & Q(dual_fraction__lte=1),
                name="review_dual_fraction_0_1",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def role_of(self, user) -> str | None:
        m = self.memberships.filter(user=user).only("role").first()
        return m.role if m else None


class Membership(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REVIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)  # of the role; see synthesis.concurrency

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.review}"


class Phase(models.Model):
    """A stage of the realist programme: theory gleaning, refinement, realist evaluation…"""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(default=1)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)  # see synthesis.concurrency

    class Meta:
        ordering = ["review", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="phase_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ReviewEvent(models.Model):
    """Audit trail: who changed what, when, and from what to what."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=80)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["review", "target_type", "target_id"]),
            # the activity page: newest first within a review, and per member (keyset pages)
            models.Index(fields=["review", "-created_at", "-id"], name="event_review_time"),
            models.Index(
                fields=["review", "actor", "-created_at", "-id"], name="event_review_actor_time"
            ),
            # filters by area (a list of verbs): a rare area is found without a scan
            models.Index(
                fields=["review", "verb", "-created_at", "-id"], name="event_review_verb_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.target_type}#{self.target_id}"


class Job(models.Model):
    """A long piece of work (import, ranking, export) run by the job queue, with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=60)
    func = models.CharField(max_length=200, help_text="Dotted path of the function to run.")
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["review", "kind", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        progress, total, _ = self.live
        return int(100 * progress / total) if total else 0

    @property
    def live_message(self) -> str:
        return self.live[2]

    # Live progress: a small JSON file per running job under MEDIA_ROOT/jobs/, written by
    # synthesis.jobs.job_progress. The job's row is not enough: a job inside one long
    # transaction (an import) cannot make its row's progress visible before it commits, and on
    # SQLite no other connection may write while it holds the write lock.
    def _live_path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "jobs" / f"{self.pk}.progress.json"

    def live_write(self) -> None:
        path = self._live_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([self.progress, self.total, self.message]))
        os.replace(tmp, path)  # readers never see a half-written file
        self.__dict__.pop("live", None)

    def live_clear(self) -> None:
        self._live_path().unlink(missing_ok=True)

    @cached_property
    def live(self) -> tuple[int, int, str]:
        """(progress, total, message): the live file while the job runs, else the row."""
        if self.status in (self.Status.RUNNING, self.Status.QUEUED) and self.pk:
            try:
                progress, total, message = json.loads(self._live_path().read_text())
                return int(progress), int(total), str(message)
            except (OSError, ValueError, TypeError):
                pass
        return self.progress, self.total, self.message

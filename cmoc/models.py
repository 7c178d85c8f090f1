"""Realist analysis: codebook, excerpts, CMOCs, chains, demi-regularities, theories, versions."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Concat, Lower

from studies.models import Document
from synthesis.models import Phase, Review

USER = settings.AUTH_USER_MODEL


class Role(models.TextChoices):
    CONTEXT = "context", "Context"
    MECHANISM = "mechanism", "Mechanism"
    OUTCOME = "outcome", "Outcome"


class Direction(models.TextChoices):
    INCREASE = "increase", "increases"
    DECREASE = "decrease", "decreases"
    NONE = "", "unsigned"


class IntervieweeStance(models.TextChoices):
    NONE = "", "—"
    CONFIRMS = "confirms", "Confirms the theory"
    REFINES = "refines", "Refines the theory"
    REFUTES = "refutes", "Refutes the theory"


class Concept(models.Model):
    """A codebook concept. Neutral about role: "trust" is a mechanism in one CMOC and an
    outcome or context in another, which is what lets CMOCs chain."""

    class MechanismType(models.TextChoices):
        NONE = "", "—"
        RESOURCE = "resource", "Resource"
        REASONING = "reasoning", "Reasoning"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="concepts")
    label = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    description = models.TextField(blank=True)
    synonyms = models.JSONField(default=list, blank=True)
    mechanism_type = models.CharField(
        max_length=10, choices=MechanismType.choices, blank=True, default=""
    )
    source = models.CharField(max_length=100, blank=True, help_text="e.g. Table 7")
    version = models.PositiveIntegerField(default=1)  # see synthesis.concurrency
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "label"]
        constraints = [
            models.UniqueConstraint("review", Lower("label"), name="concept_unique_label_ci"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="concept_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.label


class Excerpt(models.Model):
    """A coded passage of a document, located by character offsets into the extracted text."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="excerpts")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="excerpts")
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    coder = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    # For interview quotes: how the interviewee responded to the theory put to them (realist
    # interviews test the programme theory with the participant; seed chapter 3).
    interviewee_stance = models.CharField(
        max_length=10, choices=IntervieweeStance.choices, blank=True, default=""
    )
    version = models.PositiveIntegerField(default=1)  # see synthesis.concurrency
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="excerpt_start_before_end"
            ),
        ]
        indexes = [models.Index(fields=["review", "document"])]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def locator(self) -> str:
        page = f"p. {self.page}, " if self.page else ""
        return f"{page}chars {self.start}–{self.end}"


class MiddleRangeTheory(models.Model):
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="middle_range_theories"
    )
    name = models.CharField(max_length=200)
    citation = models.TextField(blank=True)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)  # see synthesis.concurrency

    class Meta:
        ordering = ["review", "name"]
        verbose_name = "middle-range theory"
        verbose_name_plural = "middle-range theories"
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="mrt_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class CMOC(models.Model):
    """A context–mechanism–outcome configuration."""

    class Relation(models.TextChoices):
        NONE = "", "Not compared"
        AFFIRMS = "affirms", "Affirms"
        REFINES = "refines", "Refines"
        REFUTES = "refutes", "Refutes"
        NOVEL_CONTEXT = "novel_context", "Novel in context"
        NOVEL_MECHANISM = "novel_mechanism", "Novel in mechanism"
        NOVEL_OUTCOME = "novel_outcome", "Novel in outcome"
        NOVEL_RELATIONSHIP = "novel_relationship", "Novel relationship"

    class Origin(models.TextChoices):
        STATED = "stated", "Stated in source"
        INFERRED = "inferred", "Inferred by coder"

    class Confidence(models.TextChoices):
        NONE = "", "—"
        HIGH = "high", "High"
        MODERATE = "moderate", "Moderate"
        LOW = "low", "Low"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="cmocs")
    code = models.CharField(max_length=40)
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="cmocs"
    )
    statement = models.TextField()
    context = models.TextField(blank=True)
    mechanism_resource = models.TextField(blank=True)
    mechanism_reasoning = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.INFERRED)
    relation = models.CharField(max_length=20, choices=Relation.choices, blank=True, default="")
    prior = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="successors"
    )
    confidence = models.CharField(max_length=10, choices=Confidence.choices, blank=True)
    confidence_note = models.TextField(blank=True)
    theme = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list, blank=True)
    middle_range_theories = models.ManyToManyField(
        MiddleRangeTheory, blank=True, related_name="cmocs"
    )
    # Distinct studies among supporting excerpts; maintained by the evidence services so that
    # "supported by ≥2 sources" filters stay an indexed lookup at 50k CMOCs.
    source_count = models.PositiveIntegerField(default=0, db_index=True)
    checked = models.BooleanField(default=False)
    checked_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Bumped by every edit of the CMOC itself (cmoc_update). An editor sends the version it
    # read, and an edit made from an older one is refused rather than silently overwriting what
    # a co-reviewer saved in between (evidence, checks and source counts do not bump it).
    version = models.PositiveIntegerField(default=1)
    # What the list's search box looks in: one lowercased document computed by the database,
    # so bulk loads, imports and raw updates can never leave it stale. Indexed for full-text
    # search on PostgreSQL (GIN) and SQLite (FTS5 trigram); see cmoc/search.py.
    search_text = models.GeneratedField(
        expression=Lower(
            Concat(
                "code",
                models.Value("\n"),
                "statement",
                models.Value("\n"),
                "context",
                models.Value("\n"),
                "mechanism_resource",
                models.Value("\n"),
                "mechanism_reasoning",
                models.Value("\n"),
                "outcome",
                models.Value("\n"),
                "theme",
                output_field=models.TextField(),
            )  # fmt: skip
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["review", "code"]
        verbose_name = "CMOC"
        verbose_name_plural = "CMOCs"
        constraints = [
            models.UniqueConstraint(fields=["review", "code"], name="cmoc_unique_code"),
            models.CheckConstraint(condition=~Q(prior=F("id")), name="cmoc_not_own_prior"),
        ]
        indexes = [
            models.Index(fields=["review", "phase", "relation"]),
            # rigour filter counts and "most sources" sort at 50k CMOCs (bench/cmoc.py)
            models.Index(fields=["review", "-source_count", "code"], name="cmoc_review_sources"),
            models.Index(fields=["review", "checked", "-source_count"], name="cmoc_review_checked"),
            # "sort by phase" walks this narrow index instead of the 50k wide rows
            models.Index(fields=["review", "phase", "code"], name="cmoc_review_phase_code"),
            models.Index(fields=["review", "-updated_at", "code"], name="cmoc_review_updated"),
            models.Index(fields=["review", "origin"], name="cmoc_review_origin"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.statement[:80]}"

    @property
    def is_supported(self) -> bool:
        """Seed rigour rule: clear data from two or more sources."""
        return self.source_count >= 2


class CMOCElement(models.Model):
    """A concept playing a role in a CMOC, with the direction of change."""

    cmoc = models.ForeignKey(CMOC, on_delete=models.CASCADE, related_name="elements")
    role = models.CharField(max_length=10, choices=Role.choices)
    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="elements")
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)

    class Meta:
        ordering = ["cmoc", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cmoc", "role", "concept"], name="element_unique_concept_role"
            ),
        ]
        indexes = [models.Index(fields=["concept", "role"])]

    def __str__(self) -> str:
        return f"{self.role}: {self.concept} ({self.direction or '±'})"


class CMOCEvidence(models.Model):
    class Stance(models.TextChoices):
        SUPPORTS = "supports", "Supports"
        CONTRADICTS = "contradicts", "Contradicts"

    cmoc = models.ForeignKey(CMOC, on_delete=models.CASCADE, related_name="evidence")
    excerpt = models.ForeignKey(Excerpt, on_delete=models.CASCADE, related_name="evidence")
    stance = models.CharField(max_length=12, choices=Stance.choices, default=Stance.SUPPORTS)
    note = models.TextField(blank=True)
    added_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "CMOC evidence"
        constraints = [
            models.UniqueConstraint(fields=["cmoc", "excerpt"], name="evidence_unique_excerpt"),
        ]


class CMOCComment(models.Model):
    """Second-coder comments on a CMOC's coding logic."""

    cmoc = models.ForeignKey(CMOC, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cmoc", "created_at"]


class CMOCLink(models.Model):
    """A chain link asserted by a reviewer (in addition to links computed from concepts)."""

    class Kind(models.TextChoices):
        OUTCOME_CONTEXT = "outcome_context", "Outcome becomes context"
        OUTCOME_MECHANISM = "outcome_mechanism", "Outcome triggers mechanism"
        COUNTERVAILING = "countervailing", "Countervailing"
        MODERATES = "moderates", "Moderates"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="cmoc_links")
    source = models.ForeignKey(CMOC, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(CMOC, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OUTCOME_CONTEXT)
    note = models.TextField(blank=True)
    evidence = models.ManyToManyField(Excerpt, blank=True, related_name="cmoc_links")
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="link_unique"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="link_not_self"),
        ]


class DemiRegularity(models.Model):
    """CMOCs judged functionally identical, with a summary statement and pooled evidence."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="demi_regularities")
    label = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    cmocs = models.ManyToManyField(CMOC, blank=True, related_name="demi_regularities")
    version = models.PositiveIntegerField(default=1)  # see synthesis.concurrency
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "label"]
        verbose_name_plural = "demi-regularities"
        constraints = [
            models.UniqueConstraint(fields=["review", "label"], name="demireg_unique_label"),
        ]

    def __str__(self) -> str:
        return self.label


class TheoryVersion(models.Model):
    """An immutable snapshot of the programme theory (its CMOCs, elements and evidence)."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial rough theory"
        GLEANED = "gleaned", "Gleaned"
        REFINED = "refined", "Refined"
        EVALUATED = "evaluated", "Tested in evaluation"
        OTHER = "other", "Other"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="theory_versions")
    number = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OTHER)
    rationale = models.TextField(blank=True)
    snapshot = models.JSONField(default=dict)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "number"], name="version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} {self.label}"

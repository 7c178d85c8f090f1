"""Identification → screening → appraisal → extraction."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from synthesis.models import Phase, Review

USER = settings.AUTH_USER_MODEL


class Search(models.Model):
    class Kind(models.TextChoices):
        DATABASE = "database", "Database"
        REGISTER = "register", "Register"
        WEBSITE = "website", "Website"
        ORGANISATION = "organisation", "Organisation"
        CITATION = "citation", "Citation tracking"
        REFERENCE_SCANNING = "reference_scanning", "Reference scanning"
        OTHER = "other", "Other"

    # PRISMA 2020 has two identification arms: databases/registers and other methods.
    DATABASE_ARM = (Kind.DATABASE, Kind.REGISTER)

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="searches")
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="searches"
    )
    source = models.CharField(max_length=200, help_text="e.g. MEDLINE (Ovid), HMIC, a website")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DATABASE)
    run_on = models.DateField("date run", null=True, blank=True)
    query = models.TextField(blank=True, help_text="The full search strategy as run.")
    limits = models.TextField(blank=True)
    reported_hits = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # Bumped by every edit through the services: an editor that opened an older version is
    # told who saved since instead of overwriting it (synthesis.concurrency).
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "run_on", "id"]
        verbose_name_plural = "searches"

    def __str__(self) -> str:
        return f"{self.source} ({self.run_on or 'undated'})"

    @property
    def arm(self) -> str:
        return "databases" if self.kind in self.DATABASE_ARM else "other"


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview", "Awaiting confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Rejected"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="import_batches")
    search = models.ForeignKey(Search, on_delete=models.CASCADE, related_name="import_batches")
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    parsed_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="e.g. CSV column mapping")
    # The preview of a file awaiting confirmation (counts, sample, warnings or the error),
    # kept so that each visit does not parse the file again (a 100k-record file takes seconds).
    preview = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey(
        "synthesis.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return self.filename

    @property
    def status_label(self) -> str:
        """The status in lists: a file that could not be read is not awaiting anything."""
        if self.status == self.Status.PREVIEW and (self.preview or {}).get("error"):
            return "Unreadable"
        return self.get_status_display()


class Study(models.Model):
    """One piece of evidence; its reports (records, documents) are grouped under it."""

    class Kind(models.TextChoices):
        EMPIRICAL = "empirical", "Empirical study"
        CASE_STUDY = "case_study", "Case study"
        EVALUATION = "evaluation", "Evaluation"
        REVIEW = "review", "Review"
        THEORY = "theory", "Theory / middle-range theory paper"
        GREY = "grey", "Grey literature"
        INTERVIEW = "interview", "Interview"
        FOCUS_GROUP = "focus_group", "Focus group"
        OTHER = "other", "Other"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="studies")
    label = models.CharField(max_length=200, help_text='How it is cited, e.g. "Mervyn et al. 2019"')
    title = models.TextField(blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.EMPIRICAL)
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="studies"
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "label"]
        verbose_name_plural = "studies"
        constraints = [
            models.UniqueConstraint(fields=["review", "label"], name="study_unique_label"),
        ]

    def __str__(self) -> str:
        return self.label


class Record(models.Model):
    """A bibliographic record as imported; merged duplicates point at their survivor.

    The search that found a record is its import's (`batch.search`). A paper found by three
    databases is three records, two of them merged into the third, so it counts once for each
    search in the search log and PRISMA, and once in screening. (A separate record-to-search
    table held nothing more and cost every import a row, three key checks and four index
    entries per record.)

    Indexes are few on purpose: every one is updated for each of the 100k records a large
    import writes. `review` has none of its own (the composite indexes below start with it);
    DOI, PMID and title key have none (nothing looks a record up by them: deduplication reads
    a review's records once and matches in memory).
    """

    class FullTextStatus(models.TextChoices):
        NOT_SOUGHT = "", "Not sought"
        SOUGHT = "sought", "Sought"
        RETRIEVED = "retrieved", "Retrieved"
        NOT_RETRIEVED = "not_retrieved", "Not retrieved"

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="records", db_index=False
    )
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="records"
    )
    # Both indexed only where set (see Meta): most records have neither, and an import would
    # otherwise add 100k NULL entries to each index.
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.SET_NULL, related_name="records",
        db_index=False,
    )  # fmt: skip
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates",
        db_index=False,
    )  # fmt: skip
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    journal = models.CharField(max_length=500, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    pages = models.CharField(max_length=50, blank=True)
    doi = models.CharField(max_length=255, blank=True)
    pmid = models.CharField(max_length=20, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    type = models.CharField("publication type", max_length=60, blank=True)
    language = models.CharField(max_length=40, blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="Every original field, as parsed.")
    title_key = models.CharField(max_length=255, blank=True)
    fulltext_status = models.CharField(
        max_length=15, choices=FullTextStatus.choices, default="", blank=True
    )
    position = models.PositiveIntegerField(default=0, help_text="Order of import.")
    # Place in the random screening order: screen_hash(id, order_seed(review.dual_seed)),
    # stored so that "next random record" is an index range scan, not a sort of the queue.
    # Filled after insert (the id is needed) by services.screening.record_keys_assign.
    screen_key = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "position", "id"]
        indexes = [
            # The screening queues walk unique records in import or random order. Partial
            # indexes, because PostgreSQL does not take `duplicate_of IS NULL` as fixing
            # that column, so (review, duplicate_of, position) could not give the order there
            # (that index is gone: no query used it, and every import wrote 100k entries).
            models.Index(
                fields=["review", "screen_key", "id"],
                condition=Q(duplicate_of__isnull=True),
                name="record_random_queue",
            ),
            models.Index(
                fields=["review", "position", "id"],
                condition=Q(duplicate_of__isnull=True),
                name="record_import_queue",
            ),
            models.Index(fields=["review", "year"]),
            # Reports sought / retrieved: the full-text screening queue. Partial: records
            # join it only past title-abstract screening, so an import writes no entries.
            models.Index(
                fields=["review", "position", "id"],
                condition=~Q(fulltext_status=""),  # "" is FullTextStatus.NOT_SOUGHT
                name="record_fulltext_queue",
            ),
            # `duplicate_of = x` / `study = x` imply NOT NULL: both engines use these.
            models.Index(
                fields=["duplicate_of"],
                condition=Q(duplicate_of__isnull=False),
                name="record_duplicate_of",
            ),
            models.Index(fields=["study"], condition=Q(study__isnull=False), name="record_study"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(duplicate_of=F("id")), name="record_not_duplicate_of_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.title[:80] or f"Record {self.pk}"

    def original_fields(self) -> dict:
        """Every field of the export as parsed: `raw` stores a field that a normalised field
        holds verbatim as a reference to it ("_same"), to avoid storing the abstract twice."""
        raw = dict(self.raw or {})
        for tag, name in (raw.pop("_same", None) or {}).items():
            raw[tag] = getattr(self, name)
        raw.pop("_line", None)
        return raw

    @property
    def first_author(self) -> str:
        return self.authors[0] if self.authors else ""


class Participant(models.Model):
    """An interviewee or focus group (seed Table 5)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="participants")
    code = models.CharField(max_length=40)
    role = models.CharField(max_length=200, blank=True)
    case = models.CharField("case / programme", max_length=200, blank=True)
    organisation_type = models.CharField(max_length=200, blank=True)
    interview_phase = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)  # see synthesis.concurrency

    class Meta:
        ordering = ["review", "code"]
        constraints = [
            models.UniqueConstraint(fields=["review", "code"], name="participant_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


class Document(models.Model):
    """A full text or transcript, with its extracted text and page map."""

    class Kind(models.TextChoices):
        FULL_TEXT = "full_text", "Full text"
        TRANSCRIPT = "transcript", "Interview transcript"
        FOCUS_GROUP = "focus_group", "Focus group transcript"
        OTHER = "other", "Other"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="documents")
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    record = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FULL_TEXT)
    title = models.CharField(max_length=500)
    file = models.FileField(upload_to="documents/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    text = models.TextField(blank=True, help_text="Extracted text; excerpt offsets point into it.")
    page_map = models.JSONField(
        default=list, blank=True, help_text="Character offset at which each page starts."
    )
    uploaded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "title"]

    def __str__(self) -> str:
        return self.title

    def page_at(self, offset: int) -> int | None:
        """Page number (1-based) that contains a character offset."""
        if not self.page_map:
            return None
        page = 1
        for i, start in enumerate(self.page_map, start=1):
            if start <= offset:
                page = i
            else:
                break
        return page


class ScreeningStage(models.Model):
    class Kind(models.TextChoices):
        TITLE_ABSTRACT = "title_abstract", "Title and abstract"
        FULL_TEXT = "full_text", "Full text"
        OTHER = "other", "Other"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="stages")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(default=1)
    inclusion_criteria = models.TextField(blank=True)
    exclusion_criteria = models.TextField(blank=True)
    reason_required = models.BooleanField(
        default=False, help_text="An exclusion must give a reason (usual at full text)."
    )
    version = models.PositiveIntegerField(default=1)  # see synthesis.concurrency

    class Meta:
        ordering = ["review", "order"]
        constraints = [
            models.UniqueConstraint(fields=["review", "order"], name="stage_unique_order"),
        ]

    def __str__(self) -> str:
        return self.name


class ExclusionReason(models.Model):
    stage = models.ForeignKey(ScreeningStage, on_delete=models.CASCADE, related_name="reasons")
    label = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["stage", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "label"], name="reason_unique_label"),
        ]

    def __str__(self) -> str:
        return self.label


class Decision(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"
    MAYBE = "maybe", "Maybe"


class ScreeningDecision(models.Model):
    """One reviewer's independent vote on a record at a stage. Never overwritten by
    conflict resolution (that is a ScreeningResolution)."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="decisions")
    stage = models.ForeignKey(ScreeningStage, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="screening_decisions")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.ForeignKey(
        ExclusionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    by_automation = models.BooleanField(
        default=False,
        help_text="Written by the owner's 'exclude the remaining records' action after "
        "prioritised screening; PRISMA counts it as marked ineligible by automation tools.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "stage", "reviewer"], name="decision_one_per_reviewer"
            ),
        ]
        indexes = [
            models.Index(fields=["stage", "reviewer"]),
            models.Index(fields=["stage", "record"]),
            # Count and latest change of a stage's votes: the cheap check that a cached
            # agreement table is still exact.
            models.Index(fields=["stage", "updated_at"], name="decision_stage_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.decision} {self.record_id}"


class ScreeningResolution(models.Model):
    """The reconciled decision on a record at a stage after a conflict."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="resolutions")
    stage = models.ForeignKey(ScreeningStage, on_delete=models.CASCADE, related_name="resolutions")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.ForeignKey(
        ExclusionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="resolution_one_per_record"),
        ]


class Appraisal(models.Model):
    """Realist appraisal of a study (document level) or of an excerpt or CMOC (fragment level)."""

    class Relevance(models.TextChoices):
        HIGH = "high", "High"
        MODERATE = "moderate", "Moderate"
        LOW = "low", "Low"
        NONE = "none", "None"

    class Richness(models.TextChoices):
        RICH = "rich", "Conceptually rich"
        THICKER = "thicker", "Thicker description"
        THINNER = "thinner", "Thinner description"

    class Rigour(models.TextChoices):
        HIGH = "high", "High"
        MODERATE = "moderate", "Moderate"
        LOW = "low", "Low"

    class Supports(models.TextChoices):
        YES = "yes", "Yes"
        PARTLY = "partly", "Partly"
        NO = "no", "No"

    class Verdict(models.TextChoices):
        INCLUDE = "include", "Include"
        INCLUDE_SPECIFIC = "include_specific", "Include for specific CMOCs only"
        EXCLUDE = "exclude", "Exclude"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="appraisals")
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.CASCADE, related_name="appraisals"
    )
    excerpt = models.ForeignKey(
        "cmoc.Excerpt", null=True, blank=True, on_delete=models.CASCADE, related_name="appraisals"
    )
    cmoc = models.ForeignKey(
        "cmoc.CMOC", null=True, blank=True, on_delete=models.CASCADE, related_name="appraisals"
    )
    appraiser = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="appraisals")
    relevance = models.CharField(max_length=10, choices=Relevance.choices, blank=True)
    informs = models.TextField(blank=True, help_text="Which CMOCs or parts of the theory.")
    relevance_note = models.TextField(blank=True)
    richness = models.CharField(max_length=10, choices=Richness.choices, blank=True)
    richness_criteria = models.JSONField(default=list, blank=True)
    rigour = models.CharField(max_length=10, choices=Rigour.choices, blank=True)
    method_described = models.BooleanField(null=True, blank=True)
    data_supports_claim = models.CharField(max_length=10, choices=Supports.choices, blank=True)
    rigour_note = models.TextField(blank=True)
    external_tool = models.CharField(max_length=60, blank=True, help_text="e.g. CASP, MMAT")
    external_score = models.CharField(max_length=60, blank=True)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    verdict_reason = models.TextField(blank=True)
    exclusion_reason = models.ForeignKey(
        ExclusionReason, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Which CMOCs this piece of evidence informs (and, for "include for specific CMOCs
    # only", the CMOCs it is included for).
    informs_cmocs = models.ManyToManyField(
        "cmoc.CMOC", blank=True, related_name="informed_by_appraisals"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Exactly one target: a study, an excerpt or a CMOC.
            models.CheckConstraint(
                condition=(
                    Q(study__isnull=False, excerpt__isnull=True, cmoc__isnull=True)
                    | Q(study__isnull=True, excerpt__isnull=False, cmoc__isnull=True)
                    | Q(study__isnull=True, excerpt__isnull=True, cmoc__isnull=False)
                ),
                name="appraisal_one_target",
            ),
            models.UniqueConstraint(
                fields=["study", "appraiser"],
                condition=Q(study__isnull=False),
                name="appraisal_unique_study",
            ),
            models.UniqueConstraint(
                fields=["excerpt", "appraiser"],
                condition=Q(excerpt__isnull=False),
                name="appraisal_unique_excerpt",
            ),
            models.UniqueConstraint(
                fields=["cmoc", "appraiser"],
                condition=Q(cmoc__isnull=False),
                name="appraisal_unique_cmoc",
            ),
        ]

    @property
    def target(self):
        return self.study or self.excerpt or self.cmoc


class ExtractionForm(models.Model):
    """A versioned extraction form; a new version copies the fields so old answers stay readable."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="extraction_forms")
    name = models.CharField(max_length=200, default="Study characteristics")
    version = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    dual_extraction = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Of the form's settings (dual extraction), carried into a new version; see
    # synthesis.concurrency. Not `version` (of the fields answered).
    settings_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["review", "name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "name", "version"], name="form_unique_version"
            ),
            models.UniqueConstraint(
                fields=["review", "name"],
                condition=Q(is_current=True),
                name="form_one_current_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ExtractionField(models.Model):
    class Type(models.TextChoices):
        SHORT_TEXT = "short_text", "Short text"
        LONG_TEXT = "long_text", "Long text"
        NUMBER = "number", "Number"
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTI_CHOICE = "multi_choice", "Multiple choice"
        YES_NO_UNCLEAR = "yes_no_unclear", "Yes / no / unclear"

    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.SHORT_TEXT)
    choices = models.JSONField(default=list, blank=True)
    help_text = models.TextField(blank=True)
    required = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=1)
    # Of this field's design (label, type, choices, help, required), carried into a new form
    # version; see synthesis.concurrency. Not the form's version (of its answers).
    edit_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["form", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="field_unique_key"),
        ]

    def __str__(self) -> str:
        return self.label


class ExtractionAnswer(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="answers")
    field = models.ForeignKey(ExtractionField, on_delete=models.CASCADE, related_name="answers")
    extractor = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    value = models.JSONField(null=True, blank=True)
    is_consensus = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)  # see synthesis.concurrency
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One own answer per extractor, plus at most one consensus answer (written in the
            # consolidation view, possibly by one of the two extractors).
            models.UniqueConstraint(
                fields=["study", "field", "extractor"],
                condition=Q(is_consensus=False),
                name="answer_one_per_extractor",
            ),
            models.UniqueConstraint(
                fields=["study", "field"],
                condition=Q(is_consensus=True),
                name="answer_one_consensus",
            ),
        ]
        indexes = [models.Index(fields=["field", "study"])]


class RankingRun(models.Model):
    """One training of the screening prioritisation model for a stage."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="ranking_runs")
    stage = models.ForeignKey(ScreeningStage, on_delete=models.CASCADE, related_name="ranking_runs")
    model_name = models.CharField(max_length=60, blank=True)
    n_include = models.PositiveIntegerField(default=0)
    n_exclude = models.PositiveIntegerField(default=0)
    n_ranked = models.PositiveIntegerField(default=0)
    trained_on_decisions = models.PositiveIntegerField(
        default=0, help_text="Number of usable decisions when trained (for retrain triggers)."
    )
    metrics = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey(
        "synthesis.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class RecordScore(models.Model):
    """Predicted relevance of an undecided record at a stage (latest ranking run)."""

    stage = models.ForeignKey(ScreeningStage, on_delete=models.CASCADE, related_name="scores")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="scores")
    score = models.FloatField()
    rank = models.PositiveIntegerField()
    terms = models.JSONField(default=list, blank=True, help_text="Terms that drove the score.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stage", "record"], name="score_unique_record"),
        ]
        indexes = [models.Index(fields=["stage", "rank"])]


class DuplicateCandidate(models.Model):
    """A pair of records that may be the same report. Merged automatically above the review's
    threshold (`auto`), otherwise left for a reviewer on the duplicates page. A merge keeps
    `snapshot` (the survivor's fields before the merge) so that it can be undone."""

    class Status(models.TextChoices):
        PENDING = "pending", "To check"
        MERGED = "merged", "Merged"
        REJECTED = "rejected", "Not a duplicate"

    # An import writes one row per merge (~17k for 100k records), so no index is kept that
    # another covers: `review` leads (review, status, score), `record_a` the unique pair, and
    # `survivor` / `decided_by` are indexed only where set (merged / decided by hand).
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="duplicate_candidates", db_index=False
    )
    record_a = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+", db_index=False)
    record_b = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reason = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    auto = models.BooleanField(default=False, help_text="Merged automatically on import.")
    survivor = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    snapshot = models.JSONField(default=dict, blank=True)
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "-score", "id"]
        indexes = [
            models.Index(fields=["review", "status", "score"]),
            models.Index(
                fields=["survivor"], condition=Q(survivor__isnull=False), name="candidate_survivor"
            ),
            models.Index(
                fields=["decided_by"],
                condition=Q(decided_by__isnull=False),
                name="candidate_decided_by",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="duplicate_unique_pair"),
            models.CheckConstraint(
                condition=~Q(record_a=F("record_b")), name="duplicate_distinct_records"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_a_id} ~ {self.record_b_id} ({self.score:.2f})"

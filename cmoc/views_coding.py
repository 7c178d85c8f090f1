"""The coding workbench: documents, the reader, the CMOC editor, evidence, second coder,
codebook management, participants and transcripts. Thin: forms validate, services write."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cmoc import segments as seg
from cmoc import selectors
from cmoc.compose import statement_compose
from cmoc.forms_coding import (
    CMOCForm,
    DocumentTextForm,
    ExcerptEditForm,
    ExcerptForm,
    ParticipantForm,
    TranscriptForm,
    element_rows,
)
from cmoc.models import CMOC, CMOCEvidence, Concept, DemiRegularity, Direction, Excerpt, Role
from cmoc.services import coding as svc
from cmoc.views import cmoc_detail, codebook_page
from studies.models import Document, Participant
from synthesis.concurrency import differences
from synthesis.models import Review
from synthesis.permissions import ALLOWED, Action
from synthesis.views_base import review_view

EDIT = Action.EDIT_EVIDENCE


def _can_edit(review: Review) -> bool:
    return getattr(review, "user_role", None) in ALLOWED[EDIT]


def _pk(value) -> int | None:
    """An id from a form or query string; junk becomes None rather than a 500."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _add_errors(form, exc: ValidationError) -> None:
    for field, errs in _errors(exc).items():
        target = field if field in form.fields else None
        if field == "prior":
            target = "prior_code"
        for e in errs:
            form.add_error(target, e)


def _flash(request, exc: ValidationError) -> None:
    for errs in _errors(exc).values():
        for e in errs:
            messages.error(request, e)


# --- documents ----------------------------------------------------------------------------


@review_view()
def document_list(request, review: Review):
    text_form = DocumentTextForm(review=review)
    transcript_form = TranscriptForm(review=review)
    if request.method == "POST":
        get_review_edit(request, review)
        which = request.POST.get("form")
        try:
            if which == "transcript":
                transcript_form = TranscriptForm(request.POST, request.FILES, review=review)
                if transcript_form.is_valid():
                    d = transcript_form.cleaned_data
                    upload = d["file"]
                    doc = svc.transcript_upload(
                        user=request.user, review=review, filename=upload.name,
                        data=upload.read(), title=d["title"], participant=d["participant"],
                        study=d["study"], kind=d["kind"],
                    )  # fmt: skip
                    return redirect("coding-reader", review.pk, doc.pk)
            else:
                text_form = DocumentTextForm(request.POST, review=review)
                if text_form.is_valid():
                    d = text_form.cleaned_data
                    doc = svc.document_create(
                        user=request.user, review=review, title=d["title"], text=d["text"],
                        kind=d["kind"], study=d["study"],
                    )  # fmt: skip
                    return redirect("coding-reader", review.pk, doc.pk)
        except ValidationError as exc:
            _add_errors(transcript_form if which == "transcript" else text_form, exc)
    return render(
        request,
        "cmoc/coding/document_list.html",
        {
            "review": review,
            "documents": selectors.document_list(review=review),
            "text_form": text_form,
            "transcript_form": transcript_form,
            "can_edit": _can_edit(review),
        },
    )


def get_review_edit(request, review: Review) -> None:
    """POSTs on pages that viewers may read still need the editing role."""
    from synthesis.permissions import check

    check(request.user, review, EDIT)


def _reader_context(request, review: Review, document: Document, current_id=None, **extra):
    excerpts = selectors.document_excerpts(document=document)
    by_id = {e.pk: e for e in excerpts}
    current = by_id.get(current_id) if current_id else None
    return {
        "review": review,
        "document": document,
        "segments": seg.split(
            document.text, [(e.pk, e.start, e.end) for e in excerpts], document.page_map
        ),
        "excerpts": excerpts,
        "current": current,
        "excerpt_form": extra.pop("excerpt_form", None) or ExcerptForm(),
        "can_edit": _can_edit(review),
        "stances": CMOCEvidence.Stance.choices,
        "is_transcript": document.kind in (Document.Kind.TRANSCRIPT, Document.Kind.FOCUS_GROUP),
        **extra,
    }


@review_view()
def reader(request, review: Review, document_id: int):
    try:
        document = selectors.document_for_reader(review=review, document_id=document_id)
    except Document.DoesNotExist as exc:
        raise Http404 from exc
    ctx = _reader_context(request, review, document, _pk(request.GET.get("excerpt")))
    return render(request, "cmoc/coding/reader.html", ctx)


def _reader_body(request, review, document, current_id=None, **extra):
    ctx = _reader_context(request, review, document, current_id, **extra)
    return render(request, "cmoc/coding/_reader_body.html", ctx)


@require_POST
@review_view(EDIT)
def excerpt_create(request, review: Review, document_id: int):
    document = get_object_or_404(Document, review=review, pk=document_id)
    form = ExcerptForm(request.POST)
    error = ""
    current_id = None
    if form.is_valid():
        d = form.cleaned_data
        try:
            excerpt = svc.excerpt_create(
                user=request.user, document=document, start=d["start"], end=d["end"],
                text=d["text"] or None, note=d["note"],
                interviewee_stance=d["interviewee_stance"],
            )  # fmt: skip
            current_id = excerpt.pk
            form = None
        except ValidationError as exc:
            error = " ".join(e for errs in _errors(exc).values() for e in errs)
    else:
        error = "Select a passage in the text first."
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        url = reverse("coding-reader", args=[review.pk, document.pk])
        return redirect(f"{url}?excerpt={current_id}" if current_id else url)
    return _reader_body(request, review, document, current_id, excerpt_form=form, error=error)


@require_POST
@review_view(EDIT)
def excerpt_delete(request, review: Review, excerpt_id: int):
    excerpt = get_object_or_404(Excerpt, review=review, pk=excerpt_id)
    document = excerpt.document
    svc.excerpt_delete(user=request.user, excerpt=excerpt)
    messages.success(request, "Excerpt deleted.")
    return redirect("coding-reader", review.pk, document.pk)


@require_POST
@review_view(EDIT)
def excerpt_attach(request, review: Review, excerpt_id: int):
    """Attach an excerpt to an existing CMOC (picked from the search, or typed by code)."""
    excerpt = get_object_or_404(Excerpt.objects.select_related("document"), review=review,
                                pk=excerpt_id)  # fmt: skip
    cmoc = None
    if _pk(request.POST.get("cmoc")):
        cmoc = CMOC.objects.filter(review=review, pk=_pk(request.POST["cmoc"])).first()
    elif request.POST.get("q", "").strip():
        cmoc = CMOC.objects.filter(review=review, code__iexact=request.POST["q"].strip()).first()
    error = notice = ""
    if cmoc is None:
        error = "Choose a CMOC to attach the excerpt to."
    else:
        try:
            svc.evidence_add(
                user=request.user, cmoc=cmoc, excerpt=excerpt,
                stance=request.POST.get("stance", "supports"),
            )  # fmt: skip
            notice = f"Excerpt attached to {cmoc.code}."
        except ValidationError as exc:
            error = " ".join(e for errs in _errors(exc).values() for e in errs)
    if not request.headers.get("HX-Request"):
        (messages.error if error else messages.success)(request, error or notice)
        url = reverse("coding-reader", args=[review.pk, excerpt.document_id])
        return redirect(f"{url}?excerpt={excerpt.pk}")
    return _reader_body(request, review, excerpt.document, excerpt.pk, error=error, notice=notice)


@require_GET
@review_view()
def cmoc_search(request, review: Review):
    return render(
        request,
        "cmoc/coding/_cmoc_search.html",
        {
            "review": review,
            "results": selectors.cmoc_search(review=review, q=request.GET.get("q", "")),
        },
    )


@require_GET
@review_view()
def concept_suggest(request, review: Review):
    q = request.GET.get("q", "")
    if not q:  # the picker inputs send their own name, e.g. context_concept=tru
        q = next((v for k, v in request.GET.items() if k.endswith("_concept")), "")
    return render(
        request,
        "cmoc/coding/_concept_options.html",
        {"concepts": selectors.concept_suggest(review=review, q=q)},
    )


@require_POST
@review_view()
def compose(request, review: Review):
    p = request.POST
    statement = statement_compose(
        context=p.get("context", ""), resource=p.get("mechanism_resource", ""),
        reasoning=p.get("mechanism_reasoning", ""), outcome=p.get("outcome", ""),
    )  # fmt: skip
    return render(request, "cmoc/coding/_statement.html", {"statement": statement})


# --- CMOC editor ------------------------------------------------------------------------


def _editor(request, review, *, cmoc=None, excerpt=None, panel=False):
    if request.method == "POST":
        form = CMOCForm(request.POST, review=review, cmoc=cmoc)
        rows = element_rows(data=request.POST)
        if form.is_valid():
            try:
                fields = form.service_fields()
                if cmoc is None:
                    cmoc = svc.cmoc_create(
                        user=request.user, review=review, elements=form.elements(),
                        middle_range_theories=form.cleaned_data["middle_range_theories"],
                        excerpt=excerpt, stance=form.cleaned_data["stance"] or "supports",
                        **fields,
                    )  # fmt: skip
                    messages.success(request, f"{cmoc.code} created.")
                else:
                    if not fields["code"]:
                        fields.pop("code")
                    svc.cmoc_update(
                        user=request.user, cmoc=cmoc, elements=form.elements(),
                        middle_range_theories=form.cleaned_data["middle_range_theories"],
                        expected_version=form.cleaned_data["version"], **fields,
                    )  # fmt: skip
                    messages.success(request, f"{cmoc.code} saved.")
                if panel and excerpt is not None:
                    url = reverse("coding-reader", args=[review.pk, excerpt.document_id])
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = f"{url}?excerpt={excerpt.pk}"
                    return response
                return redirect("cmoc-detail", review.pk, cmoc.pk)
            except svc.EditConflict as exc:
                form.conflict(exc)
            except ValidationError as exc:
                _add_errors(form, exc)
    else:
        initial = {}
        if cmoc is not None:
            initial = {
                "code": cmoc.code, "context": cmoc.context,
                "mechanism_resource": cmoc.mechanism_resource,
                "mechanism_reasoning": cmoc.mechanism_reasoning, "outcome": cmoc.outcome,
                "statement": cmoc.statement, "phase": cmoc.phase_id, "origin": cmoc.origin,
                "relation": cmoc.relation, "prior_code": cmoc.prior.code if cmoc.prior else "",
                "confidence": cmoc.confidence, "confidence_note": cmoc.confidence_note,
                "theme": cmoc.theme, "tags": ", ".join(cmoc.tags or []),
                "middle_range_theories": list(cmoc.middle_range_theories.all()),
                "version": cmoc.version,
            }  # fmt: skip
        elif excerpt is not None:
            initial = {"origin": CMOC.Origin.STATED}
        form = CMOCForm(initial=initial, review=review, cmoc=cmoc)
        rows = element_rows(cmoc=cmoc)
    ctx = {
        "review": review,
        "form": form,
        "cmoc": cmoc,
        "excerpt": excerpt,
        "rows": rows,
        "roles": Role.choices,
        "directions": Direction.choices,
        "panel": panel,
    }
    template = "cmoc/coding/_cmoc_form.html" if panel else "cmoc/coding/cmoc_form.html"
    return render(request, template, ctx)


@review_view(EDIT)
def cmoc_new(request, review: Review):
    excerpt = None
    excerpt_id = _pk(request.POST.get("excerpt") or request.GET.get("excerpt"))
    if excerpt_id:
        excerpt = Excerpt.objects.filter(review=review, pk=excerpt_id).first()
    panel = bool(request.POST.get("panel") or request.GET.get("panel"))
    return _editor(request, review, excerpt=excerpt, panel=panel)


@review_view(EDIT)
def cmoc_edit(request, review: Review, cmoc_id: int):
    cmoc = get_object_or_404(
        CMOC.objects.select_related("prior").prefetch_related(
            "elements__concept", "middle_range_theories"
        ),
        review=review,
        pk=cmoc_id,
    )
    return _editor(request, review, cmoc=cmoc)


# --- evidence and second coder (from the CMOC page) ------------------------------------


@require_POST
@review_view(EDIT)
def evidence_update(request, review: Review, evidence_id: int):
    evidence = get_object_or_404(
        CMOCEvidence.objects.select_related("cmoc"), cmoc__review=review, pk=evidence_id
    )
    try:
        if request.POST.get("remove"):
            svc.evidence_remove(user=request.user, evidence=evidence)
            messages.success(request, "Excerpt removed from this CMOC.")
        else:
            svc.evidence_set_stance(
                user=request.user, evidence=evidence, stance=request.POST.get("stance", "")
            )
    except ValidationError as exc:
        _flash(request, exc)
    if request.POST.get("from") == "excerpt":  # the stance was changed on the excerpt's page
        return redirect("coding-excerpt-edit", review.pk, evidence.excerpt_id)
    return redirect("cmoc-detail", review.pk, evidence.cmoc_id)


@require_POST
@review_view(EDIT)
def cmoc_check(request, review: Review, cmoc_id: int):
    cmoc = get_object_or_404(CMOC, review=review, pk=cmoc_id)
    p = request.POST
    try:
        if "checked" in p:
            checked = p["checked"] == "1"
            try:
                svc.cmoc_check(
                    user=request.user, cmoc=cmoc, checked=checked, comment=p.get("comment", ""),
                    expected_version=_pk(p.get("version")),
                    expected_check=p.get("check") if "check" in p else None,
                )  # fmt: skip
            except svc.EditConflict as exc:
                # The page again, as saved now, with the message and the comment kept.
                return cmoc_detail(
                    request, review.pk, cmoc.pk,
                    check_error=exc.message_text, check_comment=p.get("comment", ""),
                )  # fmt: skip
            messages.success(
                request, f"{cmoc.code} marked {'checked' if checked else 'not checked'}."
            )
        else:
            svc.cmoc_comment_add(user=request.user, cmoc=cmoc, text=request.POST.get("comment", ""))
            messages.success(request, "Comment added.")
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("cmoc-detail", review.pk, cmoc.pk)


# --- codebook ---------------------------------------------------------------------------


def _concept_versions(posted: str) -> dict[int, int]:
    """The versions the codebook page showed ("id:version …", see codebook_page)."""
    out = {}
    for pair in posted.split():
        pk, _, version = pair.partition(":")
        if _pk(pk) and _pk(version):
            out[_pk(pk)] = _pk(version)
    return out


@require_POST
@review_view(EDIT)
def codebook_action(request, review: Review):
    p = request.POST
    versions = _concept_versions(p.get("versions", ""))

    def concept(key):
        value = _pk(p.get(key))
        if not value:
            return None
        found = Concept.objects.filter(review=review, pk=value).first()
        if found is None:  # the page was opened before a co-reviewer merged or deleted it
            raise ValidationError(
                "The concept you chose no longer exists: a co-reviewer merged or deleted it "
                "after you opened the codebook. Nothing was changed."
            )
        return found

    action = p.get("action")
    try:
        if action == "create":
            c = svc.concept_create(
                user=request.user, review=review, label=p.get("label", ""),
                parent=concept("parent"), description=p.get("description", ""),
                synonyms=[s.strip() for s in p.get("synonyms", "").split(",") if s.strip()],
                mechanism_type=p.get("mechanism_type", ""),
            )  # fmt: skip
            messages.success(request, f"Added “{c.label}”.")
        elif action == "update":
            c = concept("concept")
            if c is None:
                raise ValidationError("Choose a concept.")
            try:
                svc.concept_update(
                    user=request.user, concept=c, description=p.get("description", ""),
                    synonyms=p.get("synonyms", "").split(","),
                    mechanism_type=p.get("mechanism_type", ""),
                    expected_version=_pk(p.get("version")),
                )  # fmt: skip
            except svc.EditConflict as exc:
                return codebook_page(request, review, wanted=str(c.pk), conflict=exc, posted=p)
            messages.success(request, f"Updated “{c.label}”.")
            return redirect(
                f"{reverse('codebook', args=[review.pk])}?concept={c.pk}#concept-update"
            )
        elif action in {"rename", "move", "merge"}:
            c = concept("concept")
            if c is None:
                raise ValidationError("Choose a concept.")
            # Each refused with the conflict when the concept changed since the page showed
            # it (a rename or a move from a stale page would undo a co-reviewer's).
            expected = versions.get(c.pk)
            try:
                if action == "rename":
                    old = c.label
                    svc.concept_rename(
                        user=request.user, concept=c, label=p.get("label", ""),
                        expected_version=expected,
                    )  # fmt: skip
                    messages.success(request, f"Renamed “{old}” to “{c.label}”.")
                elif action == "move":
                    parent = concept("parent")
                    svc.concept_move(
                        user=request.user, concept=c, parent=parent, expected_version=expected
                    )
                    messages.success(
                        request, f"Moved “{c.label}” under {parent or 'the top level'}."
                    )
                else:
                    target = concept("target")
                    if target is None:
                        raise ValidationError("Choose the concept to merge into.")
                    label = c.label
                    svc.concept_merge(
                        user=request.user, source=c, target=target,
                        expected_source_version=expected,
                    )  # fmt: skip
                    messages.success(request, f"Merged “{label}” into “{target.label}”.")
            except svc.EditConflict as exc:
                return codebook_page(request, review, conflict=exc, posted=p, form=action)
        else:
            raise ValidationError("Unknown codebook action.")
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("codebook", review.pk)


# --- participants, demi-regularities, middle-range theories ----------------------------


@review_view()
def participants(request, review: Review):
    form = ParticipantForm()
    if request.method == "POST":
        get_review_edit(request, review)
        form = ParticipantForm(request.POST)
        if form.is_valid():
            try:
                fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
                p = svc.participant_create(user=request.user, review=review, **fields)
                messages.success(request, f"Participant {p.code} added.")
                return redirect("coding-participants", review.pk)
            except ValidationError as exc:
                _add_errors(form, exc)
    return render(
        request,
        "cmoc/coding/participants.html",
        {
            "review": review,
            "participants": selectors.participant_list(review=review),
            "form": form,
            "can_edit": _can_edit(review),
        },
    )


@review_view(EDIT)
def participant_edit(request, review: Review, participant_id: int):
    participant = get_object_or_404(Participant, review=review, pk=participant_id)
    if request.method == "POST":
        form = ParticipantForm(request.POST)
        if form.is_valid():
            fields = dict(form.cleaned_data)
            version = fields.pop("version")
            try:
                svc.participant_update(
                    user=request.user, participant=participant, expected_version=version,
                    **fields,
                )  # fmt: skip
                messages.success(request, f"Participant {participant.code} saved.")
                return redirect("coding-participants", review.pk)
            except svc.EditConflict as exc:
                form.conflict(exc)
            except ValidationError as exc:
                _add_errors(form, exc)
    else:
        initial = {name: getattr(participant, name) for name in ParticipantForm.base_fields}
        form = ParticipantForm(initial=initial | {"version": participant.version})
    return render(
        request,
        "cmoc/coding/participant_edit.html",
        {"review": review, "participant": participant, "form": form},
    )


def _cmocs_from_codes(review, codes: str) -> list[CMOC]:
    wanted = [c.strip() for c in codes.replace("\n", ",").split(",") if c.strip()]
    # codes are matched as typed in any case ("b1-01"), as the lower-cased keys below intend
    found = {
        c.code.lower(): c
        for c in CMOC.objects.annotate(code_lower=Lower("code")).filter(
            review=review, code_lower__in=[w.lower() for w in wanted]
        )
    }
    missing = [c for c in wanted if c.lower() not in found]
    if missing:
        raise ValidationError({"cmocs": f"No CMOC with code {', '.join(missing)}."})
    return list(found.values())


@review_view()
def theory_links(request, review: Review):
    """Demi-regularities (groups of functionally identical CMOCs) and middle-range theories."""
    errors: list[str] = []
    kept: dict = {}  # what was typed into the form that failed, shown again
    if request.method == "POST":
        get_review_edit(request, review)
        p = request.POST
        try:
            if p.get("action") == "demi_regularity":
                dr = svc.demi_regularity_create(
                    user=request.user, review=review, label=p.get("label", ""),
                    summary=p.get("summary", ""),
                    cmocs=_cmocs_from_codes(review, p.get("cmocs", "")),
                )  # fmt: skip
                messages.success(request, f"Created the demi-regularity “{dr.label}”.")
            elif p.get("action") == "link":
                theory = get_object_or_404(
                    review.middle_range_theories.all(), pk=_pk(p.get("theory")) or 0
                )
                cmocs = _cmocs_from_codes(review, p.get("cmocs", ""))
                for cmoc in cmocs:
                    svc.middle_range_theory_link(user=request.user, theory=theory, cmoc=cmoc)
                messages.success(request, f"Linked {len(cmocs)} CMOC(s) to “{theory.name}”.")
            else:
                theory = svc.middle_range_theory_create(
                    user=request.user, review=review, name=p.get("name", ""),
                    citation=p.get("citation", ""), description=p.get("description", ""),
                )  # fmt: skip
                messages.success(request, f"Added the middle-range theory “{theory.name}”.")
            return redirect("coding-theory-links", review.pk)
        except ValidationError as exc:
            errors = [e for errs in _errors(exc).values() for e in errs]
            kept = {p.get("action") or "theory": p}
    return render(
        request,
        "cmoc/coding/theory_links.html",
        {
            "review": review,
            "demi_regularities": DemiRegularity.objects.filter(review=review).prefetch_related(
                "cmocs"
            ),
            "theories": review.middle_range_theories.prefetch_related("cmocs"),
            "errors": errors,
            "kept": kept,
            "can_edit": _can_edit(review),
        },
    )


@review_view()
def demi_regularity_detail(request, review: Review, dr_id: int):
    dr = get_object_or_404(DemiRegularity, review=review, pk=dr_id)
    evidence = list(selectors.demi_regularity_evidence(demi_regularity=dr))
    return render(
        request,
        "cmoc/coding/demi_regularity.html",
        {
            "review": review,
            "dr": dr,
            "cmocs": dr.cmocs.all(),
            "supporting": [e for e in evidence if e.stance == "supports"],
            "contradicting": [e for e in evidence if e.stance == "contradicts"],
            "can_edit": _can_edit(review),
        },
    )


# --- editing excerpts, demi-regularities and middle-range theories -----------------------


@review_view(EDIT)
def excerpt_edit(request, review: Review, excerpt_id: int):
    """Correct an excerpt after coding: note, interviewee stance, page, and its location (the
    quote is re-cut from the text); the stance of each CMOC link is changed beside it."""
    excerpt = get_object_or_404(
        Excerpt.objects.select_related("document__study", "document__participant"),
        review=review, pk=excerpt_id,
    )  # fmt: skip
    if request.method == "POST":
        form = ExcerptEditForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                svc.excerpt_update(
                    user=request.user, excerpt=excerpt, note=d["note"],
                    interviewee_stance=d["interviewee_stance"],
                    # an unchanged page box must not pin the page when the location moves
                    page=d["page"] if d["page"] != excerpt.page else None,
                    start=d["start"], end=d["end"], expected_version=d["version"],
                )  # fmt: skip
                messages.success(request, "Excerpt saved.")
                url = reverse("coding-reader", args=[review.pk, excerpt.document_id])
                return redirect(f"{url}?excerpt={excerpt.pk}#at-excerpt-{excerpt.pk}")
            except svc.EditConflict as exc:
                form.conflict(exc)
            except ValidationError as exc:
                _add_errors(form, exc)
    else:
        form = ExcerptEditForm(
            initial={
                "note": excerpt.note, "interviewee_stance": excerpt.interviewee_stance,
                "page": excerpt.page, "start": excerpt.start, "end": excerpt.end,
                "version": excerpt.version,
            }
        )  # fmt: skip
    evidence = excerpt.evidence.select_related("cmoc").order_by("cmoc__code")
    return render(
        request,
        "cmoc/coding/excerpt_edit.html",
        {"review": review, "excerpt": excerpt, "form": form, "evidence": evidence,
         "stances": CMOCEvidence.Stance.choices},
    )  # fmt: skip


def _dr_or_404(review, dr_id) -> DemiRegularity:
    return get_object_or_404(DemiRegularity, review=review, pk=dr_id)


@review_view(EDIT)
def demi_regularity_edit(request, review: Review, dr_id: int):
    dr = _dr_or_404(review, dr_id)
    errors: list[str] = []
    saved_now: dict[str, str] = {}
    p = request.POST
    version = p.get("version", dr.version)
    if request.method == "POST":
        try:
            svc.demi_regularity_update(
                user=request.user, demi_regularity=dr, label=p.get("label", ""),
                summary=p.get("summary", ""), cmocs=_cmocs_from_codes(review, p.get("cmocs", "")),
                expected_version=_pk(p.get("version")),
            )  # fmt: skip
            messages.success(request, f"“{dr.label}” saved.")
            return redirect("coding-demi-regularity", review.pk, dr.pk)
        except svc.EditConflict as exc:
            errors, version = [exc.message_text], exc.version
            saved_now = _saved_now(p, _dr_values(exc.current))
        except ValidationError as exc:
            errors = [e for errs in _errors(exc).values() for e in errs]
    values = {k: p.get(k, v) for k, v in _dr_values(dr).items()}
    return render(
        request,
        "cmoc/coding/demi_regularity_edit.html",
        {"review": review, "dr": dr, "values": values, "errors": errors, "version": version,
         "saved_now": saved_now},
    )  # fmt: skip


def _dr_values(dr: DemiRegularity) -> dict:
    codes = ", ".join(dr.cmocs.order_by("code").values_list("code", flat=True))
    return {"label": dr.label, "summary": dr.summary, "cmocs": codes}


def _saved_now(posted, saved: dict) -> dict[str, str]:
    """After an edit conflict: the saved value of each field the reviewer typed otherwise."""
    return differences({k: posted.get(k, "") for k in saved}, saved)


@require_POST
@review_view(EDIT)
def demi_regularity_delete(request, review: Review, dr_id: int):
    dr = _dr_or_404(review, dr_id)
    label = dr.label
    svc.demi_regularity_delete(user=request.user, demi_regularity=dr)
    messages.success(request, f"Demi-regularity “{label}” deleted; its CMOCs are unchanged.")
    return redirect("coding-theory-links", review.pk)


@review_view(EDIT)
def theory_edit(request, review: Review, theory_id: int):
    theory = get_object_or_404(review.middle_range_theories.all(), pk=theory_id)
    errors: list[str] = []
    saved_now: dict[str, str] = {}
    p = request.POST
    version = p.get("version", theory.version)
    fields = ("name", "citation", "description")
    if request.method == "POST":
        try:
            svc.middle_range_theory_update(
                user=request.user, theory=theory, name=p.get("name", ""),
                citation=p.get("citation", ""), description=p.get("description", ""),
                expected_version=_pk(p.get("version")),
            )  # fmt: skip
            unlink = {_pk(v) for v in p.getlist("unlink")}
            for cmoc in theory.cmocs.filter(pk__in=unlink):
                svc.middle_range_theory_link(
                    user=request.user, theory=theory, cmoc=cmoc, linked=False
                )
            messages.success(request, f"“{theory.name}” saved.")
            return redirect("coding-theory-links", review.pk)
        except svc.EditConflict as exc:
            errors, version = [exc.message_text], exc.version
            saved_now = _saved_now(p, {k: getattr(exc.current, k) for k in fields})
        except ValidationError as exc:
            errors = [e for errs in _errors(exc).values() for e in errs]
    values = {k: p.get(k, getattr(theory, k)) for k in fields}
    return render(
        request,
        "cmoc/coding/theory_edit.html",
        {"review": review, "theory": theory, "values": values, "errors": errors,
         "cmocs": theory.cmocs.order_by("code"), "version": version, "saved_now": saved_now,
         "unlink": {_pk(v) for v in p.getlist("unlink")}},  # ticked, kept after an error
    )  # fmt: skip


@require_POST
@review_view(EDIT)
def theory_delete(request, review: Review, theory_id: int):
    theory = get_object_or_404(review.middle_range_theories.all(), pk=theory_id)
    name = theory.name
    svc.middle_range_theory_delete(user=request.user, theory=theory)
    messages.success(request, f"Middle-range theory “{name}” deleted; its CMOCs are unchanged.")
    return redirect("coding-theory-links", review.pk)

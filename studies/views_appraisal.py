"""Appraisal, extraction, characteristics table and progress pages. Thin: parse, call a
service or selector, render."""

import csv
import io
import re

import xlsxwriter
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from cmoc.models import CMOC, Excerpt
from studies import extraction_values as ev
from studies import selectors_appraisal as sel
from studies.models import Appraisal, ExclusionReason, ExtractionField, ExtractionForm, Study
from studies.services import appraisal as appraisal_services
from studies.services import extraction as extraction_services
from synthesis.concurrency import EditConflict, differences
from synthesis.models import Review
from synthesis.permissions import Action, can
from synthesis.views_base import int_or_none, review_view

# ---------------------------------------------------------------- appraisal


class AppraisalForm(forms.Form):
    relevance = forms.ChoiceField(
        choices=[("", "Not rated")] + Appraisal.Relevance.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    informs = forms.CharField(
        label="Which parts of the theory it informs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    informs_codes = forms.CharField(
        label="CMOCs it informs (codes, comma separated)",
        required=False,
        help_text="e.g. C1, C12. Needed for “include for specific CMOCs only”.",
    )
    relevance_note = forms.CharField(
        label="Relevance note", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    richness = forms.ChoiceField(
        choices=[("", "Not rated")] + Appraisal.Richness.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    richness_criteria = forms.MultipleChoiceField(
        label="Richness criteria met",
        choices=appraisal_services.RICHNESS_CRITERIA,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rigour = forms.ChoiceField(
        choices=[("", "Not rated")] + Appraisal.Rigour.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    method_described = forms.TypedChoiceField(
        label="Method described",
        choices=[("", "Not judged"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
        required=False,
    )
    data_supports_claim = forms.ChoiceField(
        label="Data support the claim",
        choices=[("", "Not judged")] + Appraisal.Supports.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    rigour_note = forms.CharField(
        label="Rigour note", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    external_tool = forms.CharField(
        label="External appraisal tool (optional)",
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"list": "external-tools"}),
    )
    external_score = forms.CharField(label="Score", required=False, max_length=60)
    verdict = forms.ChoiceField(
        label="Decision",
        choices=[("", "No decision yet")] + Appraisal.Verdict.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    verdict_reason = forms.CharField(
        label="Reason for the decision",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded for every decision, including inclusions.",
    )
    exclusion_reason = forms.ModelChoiceField(
        label="PRISMA exclusion reason",
        queryset=ExclusionReason.objects.none(),
        required=False,
    )

    def __init__(self, *args, review: Review, **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        self.fields["exclusion_reason"].queryset = ExclusionReason.objects.filter(
            stage__review=review
        ).select_related("stage")
        self.fields["exclusion_reason"].label_from_instance = lambda r: f"{r.stage}: {r.label}"

    def clean_informs_codes(self):
        codes = [c.strip() for c in re.split(r"[,;\s]+", self.cleaned_data["informs_codes"])]
        codes = [c for c in codes if c]
        found = {c.code: c for c in CMOC.objects.filter(review=self.review, code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise ValidationError(f"No CMOC with code {', '.join(unknown)} in this review.")
        self.cleaned_data["informs_cmocs"] = [found[c] for c in codes]
        return ", ".join(codes)


FIELD_FOR_SERVICE_ERROR = {"informs_cmocs": "informs_codes"}


def _initial_from(appraisal: Appraisal | None) -> dict:
    if appraisal is None:
        return {}
    data = {
        name: getattr(appraisal, name)
        for name in AppraisalForm.base_fields
        if hasattr(appraisal, name) and name not in ("method_described", "exclusion_reason")
    }
    data["method_described"] = {True: "yes", False: "no"}.get(appraisal.method_described, "")
    data["exclusion_reason"] = appraisal.exclusion_reason_id
    data["informs_codes"] = ", ".join(c.code for c in appraisal.informs_cmocs.all())
    return data


def _target(review: Review, kind: str, target_id: int):
    models = {"study": Study, "excerpt": Excerpt, "cmoc": CMOC}
    if kind not in models:
        raise Http404
    qs = models[kind].objects.filter(review=review)
    if kind == "excerpt":
        qs = qs.select_related("document__study")
    try:
        return qs.get(pk=target_id)
    except models[kind].DoesNotExist as exc:
        raise Http404 from exc


@review_view(Action.EDIT_EVIDENCE)
def appraisal_target(request, review: Review, kind: str, target_id: int):
    target = _target(review, kind, target_id)
    appraisals = appraisal_services.appraisals_for(review=review, kind=kind, target_id=target.pk)
    mine = next((a for a in appraisals if a.appraiser_id == request.user.pk), None)
    saved = False
    if request.method == "POST":
        form = AppraisalForm(request.POST, review=review)
        if form.is_valid():
            data = form.cleaned_data
            try:
                mine = appraisal_services.appraisal_record(
                    user=request.user,
                    review=review,
                    **{kind: target},
                    relevance=data["relevance"],
                    informs=data["informs"],
                    informs_cmocs=data.get("informs_cmocs", []),
                    relevance_note=data["relevance_note"],
                    richness=data["richness"],
                    richness_criteria=data["richness_criteria"],
                    rigour=data["rigour"],
                    method_described=data["method_described"],
                    data_supports_claim=data["data_supports_claim"],
                    rigour_note=data["rigour_note"],
                    external_tool=data["external_tool"],
                    external_score=data["external_score"],
                    verdict=data["verdict"],
                    verdict_reason=data["verdict_reason"],
                    exclusion_reason=data["exclusion_reason"],
                )
                saved = True
            except ValidationError as exc:
                for name, errs in exc.message_dict.items():
                    name = FIELD_FOR_SERVICE_ERROR.get(name, name)
                    form.add_error(name if name in form.fields else None, errs)
            except ValueError as exc:
                form.add_error(None, str(exc))
        if saved and not request.headers.get("HX-Request"):
            messages.success(request, "Appraisal saved.")
            return redirect(request.path)
        if saved:
            appraisals = appraisal_services.appraisals_for(
                review=review, kind=kind, target_id=target.pk
            )
            form = AppraisalForm(initial=_initial_from(mine), review=review)
    else:
        form = AppraisalForm(initial=_initial_from(mine), review=review)
    # A second appraiser judges independently: others' ratings show once you have saved yours.
    others = [a for a in appraisals if a.appraiser_id != request.user.pk]
    show_others = mine is not None or review.user_role == "owner"
    context = {
        "review": review,
        "kind": kind,
        "target": target,
        "form": form,
        "mine": mine,
        "saved": saved,
        "others": others if show_others else [],
        "n_hidden": 0 if show_others else len(others),
        "tools": appraisal_services.EXTERNAL_TOOLS,
    }
    if kind == "study":
        context["excerpts"] = list(
            Excerpt.objects.filter(document__study=target).select_related("document")[:200]
        )
    if request.headers.get("HX-Request"):
        # htmx swaps 2xx only; field errors come back as 200 with the errors in the form.
        return render(request, "studies/appraisal/_form.html", context)
    return render(
        request,
        "studies/appraisal/target.html",
        context,
        status=200 if request.method == "GET" or saved else 400,
    )


@review_view(Action.EDIT_EVIDENCE)
def appraisal_cmoc_by_code(request, review: Review):
    """Jump to a CMOC's appraisal by its code (CMOC pages belong to another module)."""
    code = request.GET.get("code", "").strip()
    cmoc = CMOC.objects.filter(review=review, code__iexact=code).only("pk").first()
    if cmoc is None:
        messages.error(request, f"No CMOC with code “{code}”.")
        return redirect("appraisal-list", review.pk)
    return redirect("appraisal-target", review.pk, "cmoc", cmoc.pk)


@review_view()
def appraisal_list(request, review: Review):
    kind, verdict = request.GET.get("kind", ""), request.GET.get("verdict", "")
    qs = sel.appraisal_list(review=review, kind=kind, verdict=verdict)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    agreement = {
        k: appraisal_services.appraisal_agreement(review=review, kind=k)
        for k in ("study", "excerpt", "cmoc")
    }
    return render(
        request,
        "studies/appraisal/list.html",
        {
            "review": review,
            "page": page,
            "total": page.paginator.count,
            "agreement": agreement,
            "filters": request.GET,
            "verdicts": Appraisal.Verdict.choices,
            "can_appraise": can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role),
        },
    )


# ---------------------------------------------------------------- extraction forms


def _form(review: Review, form_id: int) -> ExtractionForm:
    try:
        return sel.form_get(review=review, form_id=form_id)
    except ExtractionForm.DoesNotExist as exc:
        raise Http404 from exc


def _field(form: ExtractionForm, field_id: int) -> ExtractionField:
    try:
        return form.fields.get(pk=field_id)
    except ExtractionField.DoesNotExist as exc:
        raise Http404 from exc


@review_view()
def form_list(request, review: Review):
    forms_ = sel.forms_current_with_fields(review=review)
    return render(
        request,
        "studies/appraisal/forms.html",
        {
            "review": review,
            "forms": forms_,
            "can_manage": review.user_role == "owner",
            "can_extract": can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role),
            "studies": Study.objects.filter(review=review).only("id", "label").order_by("label"),
        },
    )


@require_POST
@review_view(Action.MANAGE)
def form_create(request, review: Review):
    try:
        if request.POST.get("default"):
            form = extraction_services.extraction_form_create_default(
                user=request.user, review=review
            )
        else:
            form = extraction_services.form_create(
                user=request.user, review=review, name=request.POST.get("name", "")
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("extraction-forms", review.pk)
    return redirect("extraction-form-design", review.pk, form.pk)


FIELD_TYPES = ExtractionField.Type.choices
# Field keys are slugs with underscores only, so this cannot clash with one.
NON_FIELD = "non-field"


@review_view(Action.MANAGE)
def form_design(request, review: Review, form_id: int):
    form = _form(review, form_id)
    current = extraction_services.form_current(form)
    if current.pk != form.pk:
        return redirect("extraction-form-design", review.pk, current.pk)
    errors, posted = {}, {}
    if request.method == "POST":
        posted = request.POST
        try:
            extraction_services.field_add(
                user=request.user,
                form=form,
                label=posted.get("label", ""),
                type=posted.get("type", ""),
                choices=posted.get("choices", ""),
                help_text=posted.get("help_text", ""),
                required=bool(posted.get("required")),
            )
            messages.success(request, f"Field “{posted.get('label')}” added.")
            return redirect("extraction-form-design", review.pk, form.pk)
        except ValidationError as exc:
            errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
    return _design_page(request, review, form, errors=errors, posted=posted)


def _design_page(request, review, form, *, errors=None, posted=None, refused=None, settings=None):
    """The design page; `refused`: (field key, EditConflict, the POST) of a field save
    refused, whose row then keeps what was typed, with the message and the saved values."""
    fields = sel.form_fields(form)
    if refused is not None:
        key, exc, post = refused
        for f in fields:
            if f.key == key:
                f.typed = {
                    "label": post.get("label", ""), "type": post.get("type", ""),
                    "choices": post.get("choices", ""), "help_text": post.get("help_text", ""),
                    "required": bool(post.get("required")), "version": exc.version,
                    "error": exc.message_text,
                }  # fmt: skip
                f.saved_now = differences(
                    f.typed,
                    {"label": f.label, "type": f.type, "choices": ", ".join(f.choices),
                     "help_text": f.help_text, "required": f.required},
                    {"type": f.get_type_display(), "required": "Yes" if f.required else "No"},
                )  # fmt: skip
                if "choices" in f.saved_now and _norm_lines(f.typed["choices"]) == f.choices:
                    del f.saved_now["choices"]  # typed one per line, saved as a list
    return render(
        request,
        "studies/appraisal/design.html",
        {
            "review": review,
            "form": form,
            "fields": fields,
            "versions": list(extraction_services.form_family(form)),
            "types": FIELD_TYPES,
            "errors": errors or {},
            "posted": posted or {},
            "settings": settings,  # the settings as typed, after a refused save
        },
        status=400 if errors else 200,
    )


def _norm_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@require_POST
@review_view(Action.MANAGE)
def field_change(request, review: Review, form_id: int, field_id: int):
    form = _form(review, form_id)
    field = _field(form, field_id)
    action = request.POST.get("action", "update")
    try:
        if action == "remove":
            extraction_services.field_remove(user=request.user, field=field)
            messages.success(request, f"Field “{field.label}” removed.")
        elif action in ("up", "down"):
            extraction_services.field_move(
                user=request.user, field=field, offset=-1 if action == "up" else 1
            )
        else:
            extraction_services.field_update(
                user=request.user,
                field=field,
                label=request.POST.get("label", ""),
                type=request.POST.get("type", ""),
                choices=request.POST.get("choices", ""),
                help_text=request.POST.get("help_text", ""),
                required=bool(request.POST.get("required")),
                expected_version=int_or_none(request.POST.get("version")),
            )
            messages.success(request, f"Field “{request.POST.get('label')}” saved.")
    except EditConflict as exc:
        current = extraction_services.form_current(form)
        return _design_page(request, review, current, refused=(field.key, exc, request.POST))
    except ValidationError as exc:
        messages.error(request, f"{field.label}: {' '.join(exc.messages)}")
    current = extraction_services.form_current(form)
    return redirect("extraction-form-design", review.pk, current.pk)


@require_POST
@review_view(Action.MANAGE)
def form_settings(request, review: Review, form_id: int):
    form = _form(review, form_id)
    dual = bool(request.POST.get("dual_extraction"))
    try:
        extraction_services.form_update(
            user=request.user, form=form, dual_extraction=dual,
            expected_version=int_or_none(request.POST.get("version")),
        )  # fmt: skip
    except EditConflict as exc:
        current = extraction_services.form_current(form)
        saved = current.dual_extraction
        settings = {
            "dual_extraction": dual, "version": exc.version, "error": exc.message_text,
            "saved_now": ("Yes" if saved else "No") if saved != dual else "",
        }  # fmt: skip
        return _design_page(request, review, current, settings=settings)
    return redirect("extraction-form-design", review.pk, extraction_services.form_current(form).pk)


# ---------------------------------------------------------------- extraction per study


def _study(review: Review, study_id: int) -> Study:
    try:
        return Study.objects.filter(review=review).get(pk=study_id)
    except Study.DoesNotExist as exc:
        raise Http404 from exc


def _posted_values(post, fields) -> dict:
    out = {}
    for f in fields:
        name = f"f-{f.key}"
        out[f.key] = post.getlist(name) if f.type == ev.MULTI_CHOICE else post.get(name, "")
    return out


def _next_study(review: Review, form: ExtractionForm, study: Study, user):
    """The next study (by label) without my answers on this form version."""
    return (
        Study.objects.filter(review=review, label__gt=study.label)
        .exclude(answers__field__form=form, answers__extractor=user)
        .order_by("label")
        .only("id", "label")
        .first()
    )


@review_view(Action.EDIT_EVIDENCE)
def study_extract(request, review: Review, form_id: int, study_id: int):
    form = extraction_services.form_current(_form(review, form_id))
    if form.pk != form_id:
        return redirect("extraction-study", review.pk, form.pk, study_id)
    study = _study(review, study_id)
    errors, values = {}, None
    if request.method == "POST":
        fields = sel.form_fields(form)
        values = _posted_values(request.POST, fields)
        try:
            extraction_services.answer_save(
                user=request.user, study=study, form=form, values=values
            )
            messages.success(request, f"Answers for {study.label} saved.")
            nxt = _next_study(review, form, study, request.user)
            if request.POST.get("next") and nxt:
                return redirect("extraction-study", review.pk, form.pk, nxt.pk)
            return redirect("extraction-study", review.pk, form.pk, study.pk)
        except ValidationError as exc:
            errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
        except ValueError as exc:
            errors = {NON_FIELD: str(exc)}
    data = sel.study_extraction(form=form, study=study, user=request.user)
    shown = values if values is not None else data.initial
    rows = [
        {
            "field": f,
            "value": shown.get(f.key),
            "list": shown.get(f.key) if isinstance(shown.get(f.key), list) else [shown.get(f.key)],
            "error": errors.get(f.key, ""),
            "carried": f.key in data.carried and values is None,
            "choices": ev.YES_NO_UNCLEAR_CHOICES if f.type == ev.YES_NO_UNCLEAR else f.choices,
        }
        for f in data.fields
    ]
    others = data.others if (data.mine_saved or not form.dual_extraction) else []
    return render(
        request,
        "studies/appraisal/extract.html",
        {
            "review": review,
            "form": form,
            "study": study,
            "rows": rows,
            "errors": errors,
            "non_field_error": errors.get(NON_FIELD, ""),
            "data": data,
            "others": others,
            "n_hidden": len(data.others) - len(others),
            "next_study": _next_study(review, form, study, request.user),
        },
        status=400 if errors else 200,
    )


@review_view(Action.EDIT_EVIDENCE)
def study_consolidate(request, review: Review, form_id: int, study_id: int):
    form = extraction_services.form_current(_form(review, form_id))
    study = _study(review, study_id)
    errors, values, conflict = {}, None, False
    if request.method == "POST":
        values = _posted_values(request.POST, sel.form_fields(form))
        try:
            extraction_services.answer_save(
                user=request.user, study=study, form=form, values=values, consensus=True,
                expected_version=request.POST.get("version") or None,
            )  # fmt: skip
            messages.success(request, f"Consensus answers for {study.label} saved.")
            return redirect("extraction-consolidate", review.pk, form.pk, study.pk)
        except EditConflict as exc:
            errors, conflict = {NON_FIELD: exc.message_text}, True
        except ValidationError as exc:
            errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
        except ValueError as exc:
            errors = {NON_FIELD: str(exc)}
    rows, extractors, version = sel.consolidation(form=form, study=study)
    for row in rows:
        f = row["field"]
        value = values.get(f.key) if values is not None else row["proposed"]
        if conflict:  # under each answer that differs: the consensus saved now
            saved = ev.display(row["consensus"])
            if _shown(f, value) != saved:
                row["saved_now"] = saved or "(empty)"
        row["value"] = value
        row["list"] = value if isinstance(value, list) else [value]
        row["error"] = errors.get(f.key, "")
        row["choices"] = ev.YES_NO_UNCLEAR_CHOICES if f.type == ev.YES_NO_UNCLEAR else f.choices
        row["shown"] = [ev.display(v) for v in row["values"]]
    return render(
        request,
        "studies/appraisal/consolidate.html",
        {
            "review": review,
            "form": form,
            "study": study,
            "rows": rows,
            "extractors": extractors,
            "errors": errors,
            "non_field_error": errors.get(NON_FIELD, ""),
            "version": version,
        },
        status=409 if conflict else 400 if errors else 200,
    )


def _shown(field, posted) -> str:
    """A posted answer as the table shows it (as typed when it does not validate)."""
    choices = ev.YES_NO_UNCLEAR_CHOICES if field.type == ev.YES_NO_UNCLEAR else field.choices
    try:
        return ev.display(ev.clean_answer(field.type, posted, choices=choices, required=False))
    except ev.AnswerError:
        return str(posted)


# ---------------------------------------------------------------- characteristics table


def _table_form(request, review: Review) -> ExtractionForm | None:
    current = list(sel.forms_current(review=review))
    wanted = request.GET.get("form")
    for f in current:
        if str(f.pk) == wanted:
            return f
    default = next((f for f in current if f.name == extraction_services.DEFAULT_FORM_NAME), None)
    return default or (current[0] if current else None)


def _table(request, review: Review):
    form = _table_form(request, review)
    if form is None:
        return None, [], []
    g = request.GET
    columns, rows = sel.characteristics_table(
        review=review,
        form=form,
        q=g.get("q", ""),
        filters={k[2:]: v for k, v in g.items() if k.startswith("f-") and v},
        sort=g.get("sort", ""),
        desc=g.get("desc") == "1",
    )
    return form, columns, rows


@review_view()
def characteristics(request, review: Review):
    form, columns, rows = _table(request, review)
    # Options come from the unfiltered table so that picking one filter leaves the others.
    filter_options = (
        sel.filter_values(*sel.characteristics_table(review=review, form=form)) if form else {}
    )
    query = request.GET.copy()
    query.pop("sort", None)
    query.pop("desc", None)
    context = {
        "review": review,
        "form": form,
        "forms": sel.forms_current(review=review),
        "columns": columns,
        "rows": rows,
        "filters": request.GET,
        "filter_selects": [
            (c, values, request.GET.get(f"f-{c.key}", ""))
            for c in columns
            if (values := filter_options.get(c.key))
        ],
        "sort": request.GET.get("sort", ""),
        "desc": request.GET.get("desc") == "1",
        "base_query": query.urlencode(),
        "export_query": request.GET.urlencode(),
        "can_export": can(request.user, review, Action.EXPORT, role=review.user_role),
    }
    template = (
        "studies/appraisal/_characteristics_table.html"
        if request.headers.get("HX-Request")
        else "studies/appraisal/characteristics.html"
    )
    return render(request, template, context)


def _export_rows(columns, rows):
    yield ["Study"] + [c.label for c in columns]
    for r in rows:
        yield [r.study_label] + r.cells


class _Echo:
    def write(self, value):
        return value


def _filename(review: Review, form: ExtractionForm, ext: str) -> str:
    return f"{slugify(review.title)[:40]}-{slugify(form.name)}-v{form.version}.{ext}"


@review_view(Action.EXPORT)
def characteristics_csv(request, review: Review):
    form, columns, rows = _table(request, review)
    if form is None:
        raise Http404("No extraction form yet.")
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _export_rows(columns, rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(review, form, "csv")}"'
    return response


@review_view(Action.EXPORT)
def characteristics_xlsx(request, review: Review):
    form, columns, rows = _table(request, review)
    if form is None:
        raise Http404("No extraction form yet.")
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Characteristics")
    bold = book.add_format({"bold": True, "bg_color": "#EEF1F5", "text_wrap": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    data = list(_export_rows(columns, rows))
    for r, row in enumerate(data):
        sheet.write_row(r, 0, row, bold if r == 0 else wrap)
    for c in range(len(data[0])):
        width = max(len(str(row[c])) for row in data) if data else 10
        sheet.set_column(c, c, min(max(width, 10), 60))
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, max(len(data) - 1, 1), len(data[0]) - 1)
    book.close()
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(review, form, "xlsx")}"'
    return response


# ---------------------------------------------------------------- progress


@review_view()
def progress(request, review: Review):
    missing = request.GET.get("missing", "")
    qs = sel.progress(review=review, missing=missing, q=request.GET.get("q", "").strip())
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    forms_ = list(sel.forms_current(review=review))
    return render(
        request,
        "studies/appraisal/progress.html",
        {
            "review": review,
            "page": page,
            "total": page.paginator.count,
            "summary": sel.progress_summary(review=review),
            "missing": missing,
            "filters": request.GET,
            "steps": [
                ("screened", "Screened"),
                ("full_text", "Full text"),
                ("appraised", "Appraised"),
                ("extracted", "Extracted"),
                ("coded", "Coded"),
            ],
            "form": forms_[0] if forms_ else None,
            "can_edit": can(request.user, review, Action.EDIT_EVIDENCE, role=review.user_role),
        },
    )

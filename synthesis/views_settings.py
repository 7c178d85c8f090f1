"""Starting a review and running it: details, team (members and roles) and phases. Owners
only (a reviewer gets 403, a non-member 404); every change goes through synthesis.services."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from synthesis import services as svc
from synthesis.concurrency import EditConflict, VersionedForm
from synthesis.models import Membership, Phase, Review, Role
from synthesis.permissions import Action
from synthesis.views_base import review_view


class ReviewStartForm(forms.Form):
    title = forms.CharField(max_length=300)
    question = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What works, for whom, in what circumstances, how and why?",
    )  # fmt: skip


class ReviewDetailsForm(VersionedForm, forms.Form):
    title = forms.CharField(max_length=300)
    question = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    registration = forms.CharField(
        label="Registration id", max_length=100, required=False, help_text="e.g. PROSPERO CRD…"
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    auto_merge_threshold = forms.FloatField(
        label="Auto-merge threshold", min_value=0.8, max_value=1.0,
        help_text="Duplicate pairs scoring at least this (0.80–1.00) merge on import; the "
        "rest down to 0.80 wait on the duplicates page. Higher is safer: a wrong merge loses "
        "evidence, a missed one costs a click.",
    )  # fmt: skip


class MemberAddForm(forms.Form):
    who = forms.CharField(label="Username or e-mail", max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER)


class PhaseForm(forms.Form):
    name = forms.CharField(max_length=120)
    order = forms.IntegerField(min_value=0, max_value=32767, initial=1)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MemberRoleForm(VersionedForm, forms.Form):
    """A member's role on the Settings page, with the version of the role it was opened on."""

    role = forms.ChoiceField(choices=Role.choices, error_messages={"required": "Choose a role."})


class PhaseEditForm(VersionedForm, PhaseForm):
    """A phase's row on the Settings page, with the version it was opened on."""


def _apply(form: forms.Form, exc: ValidationError) -> None:
    """A service's field errors onto the form (others as the form's own)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, messages_ in errors.items():
        for m in messages_:
            form.add_error(field if field in form.fields else None, m)


@login_required
@require_POST
def review_start(request):
    form = ReviewStartForm(request.POST)
    if form.is_valid():
        try:
            review = svc.review_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, "Review started: add your team and the phases of the work.")
            return redirect("review-settings", review.pk)
    from synthesis.views import review_list

    return review_list(request, start_form=form)


@review_view(Action.MANAGE)
def review_settings(request, review: Review):
    details = ReviewDetailsForm(
        initial={f: getattr(review, f) for f in [*ReviewDetailsForm.base_fields, "version"]}
    )
    add_member, add_phase = MemberAddForm(), PhaseForm()
    phase_errors: dict[int, list[str]] = {}
    phase_forms: dict[int, forms.Form] = {}
    role_forms: dict[int, forms.Form] = {}  # a member's role form refused, what was chosen kept
    if request.method == "POST":
        action = request.POST.get("action", "")
        done = _act(request, review, action)
        if done is True:
            return redirect("review-settings", review.pk)
        if done == "left":
            return redirect("review-list")
        if isinstance(done, tuple):  # (which form, bound with its errors)
            which, form = done
            if which == "details":
                details = form
            elif which == "member":
                add_member = form
            elif which == "phase":
                add_phase = form
            elif isinstance(which, tuple):  # ("role", membership id)
                role_forms[which[1]] = form
            else:
                phase_errors[which] = [e for errs in form.errors.values() for e in errs]
                phase_forms[which] = form  # what was typed, kept in the phase's row
    members = (
        Membership.objects.filter(review=review)
        .select_related("user")
        .order_by("role", "user__username")
    )
    phases = Phase.objects.filter(review=review).annotate(
        n_cmocs=Count("cmocs", distinct=True), n_searches=Count("searches", distinct=True)
    )
    return render(
        request,
        "synthesis/review_settings.html",
        {
            "review": review, "details": details, "add_member": add_member,
            "add_phase": add_phase, "members": members, "phases": phases,
            "phase_errors": phase_errors, "phase_forms": phase_forms, "roles": Role.choices,
            "role_forms": role_forms,
        },
    )  # fmt: skip


def _act(request, review: Review, action: str):
    """Run one settings action: True when done (back to the page), "left" when the owner
    took themself off the review, or (form key, bound form) to show its errors."""
    user, post = request.user, request.POST
    if action == "details":
        form = ReviewDetailsForm(post)

        def save(data):
            data = dict(data)
            version = data.pop("version")
            svc.review_update(user=user, review=review, expected_version=version, **data)

        if _saved(form, save):
            messages.success(request, "Review details saved.")
            return True
        return "details", form
    if action == "member-add":
        form = MemberAddForm(post)
        if form.is_valid():
            member = svc.member_find(form.cleaned_data["who"])
            if member is None:
                form.add_error(
                    "who", "No account has that username or e-mail address: an administrator "
                    "creates accounts (Django admin, or manage.py createsuperuser).",
                )  # fmt: skip
            elif Membership.objects.filter(review=review, user=member).exists():
                form.add_error("who", f"{member} is already a member: change the role below.")
            else:
                svc.membership_set(
                    user=user, review=review, member=member, role=form.cleaned_data["role"]
                )
                messages.success(request, f"{_name(member)} added as {form.cleaned_data['role']}.")
                return True
        return "member", form
    if action in ("member-role", "member-remove"):
        membership = get_object_or_404(Membership, review=review, pk=_int(post.get("membership")))
        if action == "member-role":
            form = MemberRoleForm(post)

            def save(data):
                svc.membership_set(
                    user=user, review=review, member=membership.user, role=data["role"],
                    expected_version=data["version"],
                )  # fmt: skip

            try:
                if _saved(form, save):
                    messages.success(
                        request, f"{_name(membership.user)} is now {form.cleaned_data['role']}."
                    )
                    return True
            except ValueError as exc:  # the last owner
                messages.error(request, str(exc))
                return True
            return ("role", membership.pk), form
        try:
            svc.membership_remove(user=user, review=review, member=membership.user)
            messages.success(request, f"{_name(membership.user)} removed from the review.")
        except (ValidationError, ValueError) as exc:
            for m in getattr(exc, "messages", [str(exc)]):
                messages.error(request, m)
            return True
        if membership.user_id == user.pk:
            return "left"  # no longer a member: the review's pages are closed to them
        return True
    if action == "phase-add":
        form = PhaseForm(post)
        if _saved(form, lambda data: svc.phase_create(user=user, review=review, **data)):
            messages.success(request, f"Phase {form.cleaned_data['name']} added.")
            return True
        return "phase", form
    if action in ("phase-update", "phase-delete"):
        phase = get_object_or_404(Phase, review=review, pk=_int(post.get("phase")))
        if action == "phase-delete":
            svc.phase_delete(user=user, phase=phase)
            messages.success(request, f"Phase {phase.name} deleted.")
            return True
        form = PhaseEditForm(post)

        def save(data):
            data = dict(data)
            version = data.pop("version")
            svc.phase_update(user=user, phase=phase, expected_version=version, **data)

        if _saved(form, save):
            messages.success(request, f"Phase {phase.name} saved.")
            return True
        return phase.pk, form
    messages.error(request, "Unknown action.")
    return True


def _saved(form: forms.Form, save) -> bool:
    """Validate `form`, then `save(cleaned_data)` (a service call): True when saved, False
    with the form carrying the form's or the service's field errors."""
    if not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except EditConflict as exc:
        form.conflict(exc)
        return False
    except ValidationError as exc:
        _apply(form, exc)
        return False
    return True


def _name(user) -> str:
    return user.get_full_name() or user.username


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

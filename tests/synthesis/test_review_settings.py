"""Starting a review and running it from the browser: details, team and phases. Owners only;
field errors, never a 500; the last owner stays; every change audited."""

import contextlib
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from cmoc.models import CMOC
from synthesis import services as svc
from synthesis.models import Membership, Phase, Review, ReviewEvent, Role
from tests.concurrency import SAVED, at_the_same_moment
from tests.query_counts import count_queries

pytestmark = pytest.mark.django_db


def settings_url(review) -> str:
    return reverse("review-settings", args=[review.pk])


# --- services ---------------------------------------------------------------------------------


def test_member_find_by_username_or_email_in_any_case(users):
    users["reviewer2"].email = "Ravi@Example.org"
    users["reviewer2"].save()
    assert svc.member_find("REVIEWER2") == users["reviewer2"]
    assert svc.member_find(" ravi@example.org ") == users["reviewer2"]
    assert svc.member_find("nobody") is None and svc.member_find("") is None


def test_membership_remove_keeps_the_last_owner_and_is_for_owners(review, users):
    with pytest.raises(PermissionDenied):
        svc.membership_remove(user=users["reviewer"], review=review, member=users["viewer"])
    with pytest.raises(Http404):
        svc.membership_remove(user=users["outsider"], review=review, member=users["viewer"])
    with pytest.raises(ValidationError, match="at least one owner"):
        svc.membership_remove(user=users["owner"], review=review, member=users["owner"])
    svc.membership_remove(user=users["owner"], review=review, member=users["viewer"])
    assert not Membership.objects.filter(review=review, user=users["viewer"]).exists()
    assert ReviewEvent.objects.filter(verb="membership.remove", summary="viewer").exists()
    with pytest.raises(ValidationError, match="not a member"):
        svc.membership_remove(user=users["owner"], review=review, member=users["viewer"])


def test_phases_are_named_once_per_review_and_deleting_one_keeps_its_cmocs(review, users):
    owner = users["owner"]
    with pytest.raises(ValidationError, match="already a phase named"):
        svc.phase_create(user=owner, review=review, name="theory GLEANING")
    with pytest.raises(ValidationError, match="Name the phase"):
        svc.phase_create(user=owner, review=review, name="  ")
    refinement = svc.phase_create(user=owner, review=review, name="Theory refinement", order=2)
    with pytest.raises(ValidationError, match="already a phase named"):
        svc.phase_update(user=owner, phase=refinement, name="Realist evaluation")
    svc.phase_update(user=owner, phase=refinement, name="Refinement", order=3)
    assert Phase.objects.get(pk=refinement.pk).name == "Refinement"
    cmoc = CMOC.objects.create(review=review, code="C1", statement="s", phase=refinement)
    svc.phase_delete(user=owner, phase=refinement)
    cmoc.refresh_from_db()
    assert cmoc.phase is None
    assert [e.verb for e in ReviewEvent.objects.filter(verb__startswith="phase.")] == [
        "phase.delete", "phase.update", "phase.create"
    ]  # fmt: skip
    with pytest.raises(PermissionDenied):
        svc.phase_create(user=users["reviewer"], review=review, name="Other")


def test_review_create_needs_a_title(users):
    with pytest.raises(ValidationError):
        svc.review_create(user=users["outsider"], title="  ")
    review = svc.review_create(user=users["outsider"], title=" Realist review of X ")
    assert review.title == "Realist review of X"
    assert review.role_of(users["outsider"]) == Role.OWNER


# --- pages ------------------------------------------------------------------------------------


def test_any_signed_in_user_starts_a_review_and_owns_it(client_for, users):
    client = client_for("outsider")
    page = client.get(reverse("review-list")).content.decode()
    assert "Start a review" in page
    resp = client.post(reverse("review-start"), {"title": "", "question": "What works?"})
    assert resp.status_code == 200 and "This field is required" in resp.content.decode()
    assert not Review.objects.filter(question="What works?").exists()
    resp = client.post(reverse("review-start"), {"title": "Knowledge mobilisation", "question": ""})
    review = Review.objects.get(title="Knowledge mobilisation")
    assert resp.status_code == 302 and resp["Location"] == settings_url(review)
    assert review.role_of(users["outsider"]) == Role.OWNER
    page = client.get(settings_url(review)).content.decode()
    assert "Add a member" in page and "Add a phase" in page


@pytest.mark.parametrize("name, status", [("reviewer", 403), ("analyst", 403), ("viewer", 403),
                                          ("outsider", 404)])  # fmt: skip
def test_only_owners_open_or_change_the_settings(client_for, review, name, status):
    client = client_for(name)
    assert client.get(settings_url(review)).status_code == status
    resp = client.post(settings_url(review), {"action": "details", "title": "Hijacked",
                                              "auto_merge_threshold": "0.9"})  # fmt: skip
    assert resp.status_code == status
    review.refresh_from_db()
    assert review.title == "Collaboration review"
    dashboard = client_for(name).get(reverse("review-dashboard", args=[review.pk]))
    assert settings_url(review) not in dashboard.content.decode()


def test_owner_edits_details_with_field_errors(client_for, review):
    client = client_for("owner")
    assert (
        settings_url(review)
        in client.get(reverse("review-dashboard", args=[review.pk])).content.decode()
    )
    resp = client.post(settings_url(review), {"action": "details", "title": "New title",
                                              "auto_merge_threshold": "0.5"})  # fmt: skip
    assert resp.status_code == 200
    assert "greater than or equal to 0.8" in resp.content.decode()
    assert 'value="New title"' in resp.content.decode()  # what was typed stays
    resp = client.post(settings_url(review), {
        "action": "details", "title": "New title", "question": "How and why?",
        "registration": "CRD42019149009", "description": "", "auto_merge_threshold": "0.99",
    })  # fmt: skip
    assert resp.status_code == 302
    review.refresh_from_db()
    assert (review.title, review.registration, review.auto_merge_threshold) == (
        "New title", "CRD42019149009", 0.99
    )  # fmt: skip


def test_owner_runs_the_team(client_for, review, users):
    client = client_for("owner")
    url = settings_url(review)
    newcomer = users["outsider"]
    newcomer.email = "new@example.org"
    newcomer.save()
    resp = client.post(url, {"action": "member-add", "who": "nobody", "role": "reviewer"})
    assert resp.status_code == 200 and "No account has that username" in resp.content.decode()
    resp = client.post(url, {"action": "member-add", "who": "reviewer", "role": "viewer"})
    assert "already a member" in resp.content.decode()
    resp = client.post(url, {"action": "member-add", "who": "NEW@example.org", "role": "analyst"})
    assert resp.status_code == 302 and review.role_of(newcomer) == Role.ANALYST
    mine = Membership.objects.get(review=review, user=users["owner"])
    resp = client.post(url, {"action": "member-role", "membership": mine.pk, "role": "reviewer"},
                       follow=True)  # fmt: skip
    assert "at least one owner" in resp.content.decode()
    assert review.role_of(users["owner"]) == Role.OWNER
    theirs = Membership.objects.get(review=review, user=newcomer)
    client.post(url, {"action": "member-role", "membership": theirs.pk, "role": "owner"})
    assert review.role_of(newcomer) == Role.OWNER
    client.post(url, {"action": "member-remove", "membership": theirs.pk})
    assert review.role_of(newcomer) is None
    # Junk ids are a 404, not a 500; a membership of another review is not found either.
    other = svc.review_create(user=newcomer, title="Other review")
    foreign = Membership.objects.get(review=other)
    for junk in ("x", "", "99999999999999999999", str(foreign.pk)):
        resp = client.post(url, {"action": "member-remove", "membership": junk})
        assert resp.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()
    # An owner who takes themself off (another owner remains) lands on their review list.
    client.post(url, {"action": "member-add", "who": "outsider", "role": "owner"})
    resp = client.post(url, {"action": "member-remove", "membership": mine.pk})
    assert resp.status_code == 302 and resp["Location"] == reverse("review-list")


def test_owner_runs_the_phases(client_for, review):
    client = client_for("owner")
    url = settings_url(review)
    resp = client.post(url, {"action": "phase-add", "name": "Realist evaluation", "order": "3"})
    assert resp.status_code == 200 and "already a phase named" in resp.content.decode()
    resp = client.post(url, {"action": "phase-add", "name": "Theory refinement", "order": "x"})
    assert "Enter a whole number" in resp.content.decode()
    client.post(url, {"action": "phase-add", "name": "Theory refinement", "order": "2"})
    refinement = Phase.objects.get(review=review, name="Theory refinement")
    resp = client.post(url, {"action": "phase-update", "phase": refinement.pk, "name": "",
                             "order": "2"})  # fmt: skip
    assert resp.status_code == 200 and "This field is required" in resp.content.decode()
    client.post(url, {"action": "phase-update", "phase": refinement.pk, "name": "Refinement",
                      "order": "2", "description": "Testing the theory"})  # fmt: skip
    refinement.refresh_from_db()
    assert (refinement.name, refinement.description) == ("Refinement", "Testing the theory")
    client.post(url, {"action": "phase-delete", "phase": refinement.pk})
    assert not Phase.objects.filter(pk=refinement.pk).exists()
    assert client.post(url, {"action": "phase-delete", "phase": "nope"}).status_code == 404


@pytest.mark.parametrize("n", [2, 20])
def test_settings_page_queries_do_not_grow_with_members_and_phases(client_for, review, make_user,
                                                                   n):  # fmt: skip
    for i in range(n):
        Membership.objects.create(review=review, user=make_user(f"member{i}"), role=Role.VIEWER)
        Phase.objects.create(review=review, name=f"Phase {i}", order=10 + i)
    client_for("owner")
    status, queries, body = count_queries(client_for("owner"), settings_url(review))
    assert (status, queries) == (200, 6)  # session, user, review, role, members, phases
    assert f"member{n - 1}" in body and f"Phase {n - 1}" in body


def test_a_member_changes_their_own_password(client_for, users):
    client = client_for("reviewer")
    url = reverse("password_change")
    assert url in client.get(reverse("review-list")).content.decode()  # linked from the header
    resp = client.post(url, {"old_password": "wrong", "new_password1": "a-new-pw-4-retro",
                             "new_password2": "a-new-pw-4-retro"})  # fmt: skip
    assert resp.status_code == 200 and "Your old password was entered incorrectly" in (
        resp.content.decode().replace("&#x27;", "'")
    )
    from tests.conftest import PASSWORD

    resp = client.post(url, {"old_password": PASSWORD, "new_password1": "a-new-pw-4-retro",
                             "new_password2": "a-new-pw-4-retro"})  # fmt: skip
    assert resp.status_code == 302
    users["reviewer"].refresh_from_db()
    assert users["reviewer"].check_password("a-new-pw-4-retro")
    assert client.get(resp["Location"]).status_code == 200  # still signed in


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(review, users, monkeypatch):
    a, b = users["owner"], users["reviewer2"]
    svc.membership_set(user=a, review=review, member=b, role=Role.OWNER)
    # Hold each change after it has locked its member's row, until the other has too (or a
    # second has passed: the other is waiting for a lock): without a lock on the owners, both
    # then counted the other as an owner still, and both demotions went through.
    both = threading.Barrier(2)
    edit_lock = svc.edit_lock

    def edit_lock_then_wait(*args, **kwargs):
        locked = edit_lock(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait(timeout=1)
        return locked

    monkeypatch.setattr(svc, "edit_lock", edit_lock_then_wait)
    outcomes = at_the_same_moment(
        lambda: svc.membership_set(user=a, review=review, member=b, role=Role.REVIEWER),
        lambda: svc.membership_set(user=b, review=review, member=a, role=Role.REVIEWER),
    )
    # The second is refused: the review would have no owner, or (retried after the first)
    # its author is no longer an owner.
    assert outcomes.count(SAVED) == 1, outcomes
    assert Membership.objects.filter(review=review, role=Role.OWNER).count() == 1

"""Shared fixtures: a small review with one member per role, and an outsider."""

import os

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from synthesis.models import Membership, Phase, Review, Role

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the
# live-server fixtures around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "retroduce-test-pw"

# Property tests: no per-example deadline and no "too slow" health check. On a loaded CI
# machine both fail tests for being slow, not wrong; a failure prints its reproduction blob.
hypothesis_settings.register_profile(
    "retroduce", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("retroduce")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    # django-q2 reads Q_CLUSTER once at import, so run jobs inline by patching its config.
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def make_user(db):
    def make(username: str, **extra):
        return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)

    return make


@pytest.fixture
def users(make_user):
    return {
        name: make_user(name)
        for name in ("owner", "reviewer", "reviewer2", "analyst", "viewer", "outsider")
    }


@pytest.fixture
def review(users):
    review = Review.objects.create(title="Collaboration review", question="What works?")
    for name, role in [
        ("owner", Role.OWNER),
        ("reviewer", Role.REVIEWER),
        ("reviewer2", Role.REVIEWER),
        ("analyst", Role.ANALYST),
        ("viewer", Role.VIEWER),
    ]:
        Membership.objects.create(review=review, user=users[name], role=role)
    Phase.objects.create(review=review, name="Theory gleaning", order=1)
    Phase.objects.create(review=review, name="Realist evaluation", order=2)
    return review


@pytest.fixture
def client_for(client, users):
    """A test client logged in as one of the named users."""

    def login(name: str):
        client.force_login(users[name])
        return client

    return login

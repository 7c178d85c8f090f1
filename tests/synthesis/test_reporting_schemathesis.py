"""Property-based run of the whole v1 API from its generated OpenAPI schema: no input may
cause a server error. Runs in-process through WSGI against the test database.

(schemathesis' pytest fixture loader does not work with pytest 9 yet, so the operations'
Hypothesis strategies are driven directly.)"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.synthesis.reporting_data import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def keep_test_connection():
    """Called in-process, the WSGI handler's request signals would close the database
    connection that holds the test transaction (PostgreSQL then fails with "connection
    already closed"); Django's own test client disconnects them the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def no_throttle(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}


def test_generated_requests_never_cause_server_errors(
    review, users, no_throttle, keep_test_connection
):
    build(review, users)
    token = Token.objects.create(user=users["reviewer"]).key
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    failures, n_ops, n_calls, statuses = [], 0, [0], {}
    for result in schema.get_all_operations():
        operation = result.ok()
        n_ops += 1

        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case):
            if "review_pk" in (case.path_parameters or {}):
                case.path_parameters["review_pk"] = review.pk  # reach real data, not only 404s
            n_calls[0] += 1
            response = case.call_and_validate(
                headers={"Authorization": f"Token {token}"}, checks=[not_a_server_error]
            )
            statuses[response.status_code // 100] = statuses.get(response.status_code // 100, 0) + 1

        try:
            run()
        except Exception as exc:  # collect every failing operation, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert n_ops >= 40
    assert n_calls[0] >= 5 * n_ops
    assert statuses.get(2, 0) >= n_ops  # real data reached, not only 4xx
    assert not failures, "\n\n".join(failures)

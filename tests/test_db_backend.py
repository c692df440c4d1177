"""The PostgreSQL backend's health check: a reused connection is checked (``SELECT 1``) when a
request starts only if it has not served a request without error in the last few seconds."""

from __future__ import annotations

import pytest
from django.db import connections

from kaoping.core.postgresql import base

connection = connections["default"]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the backend is PostgreSQL's (SQLite: CONN_MAX_AGE=0)",
    ),
]


@pytest.fixture
def checks(monkeypatch):
    """Count the health checks; drive the backend's clock by hand."""
    calls = []
    real = connection.is_usable
    clock = [1000.0]
    monkeypatch.setattr(connection, "is_usable", lambda: calls.append(1) or real())
    monkeypatch.setattr(base.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(connection, "health_check_enabled", True)
    monkeypatch.setattr(connection, "close_at", None)
    connection.ensure_connection()
    connection._proven_at = float("-inf")
    return calls, clock


def request(clock, seconds_later=0.1):
    """What a request does to the connection: the check as it starts, a query, the end."""
    clock[0] += seconds_later
    connection.close_if_unusable_or_obsolete()  # request_started
    with connection.cursor() as cursor:
        cursor.execute("SELECT 42")
    clock[0] += 0.01
    connection.close_if_unusable_or_obsolete()  # request_finished


def test_connection_in_steady_use_is_not_checked_again(checks):
    calls, clock = checks
    request(clock)
    assert len(calls) == 1  # first request on this connection: checked
    for _ in range(20):
        request(clock, seconds_later=0.5)
    assert len(calls) == 1


def test_idle_connection_is_checked(checks):
    calls, clock = checks
    request(clock)
    request(clock, seconds_later=base.RECENT_SECONDS + 1)
    assert len(calls) == 2


def test_connection_after_an_error_is_checked(checks):
    calls, clock = checks
    request(clock)
    connection.errors_occurred = True
    clock[0] += 0.1
    connection.close_if_unusable_or_obsolete()  # request_finished after a failed query
    assert len(calls) == 2  # Django's own check of a connection that saw an error
    request(clock, seconds_later=0.1)
    assert len(calls) == 2  # that check proved it: the next request goes straight on


def test_connection_broken_during_a_request_is_replaced(checks):
    calls, clock = checks
    request(clock)
    connection.connection.close()  # the database went away during the request
    connection.errors_occurred = True
    connection.close_if_unusable_or_obsolete()  # request_finished: Django's check fails
    assert connection.connection is None
    request(clock, seconds_later=0.1)  # a new connection
    assert connection.connection is not None


def test_broken_connection_is_replaced_after_idling(checks):
    calls, clock = checks
    request(clock)
    connection.connection.close()  # as the database going away
    request(clock, seconds_later=base.RECENT_SECONDS + 1)  # checked, reconnected, works
    assert len(calls) == 2

"""Django's PostgreSQL backend, with the health check of a persistent connection skipped while
the connection is in steady use.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` on a reused connection at the start of
every request, before its first query: one more round trip per request, which is a good part
of what a ballot page costs under load. Here a connection that served a request without error
within the last ``RECENT_SECONDS`` is taken as alive and not checked again; one idle for longer
(the case the check exists for: the database restarted, a firewall dropped an idle connection)
is checked as before. If the database restarts while requests keep coming, each worker thread's
next request fails once and its connection is then replaced, as without health checks.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

RECENT_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    _proven_at = float("-inf")

    def close_if_unusable_or_obsolete(self) -> None:
        # Called as each request starts and as it finishes (``close_old_connections``).
        super().close_if_unusable_or_obsolete()
        if self.connection is None or self.errors_occurred:
            self._proven_at = float("-inf")
            return
        now = time.monotonic()
        if now - self._proven_at < RECENT_SECONDS:
            self.health_check_done = True
        self._proven_at = now

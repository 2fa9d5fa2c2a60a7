"""Django's PostgreSQL backend with a health check (CONN_HEALTH_CHECKS) that costs no round trip on a healthy idle
connection, psycopg's conversion of a query kept for the acts' multi-row inserts, and psycopg's own loader of times
(timestamptz) on a session in UTC."""

import functools
import select
from datetime import UTC

import psycopg
from django.db.backends.postgresql import base
from psycopg import _queries, adapt, pq

# psycopg turns a query's %s placeholders into PostgreSQL's $n with a regular expression, and keeps the result only
# for a query of at most 50 parameters. The due checks an act schedules go in one insert of 11 columns a row, with
# the updates sent along (wardflow.compiled): a refill's 5 or 6 rows (about 77 parameters), a test dose's 8
# observation slots (94, the largest). Each of those inserts was parsed again at every act (0.3-0.4 ms of a 0.7 ms
# statement, measured). The acts' inserts are built once, so they are few; psycopg keeps its 128 most recent.
PARAMETERS_OF_A_KEPT_QUERY = 200
_queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, PARAMETERS_OF_A_KEPT_QUERY)


# psycopg's own loader of a time (timestamptz) read as text: its C one when psycopg's binary package is installed.
_PSYCOPG_TIME_LOADER = psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, pq.Format.TEXT)


class UtcTimeLoader(adapt.Loader):
    """A time as Django's loader reads it on a session in UTC (the time zone Django gives a session when it keeps
    times in UTC): psycopg's own loader answers it in the session's time zone, and Django's then replaces its zone
    with UTC, parsing each time again in Python (4 microseconds a time, against half a microsecond for psycopg's C
    loader alone; a pump's record and history hold some forty times). On a session in UTC psycopg's answer is
    already that datetime, in `datetime.UTC`: it is answered as it is. `timezone` is what Django compares a cursor's
    loader with before it registers one of its own."""

    timezone = UTC

    def __init__(self, oid: int, context=None):
        super().__init__(oid, context)
        self._psycopg_own = _PSYCOPG_TIME_LOADER(oid, context)

    def load(self, data):
        return self._psycopg_own.load(data)


@functools.cache
def _with_utc_times(template: adapt.AdaptersMap) -> adapt.AdaptersMap:
    adapters = adapt.AdaptersMap(template)
    adapters.register_loader("timestamptz", UtcTimeLoader)
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if self.timezone is UTC and self.timezone_name == "UTC":  # the session is set to UTC on connecting
            params["context"] = _with_utc_times(params["context"])
        return params

    def is_usable(self):
        """Django asks this before each request reuses a persistent connection, and its answer is a round trip
        (SELECT 1): about a tenth of a millisecond of every request. The server writes to an idle connection only
        when it ends it (a restart, a terminated backend, an idle timeout: an error message, then end of file) or
        for a rare notice or notification. So an idle connection with nothing to read is usable as it stands;
        anything else is decided by the round trip, as before."""
        if self.connection is None or self.connection.closed:
            return False
        if self.connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        poller = select.poll()
        poller.register(self.connection.fileno(), select.POLLIN)
        return not poller.poll(0) or super().is_usable()

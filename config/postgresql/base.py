"""Django's PostgreSQL backend with a health check (CONN_HEALTH_CHECKS) that costs no round trip on a healthy idle
connection, and psycopg's conversion of a query kept for the acts' multi-row inserts."""

import select

from django.db.backends.postgresql import base
from psycopg import _queries, pq

# psycopg turns a query's %s placeholders into PostgreSQL's $n with a regular expression, and keeps the result only
# for a query of at most 50 parameters. The due checks an act schedules go in one insert of 11 columns a row, with
# the updates sent along (wardflow.compiled): a refill's 5 or 6 rows (about 77 parameters), a test dose's 8
# observation slots (94, the largest). Each of those inserts was parsed again at every act (0.3-0.4 ms of a 0.7 ms
# statement, measured). The acts' inserts are built once, so they are few; psycopg keeps its 128 most recent.
PARAMETERS_OF_A_KEPT_QUERY = 200
_queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, PARAMETERS_OF_A_KEPT_QUERY)


class DatabaseWrapper(base.DatabaseWrapper):
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

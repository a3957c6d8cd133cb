"""Schemathesis hooks for scripts/fuzz-api.sh.

The long poll (GET /api/v1/events/poll) answers as soon as there is an event after `after`, or
empty after `timeout_ms` (25 s unless asked): a fuzzer's requests would mostly wait. They are
sent with a wait of at most half a second, so that the run stays short; what is checked of the
answer does not change.
"""

import schemathesis

POLL = "/api/v1/events/poll"
WAIT_MS = 500


@schemathesis.hook
def map_query(context, query):
    if context.operation.path != POLL:
        return query
    query = dict(query or {})
    wait = query.get("timeout_ms")
    if not isinstance(wait, int) or wait < 0 or wait > WAIT_MS:
        query["timeout_ms"] = WAIT_MS
    return query

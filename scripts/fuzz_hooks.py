"""Schemathesis hooks for scripts/fuzz-api.sh.

Who calls: every operation is sent with the admin's write token (HEADWAY_FUZZ_TOKEN) as a bearer
token, but for those the document opens to anyone (`security: [{}]`): signing in takes no
bearer token (a session is what it makes), and answers 400 to one.

The long poll (GET /api/v1/events/poll) answers as soon as there is an event after `after`, or
empty after `timeout_ms` (25 s unless asked): a fuzzer's requests would mostly wait. They are
sent with a wait of at most half a second, so that the run stays short; what is checked of the
answer does not change.

What the document cannot say: a few refusals of schema-valid requests depend on what the server
has, not on the request's shape, and are let through by `filter_failure` below (only those: any
other refusal of a valid request still fails the run).
"""

import os
import re

import schemathesis

POLL = "/api/v1/events/poll"
WAIT_MS = 500


@schemathesis.auth().skip_for(operation_id="signIn")
class Bearer:
    def get(self, case, context):
        return os.environ["HEADWAY_FUZZ_TOKEN"]

    def set(self, case, data, context):
        case.headers = dict(case.headers or {})
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(context, case, kwargs):
    """A method the path does not take is sent with the token: who calls is decided before the
    method is looked at, so that without one the answer is 401 (POST /session is the only
    request open to anyone), not the 405 looked for."""
    if context.operation.definition.raw.get("operationId") == "signIn" and case.method != "POST":
        case.headers = dict(case.headers or {})
        case.headers["Authorization"] = f"Bearer {os.environ['HEADWAY_FUZZ_TOKEN']}"


@schemathesis.hook
def map_query(context, query):
    if context.operation.path != POLL:
        return query
    query = dict(query or {})
    wait = query.get("timeout_ms")
    if not isinstance(wait, int) or wait < 0 or wait > WAIT_MS:
        query["timeout_ms"] = WAIT_MS
    return query


# The fields of each body whose refusal (422) depends on the server, not on the request:
# - `kind`: the kinds the server runs (its registry, with the operator's command kinds, which a
#   SIGHUP reloads; GET /api/v1/kinds lists them);
# - `max_attempts`: at most what the kind allows;
# - any field the body does not have: a parameter of the kind (each kind checks its `params`
#   with its own rules, which GET /api/v1/kinds describes; a schedule changed is checked
#   against its stored kind);
# - `cron`, `timezone`: what each cron field may hold (ranges that do not go backwards, a day
#   that some month has) is a grammar past JSON Schema, and the time zones are the database the
#   server reads;
# - `run_after`: more than a year ahead of the server's clock;
# - a webhook's `url`: its host must resolve (DNS), to public addresses only;
# - a webhook's `kinds`: the kinds the server runs;
# - a limit's `kind` (a kind that runs here) and `param` (one of that kind's parameters);
# - a job's `after`: jobs of the caller's that exist.
KIND_FIELDS = {"kind", "max_attempts"}
CLOCK_FIELDS = {"cron", "timezone"}
JOB_BODY = {"kind", "params", "run_after", "max_attempts", "after", "when"}
SCHEDULE_BODY = {
    "name", "kind", "params", "cron", "timezone", "enabled", "overlap", "catch_up", "max_attempts",
}
# operation: (fields the server's state decides, the body's fields, whether any other field
# is a kind's parameter)
DEPENDS_ON_THE_SERVER = {
    "createJob": (KIND_FIELDS | {"run_after", "after"}, JOB_BODY, True),
    "createSchedule": (KIND_FIELDS | CLOCK_FIELDS, SCHEDULE_BODY, True),
    "changeSchedule": (KIND_FIELDS | CLOCK_FIELDS, SCHEDULE_BODY, True),
    "previewSchedule": (CLOCK_FIELDS, set(), False),
    "createWebhook": ({"kinds", "url"}, set(), False),
    "setLimit": ({"kind", "param"}, set(), False),
}
# Of those, the ones refused for other reasons too, with the words of the refusals that depend
# on the server.
ONLY_WHEN = {
    "run_after": ("ahead",),
    "param": ("has no parameter",),
    "after": ("there is no job",),
    "url": ("does not resolve", "which webhooks may not reach"),
}


# A field name the server cannot read (a control character in a multipart header): refused
# (400) if it comes before the file, never read if it comes after it, as the upload is the
# first file and the rest of the body is not looked at.
UNREADABLE_NAME = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def unread_after_the_file(failure, case):
    """A multipart upload whose only fault is a field name after its file: not read."""
    if "propertyNames" not in failure.message or not isinstance(case.body, dict):
        return False
    names = list(case.body)
    if "file" not in names:
        return False
    return not any(UNREADABLE_NAME.search(n) for n in names[: names.index("file")])


# A page of the history `before` or `after` a job: the job must be one of the caller's (400
# otherwise, whatever the id).
NO_SUCH_JOB = "must be the id of one of your jobs"


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but a valid request refused for what the server has, and the
    fields of an upload's body the server does not read."""
    operation = case.operation.definition.raw.get("operationId")
    if "negative_data_rejection" in type(failure).checks and operation == "createUpload":
        return not unread_after_the_file(failure, case)
    if "positive_data_acceptance" not in type(failure).checks:
        return True
    try:
        refusal = response.json()
    except ValueError:
        return True
    if response.status_code == 400:
        return not (operation == "listJobs" and NO_SUCH_JOB in refusal.get("message", ""))
    rule = DEPENDS_ON_THE_SERVER.get(operation)
    if response.status_code != 422 or rule is None:
        return True
    excused, body, params = rule
    if refusal.get("code") == "unknown_kind":
        return "kind" not in excused
    fields = refusal.get("fields") or []
    if not fields:
        return True
    for field in fields:
        name, message = field.get("field", ""), field.get("message", "")
        if name in excused:
            words = ONLY_WHEN.get(name)
            if words is None or any(w in message for w in words):
                continue
            return True
        if params and name not in body:
            continue
        return True
    return False

# Headway's messages in English: the reference every other language is checked against.
# The format, and how to add a language: docs/I18N.md.

-language-name = English
-plural-rule = one-other
-ordinal-rule = english
-group-separator = ,
-decimal-separator = .
-accept = en
-brand = Headway

## The header and the shell of every page.

skip-to-content = Skip to content
nav-label = Pages
nav-jobs = Jobs
nav-schedules = Schedules
nav-system = System
nav-users = Users
nav-settings = Settings
account-signed-in-as = Signed in as
account-sign-out = Sign out
lang-switch = Language: { $name }
lang-switch-to = Show the pages in { $name }
lang-unknown = There is no language { $tag }: Headway speaks { $known }.
page-title = { -brand }
page-title-of = { $page } · { -brand }

## [browser] The header's live parts.

connection-connecting = connecting
connection-live = live
connection-reconnecting = reconnecting
connection-offline = offline
theme-switch-title = Switch the colour theme
theme-system = system
theme-light = light
theme-dark = dark
theme-switch-label = Theme: { $current }. Switch to { $next }
notify-blocked = Notifications blocked by the browser
notify-on = Notifying when jobs finish
notify-off = Notify me when jobs finish

## [browser] Dates, times and durations. $year is written as it is; $month (1–12) and $day are
## numbers; $hour, $minute and $second have two digits.

date-time = { $month ->
        [1] Jan
        [2] Feb
        [3] Mar
        [4] Apr
        [5] May
        [6] Jun
        [7] Jul
        [8] Aug
        [9] Sep
        [10] Oct
        [11] Nov
       *[12] Dec
    } { $day }, { $year }, { $hour }:{ $minute }:{ $second }
date-time-short = { $month ->
        [1] Jan
        [2] Feb
        [3] Mar
        [4] Apr
        [5] May
        [6] Jun
        [7] Jul
        [8] Aug
        [9] Sep
        [10] Oct
        [11] Nov
       *[12] Dec
    } { $day }, { $hour }:{ $minute }
time-clock = { $hour }:{ $minute }:{ $second }
time-minute = { $hour }:{ $minute }
# A time shown in UTC because the reader's time zone is not known.
time-in-utc = { $time } UTC
ago-now = just now
ago-seconds = { $n } s ago
ago-minutes = { $n } min ago
ago-hours = { $n } h ago
ago-days = { $n ->
        [one] yesterday
       *[other] { $n } days ago
    }
in-seconds = in { $n } s
in-minutes = in { $n } min
in-hours = in { $n } h
in-days = { $n ->
        [one] tomorrow
       *[other] in { $n } days
    }
duration-ms = { $ms }ms
duration-s = { $s }s
duration-m-s = { $m }m { $s }s
duration-h-m = { $h }h { $m }m
zone-note = Times in { $zone } (UTC{ $offset }).
zone-note-utc = Times in UTC.
zone-note-choose = Choose your time zone

## Texts many pages share.

loading = Loading…
back-to-jobs = Back to your jobs
refresh-the-page = refresh the page

## The settings page.

settings-signed-in-as = Signed in as { $name }, { $role }.
settings-display-title = Language and time
settings-language = Language
settings-language-save = Save language
settings-zone = Time zone
settings-zone-automatic = Automatic: the browser's (UTC without JavaScript)
settings-zone-browser = { $zone } (this browser's)
settings-zone-hint = Where the browser does not run the page's script, times are shown in the zone chosen here.
settings-zone-save = Save time zone
zone-unknown = { $zone } is not a time zone Headway knows (e.g. Europe/Paris, UTC).
settings-tokens-title = API tokens
settings-tokens-hint-1 = A token acts as you in scripts: send it as
settings-tokens-hint-2 = . A read token can look but never change anything. What
settings-tokens-hint-3 = reports with a write token of yours shows here, live.
settings-api-reference-hint = What the API offers, with every endpoint's parameters and answers:
api-reference-title = API reference
webhooks-title = Webhooks
settings-webhooks-hint = Tell other systems (a chat, a CI, your own service) when jobs end:
settings-webhooks-link = manage webhooks

## [browser] Roles, and the settings page's tokens.

role-viewer = viewer
role-member = member
role-operator = operator
role-admin = admin
actions = Actions
token-copy-now = Copy the token { $name } now: it is not shown again.
token-copy = Copy
token-copied = Copied ✓
token-in-a-shell = In a shell, for headway run and the other commands:
token-revoked = revoked
token-last-used = last used
token-never-used = never used
token-revoke = Revoke
token-name = Name
token-scope = Scope
token-scope-read = read: look only
token-scope-write = write: act as you
token-scope-read-short = read
token-scope-write-short = write
token-create = Create token
token-caption = Your API tokens
token-created = Created
token-use = Use
token-older = Older tokens →
token-newest = ← Newest tokens

## [browser] The tab's title, and what is said when jobs finish.

tab-title-running = ({ $pct }%) { $n } running · { $page }

## Signing in, the users page, the page that is not there, the page of a failure, bulk actions.

sign-in = Sign in
sign-in-failed = Wrong user name or password.
not-found-title = Not found
not-found-text = There is nothing at this address.
not-found-back = Back to the dashboard
server-failed-title = Something went wrong
server-failed-text = The server failed while making this page. The failure has been logged; reloading the page may help, or try again later.
users-hint = A new password or disabling an account ends its sessions, open pages included. Passwords are set here when adding, or with
users-hint-end = .
# What follows a command inside a sentence: nothing before the full stop in English, a space in
# Chinese.
users-hint-after-code = {""}
back = Back
bulk-title = Bulk action
bulk-choose = Choose Cancel, Re-run or Set priority for the selected jobs.
bulk-none-selected = No jobs of yours are selected: pick some in the list first.
bulk-cancel-question = { $n ->
        [one] Cancel 1 job?
       *[other] Cancel { $n } jobs?
    }
bulk-cancel-button = { $n ->
        [one] Cancel 1 job
       *[other] Cancel { $n } jobs
    }
bulk-cancel-hint = Queued jobs will not run; running ones are asked to stop. Jobs that have already ended stay as they are.
bulk-rerun-question = { $n ->
        [one] Re-run 1 job?
       *[other] Re-run { $n } jobs?
    }
bulk-rerun-button = { $n ->
        [one] Re-run 1 job
       *[other] Re-run { $n } jobs
    }
bulk-rerun-hint = Each one starts again as a new job, with the same kind, parameters and time limit.
bulk-priority-question = { $n ->
        [one] Change the priority of 1 job?
       *[other] Change the priority of { $n } jobs?
    }
bulk-priority-button = { $n ->
        [one] Set the priority of 1 job
       *[other] Set the priority of { $n } jobs
    }
bulk-priority-hint = Only queued jobs change; a job's owner may set up to its kind's priority, an operator any. A job keeps the time it has waited.

## [browser] The users page's list.

user-name = User name
password = Password
role = Role
save = Save
user-disabled = disabled
user-enabled = enabled
user-role-of = Role of { $name }
user-save-role-of = the role of { $name }
user-enable = Enable
user-disable = Disable
user-add = Add user
users-caption = Accounts
user-state = State
user-added = Added

## [browser] The system page's words that other pages use too.

percent = { $n }%
system-resume = Resume
system-pause = Pause
system-every-kind = every kind
system-kind = Kind
# A limit in words (the list of limits).
limit-at-once = at most { $max } at once
limit-a-second = { $max } a second
limit-a-minute = { $max } a minute
limit-an-hour = { $max } an hour
limit-a-day = { $max } a day
limit-per-span = { $max } per { $span }
limit-per-user = { $limit } per user
limit-per-param = { $limit } per { $param }
limit-every-job = every job
limit-no-key = (none)

## [browser /system] The system page (an island: all of it is rendered in the browser too). Only
## the pages under /system carry these texts.

system-as-of = These figures are as of the page's rendering:
system-refresh = refresh for newer ones
system-now-and-last-hour = Now and in the last hour
system-queued = Queued
system-running = Running
system-finished-last-hour = Finished in the last hour
system-failed-last-hour = Failed in the last hour
system-cancelled-last-hour = Cancelled in the last hour
system-failure-rate = Failure rate (last hour, cancels aside)
system-open-streams = Open streams (this process)
system-events-per-second = Events per second (last minute)
system-store-size = Store size
system-paused-by = paused by { $name } since
system-kind-starts-jobs = starts jobs
system-resume-label = Resume { $what }
system-pause-label = Pause { $what }
system-every-kind-paused = Every kind is paused by { $name } since
system-every-kind-paused-end = : no job starts until it is resumed.
system-every-kind-runs = Every kind runs, unless paused on its own below.
system-by-kind = By kind
system-pause-hint = Operators and admins can pause a kind here, or with
system-pause-hint-end = .
system-kinds-caption = Queue depth, running jobs, the last hour's jobs and their timings, by kind
system-finished-1h = Finished (1 h)
system-failed-1h = Failed (1 h)
system-cancelled-1h = Cancelled (1 h)
system-in-queue = In queue p50 / p95
system-run-time = Run time p50 / p95
system-processes-alive = Processes alive: { $n }
system-processes-caption = The Headway processes sharing this store
system-process = Process
system-host-pid = Host / PID
system-build = Build
system-up-for = Up for
system-last-heartbeat = Last heartbeat
system-this-one = (this one)
# What a process does: a server's own (`--role`), or a worker on another machine.
system-process-role = { $role ->
        [all] web and jobs
        [web] web
        [worker] jobs
        [remote] worker
       *[other] { $role }
    }
system-ago = { $span } ago
system-workers = Workers on other machines: { $n }
system-workers-caption = The workers that take this deployment's jobs (headway worker)
system-workers-none = No worker is connected. One connects with
system-workers-none-end = (docs/WORKERS.md).
system-worker = Worker
system-worker-state = State
system-worker-running = Running / slots
system-worker-tags = Tags
system-worker-kinds = Kinds
system-worker-last-poll = Last poll
system-worker-actions = Actions
system-worker-active = taking work
system-worker-draining = draining: takes no more
system-worker-disabled = disabled
system-worker-drain = Drain
system-worker-disable = Disable
system-worker-enable = Enable
system-worker-drain-label = Drain { $name }: it finishes what it runs and takes no more
system-worker-disable-label = Disable { $name }: what it runs is taken back
system-worker-enable-label = Enable { $name }
system-limits = Limits
system-limits-none = No limit is in force.
system-limits-caption = The limits in force, with their busiest keys
system-limit-declared = declared
system-limit-set-by = set by { $name }
system-limit-declared-max = declared: { $max }
system-limit-keys-in-use = { $n ->
        [one] { $n } key in use
       *[other] { $n } keys in use
    }
system-limit-running = { $n } running
system-limit-in-window = { $n } in the window
system-limit-key-sep = :{ " " }
system-limit-next-start = , next start
system-limit-remove = Remove
system-limit-remove-label = Remove the limit { $limit } on { $kind }
system-limit-form = Set a limit
system-limit-max = At most
system-limit-counting = Of
system-limit-at-once = jobs running at once
system-limit-a-second = starts a second
system-limit-a-minute = starts a minute
system-limit-an-hour = starts an hour
system-limit-a-day = starts a day
system-limit-per = Counted
system-limit-per-kind = over the whole kind
system-limit-per-owner = for each user
system-limit-per-param = for each value of a parameter
system-limit-param = Parameter (when counted for each of its values)
system-limit-submit = Set limit
system-limit-hint = Operators and admins can set a limit here, or with the API (POST /api/v1/limits).

## [browser] A job's status, as people read it.

# Between the items of a list: "failed, cancelled".
list-separator = {", "}
# The end of a sentence that ends with a link.
sentence-end = .
status-queued = queued
status-running = running
status-cancelling = cancelling
status-succeeded = succeeded
status-succeeded-warnings = succeeded with warnings
status-failed = failed
status-cancelled = cancelled
status-interrupted = interrupted
attempts = Attempts
# A job's priority, and its five levels, lowest first.
priority = Priority
priority-lowest = lowest
priority-low = low
priority-normal = normal
priority-high = high
priority-urgent = urgent
in-span = in { $span }
without-js-refresh = Without JavaScript,
# after "Without JavaScript," and before a link "refresh the page"
refresh-to-see = to see the latest state.

## The schedules page's own texts.

schedules-hint = A schedule starts a job of a kind on a cron expression, as its owner. Make one from a kind's form on
schedules-hint-dashboard = the dashboard
schedules-hint-repeat = Repeat…
# Between words and a link: a space in English, none in Chinese.
schedules-hint-gap = {" "}
schedules-hint-open = {" "}(
schedules-hint-close = ).
schedule-edit-title = Edit a schedule
schedule-title = Schedule
schedule-all = ← All schedules
schedule-edit-heading = Edit the { $kind } schedule
schedule-enabled-label = Enabled (fires at its times)

## [browser] The schedules' list, which follows the stream.

schedule-delete-confirm = Delete this schedule? Its jobs stay in the history.
schedules-none = No schedules yet.
schedule-held = held
schedule-enabled = enabled
schedule-paused = paused
schedule-none-yet = none yet
schedule-pause-label = Pause the { $kind } schedule
schedule-resume-label = Resume the { $kind } schedule
schedule-run-now = Run now
schedule-run-now-label = Run the { $kind } schedule now
schedule-edit = Edit
schedule-edit-label = Edit the { $kind } schedule
schedule-delete = Delete
schedule-delete-label = Delete the { $kind } schedule
schedule-owner = owner: { $name }
schedule-not-firing = Not firing:
schedule-next = Next
schedule-last-job = Last job:
schedule-all-jobs = all its jobs
schedule-last-skip = Last time it started nothing:

## The webhooks pages.

webhooks-hint = When a job ends, Headway POSTs what became of it to each webhook that hears of it, signed with the webhook's secret, and tries again for a day until it is answered with a 2xx. A Slack-style webhook gets one line of text. See
webhooks-hint-end = to check the signature.
webhooks-none = No webhooks yet.
webhook-every-end = every end
webhook-everyones-jobs = everyone's jobs
webhook-owners-jobs = its owner's jobs
webhook-hears = Hears of { $ends } of { $kinds }, of { $whose }; sends { $format } bodies.
webhook-disabled = Disabled.
webhook-failing-since = Enabled; its deliveries fail since
webhook-failing-since-end = .
webhook-enabled = Enabled.
webhook-title = Webhook
webhook-back = Back to the webhooks
webhook-send-test = Send a test
webhook-refresh = Refresh
webhook-deliveries = Recent deliveries
webhook-made = Made
webhook-event = Event
webhook-answer = Answer
webhook-next-attempt = Next attempt
webhook-not-sent-yet = not sent yet
delivery-pending = pending
delivery-delivered = delivered
delivery-failed = failed
webhook-resend = Resend
webhook-resend-label = Resend the delivery made { $made }
webhook-add-title = Add a webhook
webhook-url = URL to POST to
webhook-ends = Ends it hears of (none ticked: every end)
webhook-kinds = Kinds, separated by commas (empty: every kind)
webhook-body = Body
webhook-body-json = Headway's JSON
webhook-body-slack = Slack-style text
webhook-whose = Whose jobs
webhook-whose-mine = Mine
webhook-whose-all = Everyone's
webhook-secret = Secret (copy it now: it is not shown again)
webhook-add = Add webhook

## [browser] Notices, toasts, announcements and notifications of finished jobs.

notice-label = Notice from the operator
notice-dismiss = Dismiss
outdated = A new version of Headway is available.
outdated-reload = Reload
close = Close
toast-job = { $kind } job { $status }
toast-job-error = { $kind } job { $status }: { $error }
count-of-status = { $n } { $status }
jobs-of-status = { $n } jobs { $status }
jobs-finished-burst = { $n } jobs finished: { $parts }
notify-open-job = Open the job

## The API reference's own words (the document's descriptions are the API's, in English).

api-intro-1 = The JSON API for scripts, under
api-intro-2 = . Scripts present an API token
api-intro-3 = as
api-intro-4 = . The same description as an OpenAPI 3.1 document, which clients can be generated from:
api-intro-5 = .
api-resources = Resources
api-errors = Errors
api-schemas = Schemas
api-required = required
api-optional = optional
api-parameters = Parameters
api-in = In
api-type = Type
api-required-col = Required
api-description = Description
api-for-example = For example:
api-request-body = Request body
api-answers = Answers
api-status = Status
api-meaning = Meaning
api-body = Body
api-and-the = And the
api-every-operation-errors = errors every operation may answer
api-and-the-end = .
api-none = none
api-errors-intro-1 = Every error is JSON with the status its
api-errors-intro-2 = stands for.
api-errors-intro-3 = Every operation may answer { $codes }; each operation lists the others it may answer.
api-error-answers = Error answers
api-error = Error
api-fields-of = Fields of { $name }
api-field = Field
api-type-is = Type:
api-file-bytes = file bytes
api-any-json = any JSON

## Errors, as the pages show them: a sentence per error code, for a message no catalog has.

error-bad-request = The request could not be read
error-invalid-params = A value is not acceptable
error-unknown-kind = There is no such kind of job
error-not-found = Not found
error-method-not-allowed = This address does not take that method
error-unauthorized = Signing in is needed
error-forbidden = You may not do this
error-conflict = This conflicts with the job's current state
error-payload-too-large = That is too large
error-request-timeout = The request did not arrive in time
error-misdirected-request = This server does not answer for that host
error-too-many-requests = Too many requests: try again in a moment
error-unavailable = The server is not available right now
error-internal = Something went wrong on the server; it has been logged
error-with-detail = { $sentence } ({ $detail })
field-error = { $field }: { $message }
theme-unknown = theme must be light, dark or system
token-scope-unknown = read or write
role-unknown = viewer, member, operator or admin
not-a-choice = { $value } is not one of the choices
bulk-unknown-action = unknown bulk action { $action }
system-forbidden = The system page is shown to operators and admins (or to anyone on a server that listens on loopback only).
rows-ids-bounds = Name between 1 and { $max } jobs by id, separated by commas.

## [browser] What the page says itself when a request it sent got no answer it can use.

answer-unreachable = the server could not be reached; check the connection and try again
answer-unreadable = the server's answer could not be read: { $detail }
answer-status = the server answered { $status }

## Schedules' times in words: what the engine says of a cron expression
## (engine/src/schedules/cron/words.rs), part by part. $time is written 02:00 or 06:30:45;
## $minute has two digits; $days and $months are lists made with cron-list-and.

cron-at = at { $time }
cron-every-day-at = every day { $at }
cron-days-at = { $days } { $at }
cron-often-on = { $often }, { $days }
cron-in-months = { $when }, in { $months }
cron-every-seconds = { $n ->
        [1] every second
       *[other] every { $n } seconds
    }
cron-every-minutes = { $n ->
        [1] every minute
       *[other] every { $n } minutes
    }
cron-every-hours = { $n ->
        [1] every hour
       *[other] every { $n } hours
    }
cron-at-second = { $often } at second { $second }
cron-hourly-at = { $often } at :{ $minute }
cron-fields = at second { $second }, minute { $minute }, hour { $hour }
cron-every-weekday = every weekday
cron-on-weekdays = on weekdays
cron-weekend = every Saturday and Sunday
cron-every-day-named = every { $days }
cron-on-day-named = on { $days }
cron-day-of-month = on day { $day } of the month
cron-days-of-month = on days { $days } of the month
cron-day-or-weekday = { $day } and { $weekday }
cron-list-and = { $most } and { $last }
cron-in-zone = { $when }, { $zone }
cron-sunday = Sunday
cron-monday = Monday
cron-tuesday = Tuesday
cron-wednesday = Wednesday
cron-thursday = Thursday
cron-friday = Friday
cron-saturday = Saturday
cron-january = January
cron-february = February
cron-march = March
cron-april = April
cron-may = May
cron-june = June
cron-july = July
cron-august = August
cron-september = September
cron-october = October
cron-november = November
cron-december = December

## The engine's messages, in its own English words: a message of the engine that reads as one of
## these is translated with the values in it (app/src/i18n/errors.rs).

engine-required = is required
engine-from-to = must be from { $lo } to { $hi }
engine-at-least = must be at least { $lo }
engine-at-most = must be at most { $hi }
engine-whole-number = must be a whole number
engine-whole-number-from-to = must be a whole number from { $lo } to { $hi }
engine-number = must be a number
engine-true-or-false = must be true or false
engine-string = must be a string
engine-no-nul = may not contain a NUL character
engine-one-of = must be one of: { $choices }
engine-pattern = must match the pattern { $pattern }
engine-file-type = must be a file of type { $types }
engine-upload-id = must be an upload's id (POST /api/v1/uploads)
engine-not-a-parameter = is not a parameter of this command (its parameters: { $names })
engine-json-object = must be a JSON object, not { $value }
engine-no-such-job = no such job
engine-attempts-whole = must be a whole number of attempts, 1 for no retry
engine-priority-levels = a priority is one of "lowest", "low", "normal", "high", "urgent" (or 0 to 4)
engine-priority-above = a { $role } may start { $kind } jobs at priority { $default } or below, not { $asked }: only an operator or an admin may raise a job above its kind's priority
engine-limit-max = a limit allows from 1 to 1000000 jobs, not { $max }
engine-limit-window = a rate's window is from 1 second to a day (1000 to 86400000 ms), not { $ms }
engine-limit-param-name = a limit is keyed by a parameter's name (letters, digits and _, at most 64), not { $name }
engine-limit-no-kind = there is no kind named { $kind } (see GET /api/v1/kinds)
engine-limit-elsewhere = jobs of { $kind } run elsewhere: no limit applies to them
engine-limit-no-param = { $kind } has no parameter { $param }; its parameters are: { $names }
engine-limit-too-many = { $n } limits are set already, the most there may be: remove one first
engine-after-too-many = a job may start after at most { $max } jobs
engine-after-unknown = there is no job { $id } of yours
engine-after-never = job { $id } ended { $status }: a job to run after it succeeded would never start
start-after-bad = not a job id: { $id }
start-when-bad = a job starts once the jobs before it succeed, or once they end
engine-priority-not-queued = only a queued job's priority can change: this one is { $status }
engine-attempts-at-most = must be from 1 to { $n }: { $kind } allows at most { $n } attempts
engine-attempts-none = { $kind } jobs are not tried again: max_attempts can only be 1
engine-max-length = may have at most { $max } characters, not { $n }
engine-no-upload = there is no upload or output "{ $id }" you may use; upload the file again
engine-not-a-directory = is not a directory
engine-not-a-file = is not a file
engine-file-empty = the file is empty
engine-unreachable = the server could not be reached; check the connection and try again
engine-internal = something went wrong on the server; it has been logged
engine-webhook-needs-url = a webhook needs the URL to POST to
engine-webhook-url-scheme = the URL must start with http:// or https:// and name a host
engine-not-a-time = "{ $text }" is not a time: use a date (2026-11-24), a date and time in UTC (2026-11-24T14:00) or an RFC 3339 time (2026-11-24T14:00:00+01:00)
engine-time-out-of-range = is out of range: { $reason }
engine-schedule-id = must be a schedule's id
engine-not-regular = is not a regular file (a pipe, a device or a socket)
engine-name-a-file = must name a file, not a folder
engine-folder-missing = is in a folder that does not exist
engine-inside-not-folder = is inside something that is not a folder
engine-database-link = is a symbolic link; name the database file itself
engine-database-folder = is a folder, not a database file
engine-cannot-open = cannot be opened: { $reason }
engine-cannot-read = cannot be read: { $reason }
engine-data-folder-unusable = cannot be checked: the data folder { $folder } is unusable ({ $reason })
engine-shared-folder-unusable = cannot be checked: the shared folder is unusable ({ $reason })
engine-own-folder-unusable = cannot be checked: your folder is unusable ({ $reason })
engine-shared-read-only = is in the shared folder ({ $folder }/), which members may only read
engine-outside-data-folder = leads outside the data folder through a symbolic link
engine-outside-own-folder = leads outside your folder through a symbolic link
engine-dangling-link = is a symbolic link to nothing
engine-does-not-exist = does not exist
engine-permission-denied = cannot be read (permission denied)
engine-path-empty = must not be empty (use . for the whole folder)
engine-path-absolute = must be relative to the data folder, not an absolute path
engine-path-dot-dot = must not contain `..`
engine-upload-empty = { $name } is empty
engine-upload-not-csv = { $name } is not a CSV file (it must be one of: { $accept })
engine-upload-looks-like = { $name } looks like { $seems ->
        [zip] a zip archive
        [gzip] a gzip archive
       *[binary] binary data
    }, not a CSV file; upload the file itself, not an archive
engine-not-your-upload = { $named } is neither one of your uploads (send the file to POST /api/v1/uploads first) nor an output of one of your jobs
engine-upload-unreadable = the file cannot be read ({ $reason }); upload it again
engine-not-utf8 = is not UTF-8 text (invalid bytes on line { $line }); save it as UTF-8 and try again
engine-csv-both-sources = give an uploaded file or a file in the data folder, not both
engine-csv-no-source = choose a CSV file to upload (or name a file in the data folder)
engine-csv-into-itself = must not be the CSV file itself
engine-table-name = must start with a letter or _ and contain only letters, digits and _
engine-table-length = must be at most { $max } characters long
engine-table-sqlite = must not start with sqlite_ (SQLite reserves those names)
engine-webhook-url-length = a URL is at most { $max } characters
engine-webhook-not-a-url = { $text } is not a URL: { $reason }
engine-webhook-url-credentials = put credentials in the secret, not the URL (it is shown on the webhooks page)
engine-webhook-no-such-host = { $host } does not resolve: { $reason }
engine-webhook-private-address = { $ip } is a loopback, private or link-local address, which webhooks may not reach
engine-webhook-not-an-end = { $status } is not an end: name succeeded, failed, cancelled or interrupted
engine-webhook-kinds-at-most = name at most { $max } kinds
engine-webhook-no-such-kind = there is no kind { $kind }
engine-webhook-secret = a secret is 16 to 200 printable characters without spaces (leave it out and Headway makes one)
engine-webhook-disabled-test = the webhook is disabled: enable it to send a test
engine-webhook-disabled-resend = the webhook is disabled: enable it to resend
engine-webhook-tests-waiting = { $n } tests wait to be sent to this webhook already
engine-run-after-number = run_after must be a whole number of Unix milliseconds or an RFC 3339 time
engine-run-after-type = run_after must be an RFC 3339 time ("2026-11-24T14:00:00Z") or Unix milliseconds
engine-not-an-instant = "{ $text }" is not an RFC 3339 time with its offset, such as 2026-11-24T14:00:00Z
engine-not-a-wall-clock = "{ $text }" is not a date and time such as 2026-11-24T14:00
engine-no-such-local-time = { $text } does not exist in { $zone }
engine-not-a-zone = "{ $name }" is not an IANA time zone such as Europe/Paris or UTC
engine-too-far-ahead = run_after is more than a year and a day ahead; start the job nearer its time
engine-timeout-ms = must be a whole number of milliseconds from 1 to { $max }
engine-worker-token-only-works = a worker token may only register its workers, take their work and report on it (/api/v1/workers…)
engine-workers-need-worker-token = workers connect with a worker token (Authorization: Bearer hwk_…), which an admin makes (headway workers token NAME, or POST /api/v1/worker-tokens)
engine-may-not-start = a { $role } may not start jobs
engine-viewer-may-not-change-jobs = a viewer may not change jobs
engine-only-own-jobs = a { $role } may only act on their own jobs
engine-only-operator = only an operator or an admin may do this
engine-only-admin = only an admin may do this
engine-no-such-upload = no such upload
engine-viewer-may-not-change-schedules = a viewer may not change schedules
engine-only-own-schedules = a { $role } may only change their own schedules
engine-viewer-may-not-register-webhooks = a viewer may not register webhooks
engine-only-admin-hears-all = only an admin may register a webhook that hears of everyone's jobs
engine-only-owner-changes-webhook = only its owner or an admin may change a webhook
engine-token-only-reads = this token may only read
engine-operator-needs-token = operator requests need `Authorization: Bearer <token>` (see admin.token next to the database)
engine-no-such-schedule = no such schedule
engine-bulk-no-ids = `ids` is empty

## [browser] A job's row and bar: status, progress, pace, place in line, times.

job-cancel = Cancel
job-rerun = Re-run
job-rerun-failed = Re-run failed steps
job-select = Select job { $id }
job-open = Open job { $id }
job-stalled = Stalled: no progress for
job-stalled-said = { $job } job stalled
job-created = created
job-finished = finished
job-retry-in = attempt { $attempt } of { $max } in { $span }
job-retry-any-moment = attempt { $attempt } of { $max } any moment
job-starts-at = starts at { $at } · in { $span }
job-attempt = attempt { $attempt } of { $max }
job-attempt-failed = attempt { $attempt } failed: { $code }: { $message }
job-error = { $code }: { $message }
job-ran = ran { $span }
job-elapsed = elapsed { $span }
job-left = about { $span } left
rate-per-second = { $n }{ $unit }/s
rate-per-minute = { $n }{ $unit }/min
progress-of = { $current } of { $total }{ $unit } ({ $pct }%)
progress-count = { $current }{ $unit }
progress-label = { $job } job progress
progress-not-started = not started
# A workflow run's bar, counted in steps (`done` may have a decimal: a step part-way), and a
# fan-out's, counted in items.
progress-run = { $done } of { $n } steps ({ $pct }%)
progress-items = { $done } of { $n } items ({ $pct }%)
# The built-in kinds' units (a command kind's or a program's are shown as they give them).
unit-steps = steps
unit-items = items
unit-rows = rows
unit-bytes = bytes
unit-jobs = jobs

## A queued job's place in line, or what holds it back: said by the server, on a row it renders
## and when a page asks again (the browser does not need these words).

queue-every-kind-paused = ⏸ every kind is paused (by { $name } since { $since }): it starts once resumed
queue-kind-paused = ⏸ { $kind } is paused (by { $name } since { $since }): it starts once resumed
queue-place = { $n ->
        [1] next in line
        [ord-one] { $n }st in line
        [ord-two] { $n }nd in line
        [ord-few] { $n }rd in line
       *[ord-other] { $n }th in line
    }
queue-place-for = { $n ->
        [1] next in line
        [ord-one] { $n }st in line
        [ord-two] { $n }nd in line
        [ord-few] { $n }rd in line
       *[ord-other] { $n }th in line
    } for { $kind }
queue-waiting = waiting
queue-waiting-for = waiting for { $kind }
queue-waiting-for-tags = waiting for a worker with { $tags }; none connected
queue-starts-in = { $place } · starts in about { $span }
queue-starting-any-moment = { $place } · starting any moment
limit-for-key = { $limit } { $key }
queue-limit = Waiting: { $what }
queue-limit-next = Waiting: { $what }, next in { $span }
queue-limit-next-soon = Waiting: { $what }, next any moment
queue-after = { $n ->
        [one] Waiting for 1 job: { $counts }
       *[other] Waiting for { $n } jobs: { $counts }
    }
after-queued = { $n } queued
after-running = { $n } running
after-succeeded = { $n } succeeded
after-ended = { $n } ended otherwise

## The job page's own texts.

job-no-such = No such job
job-rerun-of = Re-run of
job-for-its-time = for its time
job-run-now = (run now)
job-started-by = Started by
job-a-schedule = a schedule
# An account that did something to a job, and the API token it came through.
job-by-token = { $name }, with the token “{ $token }”
job-cancelled-by = Cancelled by
job-workflow = Workflow
# A parameter that is on or off, as the job page says it.
param-yes = yes
param-no = no
job-ran-on = Ran on
job-ran-on-attempt = attempt { $n }: { $place }
# Where an attempt ran: a worker on another machine, a server's own process, or a process gone
# from the registry since.
place-worker = worker { $name } on { $host }
place-process = { $host }, process { $pid }
place-gone = process { $id } (no longer registered)
job-its-jobs = its jobs
job-time-limit = Time limit
job-priority-change = Change priority
job-error-title = Error
job-title = { $kind } job { $id }
job-all-jobs = ← All jobs
job-heading = { $kind } job
job-without-js = The bar and the log update live with JavaScript; without it,
job-details = Details
job-timeline = Timeline
filter = Filter
log-lines-match = { $n ->
        [0] No line matches.
        [one] 1 line matches.
       *[other] { $n } lines match.
    }
log-lines-match-newest = { $n } lines match; the newest { $shown } are shown.
log-filter = Log filter
log-search = Search the log
log-level = Level
log-all-levels = All levels
log-warnings-and-errors = Warnings and errors
log-errors = Errors
log-show-every-line = Show every line

## [browser] The job page's live parts: timeline, attempts, log, outputs.

attempt-span = { $start } → { $end } ({ $span })
attempt-running = { $start } → running
attempt-line = Attempt { $n } · { $span }
attempt-next = Attempt { $attempt } of { $max } starts at { $at }
log-no-lines = No log lines.
log-no-lines-yet = No log lines yet.
log-no-match = No line matches.
log-earlier-not-shown = { $n } earlier lines are not shown here:
log-download-whole = download the whole log
log-attempt = attempt { $n }
log-count = { $n ->
        [one] (1 line)
       *[other] ({ $n } lines)
    }
log-title = Log
log-following = Following the newest lines
log-paused = Paused: scrolled up
log-follow = Follow
log-download = Download the log
log-aria = Job log
outputs = Outputs
outputs-none = None.
outputs-none-yet = None yet.
result = Result

## The dashboard's counts and chart (rendered on the server, and again when jobs change).

counts-label = Jobs per status
counts-all = all
chart-summary = { $n ->
        [one] 1 job finished
       *[other] { $n } jobs finished
    } in the last hour; the longest average run in a minute was { $span }.
chart-caption = Finished per minute, last hour
chart-other-endings = other endings (hatched)
chart-average-run = average run time
chart-now = now
chart-numbers = The numbers
chart-minute = Minute ({ $zone })
chart-finished = Finished
chart-not-succeeded = Not succeeded
chart-average = Average run
chart-longest = Longest run
chart-minute-finished = { $minute }: { $n } finished
chart-minute-unsuccessful = { " " }({ $n } did not succeed)
chart-minute-runs = , average run { $avg }, longest { $max }

## [browser] Exporting the history.

export-as = Export as
export-json-lines = JSON Lines
export = Export

## The dashboard.

dashboard-cannot-show = This view cannot be shown
dashboard-show-all = Show all jobs
dashboard-none-match = No jobs match these filters.
dashboard-none-yet-start = No jobs yet: start one with New job.
dashboard-none-yet = No jobs yet.
dashboard-start-a-job = Start a job
dashboard-all-jobs = All jobs
dashboard-your-jobs = Your jobs
dashboard-last-hour = Last hour
dashboard-without-js = Progress updates live with JavaScript; without it,
bulk-all-matching = every job matching this view, not only those ticked
bulk-cancel-selected = Cancel selected…
bulk-rerun-selected = Re-run selected…
bulk-priority-selected = Set priority…
bulk-done-cancelled = { $n ->
        [one] 1 job cancelled.
       *[other] { $n } jobs cancelled.
    }
bulk-done-rerun = { $n ->
        [one] 1 job started again.
       *[other] { $n } jobs started again.
    }
bulk-not-done-cancel = { $n ->
        [one] 1 job could not be: they had already ended.
       *[other] { $n } jobs could not be: they had already ended.
    }
bulk-done-priority = { $n ->
        [one] 1 job's priority changed.
       *[other] { $n } jobs' priority changed.
    }
bulk-not-done-priority = { $n ->
        [one] 1 job kept its priority: it was no longer queued, or not yours to raise.
       *[other] { $n } jobs kept their priority: they were no longer queued, or not yours to raise.
    }
bulk-not-done-rerun = { $n ->
        [one] 1 job could not be: their parameters are no longer valid.
       *[other] { $n } jobs could not be: their parameters are no longer valid.
    }
filter-jobs = Filter jobs
filter-any = any
filter-elsewhere = { $kind } (programs elsewhere)
filter-status = Status
filter-q = Search
filter-q-placeholder = an id, a title, a kind, a parameter, an error
filter-clear = Clear
filter-one-schedule = The jobs of one schedule
filter-see-it = see it
filter-every-job = Every job
pager-newer = ← Newer
pager-older = Older →
pager-label = Pages

## The built-in kinds: a title, its description, and each parameter's label and description
## (kind-NAME-PARAM), as the engine says them in English.

kind-demo = Demo
    .description = Advances one step per interval and logs every 10 steps.
kind-demo-steps = Steps
    .description = How many steps to take.
kind-demo-interval_ms = Interval (ms)
    .description = Milliseconds between two steps.
kind-demo-log_every = Log interval
    .description = A log line every this many steps.
kind-demo-fail_attempts = Failing attempts
    .description = Its first attempts fail halfway, this many of them, to watch retries.
kind-batch = Batch
    .description = Processes generated items in parallel: each item hashes a buffer with SHA-256. Failed items are logged; the job ends with a warning if some failed and fails if all did.
kind-batch-items = Items
    .description = How many items to process.
kind-batch-item_kib = Item size (KiB)
    .description = How much data each item hashes.
kind-batch-concurrency = Concurrency
    .description = How many items are processed at the same time.
kind-batch-failure_rate = Failure rate
    .description = Probability from 0 to 1 that an item fails (the same items fail for the same seed).
kind-batch-seed = Seed
    .description = Chooses the generated data, and so which items fail.
kind-checksum = Checksum
    .description = Computes the SHA-256 of every file in a folder of the data folder and writes a sha256sum manifest to the log. Resumes after a restart.
kind-checksum-dir = Folder
    .description = Folder to hash, relative to the data folder (. for all of it).
kind-export_jobs = Export jobs
    .description = Exports your jobs that match a filter as a file to download: CSV for a spreadsheet, or JSON Lines with every detail.
kind-export_jobs-format = Format
    .description = CSV for a spreadsheet, or JSON Lines with every detail of each job.
kind-export_jobs-status = Statuses
    .description = Only jobs in these statuses (all when none is chosen).
kind-export_jobs-kind = Kind
    .description = Only jobs of this kind (all when empty).
kind-export_jobs-schedule = Schedule
    .description = Only the jobs one schedule started (its id).
kind-export_jobs-search = Search
    .description = Only jobs whose id starts with this, or whose message or error contains it.
kind-export_jobs-from = From
    .description = Only jobs created at or after this time: 2026-11-24, 2026-11-24T14:00 (UTC) or an RFC 3339 time with its offset.
kind-export_jobs-to = To
    .description = Only jobs created before this time (a date: up to the end of that day, UTC).
kind-import_csv = Import CSV
    .description = Imports a CSV file into a new SQLite table, all or nothing: the header row names the columns, rows with the wrong number of fields are skipped and logged.
kind-import_csv-upload = CSV upload
    .description = The CSV file to import, uploaded from your computer (UTF-8 text, a header row first).
kind-import_csv-file = Or a file in the data folder
    .description = Or: a CSV file already in the data folder, by its path there.
kind-import_csv-table = Table
    .description = The table to create: letters, digits and _, not starting with a digit.
kind-import_csv-database = Database
    .description = The SQLite database file, relative to the data folder; created if missing.

## [browser /new] The start form (the New job pages).

# The upload of a file parameter: its bar and what it says.
upload-sending = Uploading { $name }: { $progress }
upload-done = Uploaded { $name } ({ $size }) ✓
upload-cancelled = Upload of { $name } cancelled
upload-lost = The upload of { $name } stopped: the connection to the server was lost
upload-bar-label = Upload of the { $field } file
upload-cancel = Cancel upload
upload-of = { $sent } of { $total } ({ $pct }%)
upload-rate = { $rate }/s

start-repeat = Repeat…
start-attempts-hint = A failed attempt is tried again, up to { $n } attempts in all; 1 for no retry
start-priority-hint = Higher priorities start first; a waiting job rises one level every 10 minutes
start-at-summary = Start at…
start-after = Runs after job
start-when = Starts
start-when-succeeded = once it succeeds (cancelled if it does not)
start-when-ended = once it ends, however it ends
start-at = Start at
start-still-uploading = The file is still uploading: start once its bar is full, or cancel it
start-started = Started { $kind } ✓
start-kind = Start { $kind }
start-create-schedule = Create schedule
start-schedule-created = Schedule created: { $description }, next at
start-see-schedules = See the schedules

## The first screen: failures of the last day, the history's table; a job's parameters, Run
## again with changes; the New job page.

failures-title = Failures, last 24 hours
failures-none = No failures in the last 24 hours.
failures-last = , last
failures-no-code = no code
failures-count = { $n } ×
history-title = History
history-col-job = Status · job
history-col-progress = Progress
history-col-when = When
history-col-took = Took
history-col-who = Started by
filter-one-error = The jobs that ended with the error
job-params-none = none
job-run-again = Run again with changes…
job-then-run = Then run…
job-graph = How the steps depend on each other
job-steps-all = All of them, in the history
job-steps = Steps
job-step-of = A step of the run
job-after = Runs after
job-after-succeeded = once they all succeed
job-after-ended = once they all end, however they end
new-job-every-kind = ← Every kind
new-job-every-kind-link = Every kind
new-job-on-workers = Runs on a worker on another machine (headway worker).
new-job-on-workers-with = Runs on a worker on another machine that offers { $tags } (headway worker); it waits while none is connected.
new-job-requires = Runs only where { $tags } is offered; it waits while no such process runs.
new-job-filled = Filled in with the parameters of job
new-job-filled-end = : change what you need, then start. Secrets and files are asked for anew.
new-job-no-kind = there is no kind { $name } to start here
new-job-not-of-kind = job { $id } is not a { $kind } job

engine-not-one-of = "{ $value }" is not one of: { $choices }
engine-list-of = must be a list of: { $choices }
engine-choose-one = choose at least one
engine-name-length = a name has at most { $n } characters
engine-name-plain = a name is one line of plain text, without control characters

## [browser] The first screen's live parts, the kind picker, the keys.

new-job = New job
kind-external = External
kind-picker-label = Kinds
kind-picker-find = Find a kind
kind-picker-placeholder = e.g. import, export, demo
kind-picker-button = Find
kind-picker-none = No kind matches.
keys-title = Keys
keys-search = Search: the history's, or the kinds' on the New job page
keys-new = New job: choose a kind to start
keys-list = This list of keys
keys-close-list = Close this list
keys-close = Close
job-started = started
job-queued = queued
job-ran-for = ran for
job-who-schedule = a schedule
job-who-rerun = re-run of
job-who-program = a program
job-who-program-on = a program on { $host }
job-who-hand = by hand
active-running = Running now
active-next = Next to start
active-none-running = Nothing is running.
active-none-waiting = Nothing is waiting.
active-all-running = all { $n } running
active-all-queued = all { $n } queued
active-count = ({ $n })
## [browser /new /schedules] A schedule's name and its Repeat… fields (the New job pages, the
## schedules page).

schedule-name = Name (optional)
schedule-name-hint = Tells it from other schedules of its kind.
schedule-name-placeholder = nightly import
schedule-cron = Repeat on (cron)
schedule-cron-help = Five fields (minute hour day month weekday), six with seconds first, or @hourly, @daily, @weekly, @monthly.
schedule-zone = Time zone
schedule-overlap = While its previous job is queued or running
schedule-overlap-skip = skip this time
schedule-overlap-start = start another anyway
schedule-catch-up = Times missed while Headway was down
schedule-catch-up-skip = skip them
schedule-catch-up-one = start one job for them
schedule-next-fires = Next fire times

## [browser] Headway's words about a job as it runs and ends (model::words::jobs): a built-in
## kind's message beside the bar, and the error of a job that Headway ended. The stream brings
## them to the page as an id and values, which the browser says itself.

engine-step-of = step { $step } of { $steps }
engine-failed-on-purpose = attempt { $attempt } failed on purpose at step { $step } (fail_attempts = { $fail_attempts })
engine-items-tally = { $succeeded } succeeded, { $failed } failed
engine-items-cancelled-after = cancelled after { $done } of { $items } items: { $succeeded } succeeded, { $failed } failed
engine-all-items-failed = all { $items } items failed
engine-file-of = file { $n } of { $files }
engine-files-hashed = { $files } files, { $size }
engine-files-hashed-skipped = { $files } files, { $size }, { $skipped } skipped
engine-checking-the-file = checking the file
engine-rows-imported = { $imported ->
        [1] 1 row
       *[other] { $imported } rows
    } imported, { $skipped } skipped
engine-counting-jobs = counting the jobs to export
engine-writing-file = writing { $file }
engine-jobs-exported = { $n } jobs exported
engine-server-stopped = the server stopped while this job was running
engine-attempt-lost = the process running this attempt stopped (a crash, or it was taken for dead)
engine-timed-out = the job ran longer than its { $limit } ms timeout
engine-aborted = the job did not stop within { $grace } ms and was aborted
engine-exited = the program exited with status { $status }
engine-worker-disabled = its worker "{ $name }" was disabled by an operator
engine-worker-revoked = its worker "{ $name }" was removed: its worker token was revoked
engine-worker-gone = its worker "{ $name }" stopped polling (no poll within its { $lease } lease)
engine-too-few-items = { $ok } of { $n } items succeeded, fewer than { $percent } %
engine-run-stopped-by = step "{ $step }" { $how ->
        [cancelled] was cancelled
       *[failed] failed
    }, so the run stopped starting steps
engine-run-step-ended = step "{ $step }" { $status }
engine-run-step-ended-with = step "{ $step }" { $status }: { $error }
engine-steps-ended = { $ended } of { $steps } steps ended
engine-items-done = { $succeeded } of { $items } done, { $failed } failed

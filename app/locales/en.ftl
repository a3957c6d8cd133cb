# Headway's messages in English: the reference every other language is checked against.
# The format, and how to add a language: docs/I18N.md.

-language-name = English
-plural-rule = one-other
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

## [browser] The tab's title, and what is said when jobs finish.

tab-title-running = ({ $pct }%) { $n } running · { $page }

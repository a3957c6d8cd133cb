# Headway 的简体中文消息。格式与添加语言的方法见 docs/I18N.md。

-language-name = 中文
-plural-rule = other
-group-separator = ,
-decimal-separator = .
-accept = zh zh-CN zh-SG zh-MY zh-Hans
-accept-not = zh-TW zh-HK zh-MO zh-Hant
-brand = Headway

## The header and the shell of every page.

skip-to-content = 跳到正文
nav-label = 页面
nav-jobs = 任务
nav-schedules = 定时计划
nav-system = 系统
nav-users = 用户
nav-settings = 设置
account-signed-in-as = 当前登录：
account-sign-out = 退出登录
lang-switch = 语言：{ $name }
lang-switch-to = 以{ $name }显示页面
lang-unknown = 没有 { $tag } 这种语言：Headway 支持 { $known }。
page-title = { -brand }
page-title-of = { $page } · { -brand }

## [browser] The header's live parts.

connection-connecting = 正在连接
connection-live = 实时
connection-reconnecting = 正在重连
connection-offline = 离线
theme-switch-title = 切换配色主题
theme-system = 跟随系统
theme-light = 浅色
theme-dark = 深色
theme-switch-label = 主题：{ $current }。切换为{ $next }
notify-blocked = 浏览器已禁止通知
notify-on = 任务完成时通知我（已开启）
notify-off = 任务完成时通知我

## [browser] Dates, times and durations.

date-time = { $year }年{ $month }月{ $day }日 { $hour }:{ $minute }:{ $second }
date-time-short = { $month }月{ $day }日 { $hour }:{ $minute }
time-clock = { $hour }:{ $minute }:{ $second }
time-minute = { $hour }:{ $minute }
time-in-utc = { $time }（UTC）
ago-now = 刚刚
ago-seconds = { $n } 秒前
ago-minutes = { $n } 分钟前
ago-hours = { $n } 小时前
ago-days = { $n ->
        [1] 昨天
       *[other] { $n } 天前
    }
in-seconds = { $n } 秒后
in-minutes = { $n } 分钟后
in-hours = { $n } 小时后
in-days = { $n ->
        [1] 明天
       *[other] { $n } 天后
    }
duration-ms = { $ms } 毫秒
duration-s = { $s } 秒
duration-m-s = { $m } 分 { $s } 秒
duration-h-m = { $h } 小时 { $m } 分
zone-note = 时间以 { $zone }（UTC{ $offset }）显示。
zone-note-utc = 时间以 UTC 显示。
zone-note-choose = 选择你的时区

## Texts many pages share.

loading = 正在加载…
back-to-jobs = 返回你的任务
refresh-the-page = 刷新页面

## The settings page.

settings-signed-in-as = 当前登录：{ $name }（{ $role }）。
settings-display-title = 语言与时间
settings-language = 语言
settings-language-save = 保存语言
settings-zone = 时区
settings-zone-automatic = 自动：使用浏览器的时区（未启用 JavaScript 时为 UTC）
settings-zone-browser = { $zone }（此浏览器的时区）
settings-zone-hint = 浏览器不运行页面脚本时，时间按此处选择的时区显示。
settings-zone-save = 保存时区
zone-unknown = Headway 不认识时区 { $zone }（例如 Asia/Shanghai、UTC）。
settings-tokens-title = API 令牌
settings-tokens-hint-1 = 令牌在脚本中代表你行事：请以如下方式发送
settings-tokens-hint-2 = 。只读令牌只能查看，绝不会修改任何内容。
settings-tokens-hint-3 = 使用你的读写令牌上报的内容会实时显示在这里。
settings-api-reference-hint = API 提供的功能，以及每个端点的参数和响应：
api-reference-title = API 参考
webhooks-title = Webhook
settings-webhooks-hint = 在任务结束时通知其他系统（聊天工具、CI 或你自己的服务）：
settings-webhooks-link = 管理 Webhook

## [browser] Roles, and the settings page's tokens.

role-viewer = 查看者
role-member = 成员
role-operator = 运维
role-admin = 管理员
actions = 操作
token-copy-now = 请立即复制令牌 { $name }：它不会再次显示。
token-copy = 复制
token-copied = 已复制 ✓
token-in-a-shell = 在 shell 中供 headway run 及其他命令使用：
token-revoked = 已撤销于
token-last-used = 最近使用于
token-never-used = 从未使用
token-revoke = 撤销
token-name = 名称
token-scope = 权限范围
token-scope-read = 只读：仅可查看
token-scope-write = 读写：代表你操作
token-scope-read-short = 只读
token-scope-write-short = 读写
token-create = 创建令牌
token-caption = 你的 API 令牌
token-created = 创建时间
token-use = 使用情况
token-older = 较早的令牌 →
token-newest = ← 最新的令牌

## [browser] The tab's title, and what is said when jobs finish.

tab-title-running = （{ $pct }%）{ $n } 个运行中 · { $page }

## Signing in, the users page, the page that is not there, the page of a failure, bulk actions.

sign-in = 登录
sign-in-failed = 用户名或密码错误。
not-found-title = 未找到
not-found-text = 这个地址没有内容。
not-found-back = 返回任务面板
server-failed-title = 出错了
server-failed-text = 服务器在生成这个页面时出错。错误已记录日志；重新加载页面也许可以解决，或稍后再试。
users-hint = 设置新密码或停用账户会结束它的所有会话，包括已打开的页面。密码在添加用户时于此设置，或使用命令
users-hint-end = 设置。
users-hint-after-code = {" "}
back = 返回
bulk-title = 批量操作
bulk-choose = 请为选中的任务选择“取消”“重新运行”或“设置优先级”。
bulk-none-selected = 没有选中你的任务：请先在列表中勾选。
bulk-cancel-question = 取消 { $n } 个任务？
bulk-cancel-button = 取消 { $n } 个任务
bulk-cancel-hint = 排队中的任务将不会运行；正在运行的任务会被要求停止。已经结束的任务保持不变。
bulk-rerun-question = 重新运行 { $n } 个任务？
bulk-rerun-button = 重新运行 { $n } 个任务
bulk-rerun-hint = 每个任务都会以相同的类型、参数和时限作为新任务重新开始。
bulk-priority-question = 修改 { $n } 个任务的优先级？
bulk-priority-button = 设置 { $n } 个任务的优先级
bulk-priority-hint = 只有排队中的任务会改变；任务的所有者最多能设到其类型的优先级，运维人员不受限。任务已等待的时间照旧计算。

## [browser] The users page's list.

user-name = 用户名
password = 密码
role = 角色
save = 保存
user-disabled = 已停用
user-enabled = 已启用
user-role-of = { $name } 的角色
user-save-role-of = { $name } 的角色
user-enable = 启用
user-disable = 停用
user-add = 添加用户
users-caption = 账户
user-state = 状态
user-added = 添加时间

## [browser] The system page's words that other pages use too.

percent = { $n }%
system-resume = 恢复
system-pause = 暂停
system-every-kind = 所有类型
system-kind = 类型
# A limit in words (the list of limits).
limit-at-once = 同时最多 { $max } 个
limit-a-second = 每秒 { $max } 个
limit-a-minute = 每分钟 { $max } 个
limit-an-hour = 每小时 { $max } 个
limit-a-day = 每天 { $max } 个
limit-per-span = 每 { $span } { $max } 个
limit-per-user = 每个用户{ $limit }
limit-per-param = 每个 { $param } { $limit }
limit-every-job = 所有任务
limit-no-key = （无）

## [browser /system] The system page (an island: all of it is rendered in the browser too). Only
## the pages under /system carry these texts.

system-as-of = 这些数字截至页面生成时：
system-refresh = 刷新以查看最新数据
system-now-and-last-hour = 当前与最近一小时
system-queued = 排队中
system-running = 运行中
system-finished-last-hour = 最近一小时完成
system-failed-last-hour = 最近一小时失败
system-cancelled-last-hour = 最近一小时取消
system-failure-rate = 失败率（最近一小时，不计取消）
system-open-streams = 打开的事件流（本进程）
system-events-per-second = 每秒事件数（最近一分钟）
system-store-size = 存储大小
system-paused-by = 由 { $name } 暂停于
system-kind-starts-jobs = 正常启动任务
system-resume-label = 恢复 { $what }
system-pause-label = 暂停 { $what }
system-every-kind-paused = 所有类型已由 { $name } 暂停于
system-every-kind-paused-end = ：恢复之前不会启动任何任务。
system-every-kind-runs = 所有类型都在运行，除非在下方单独暂停。
system-by-kind = 按类型
system-pause-hint = 运维和管理员可以在这里暂停某个类型，也可以使用命令
system-pause-hint-end = 。
system-kinds-caption = 各类型的队列深度、运行中的任务、最近一小时的任务及其耗时
system-finished-1h = 完成（1 小时）
system-failed-1h = 失败（1 小时）
system-cancelled-1h = 取消（1 小时）
system-in-queue = 排队时间 p50 / p95
system-run-time = 运行时间 p50 / p95
system-processes-alive = 存活的进程：{ $n }
system-processes-caption = 共享此存储的 Headway 进程
system-process = 进程
system-host-pid = 主机 / PID
system-build = 构建
system-up-for = 已运行
system-last-heartbeat = 最近心跳
system-this-one = （本进程）
system-process-role = { $role ->
        [all] 网页与任务
        [web] 网页
        [worker] 任务
        [remote] 远程工作进程
       *[other] { $role }
    }
system-ago = { $span }前
system-workers = 其他机器上的工作节点：{ $n }
system-workers-caption = 领取本部署任务的工作节点（headway worker）
system-workers-none = 没有已连接的工作节点。可以用
system-workers-none-end = 命令连接一个（见 docs/WORKERS.md）。
system-worker = 工作节点
system-worker-state = 状态
system-worker-running = 运行中 / 槽位
system-worker-tags = 标签
system-worker-kinds = 类型
system-worker-last-poll = 最近轮询
system-worker-actions = 操作
system-worker-active = 接收任务
system-worker-draining = 排空中：不再接收
system-worker-disabled = 已停用
system-worker-drain = 排空
system-worker-disable = 停用
system-worker-enable = 启用
system-worker-drain-label = 排空 { $name }：完成正在运行的任务后不再接收
system-worker-disable-label = 停用 { $name }：收回其正在运行的任务
system-worker-enable-label = 启用 { $name }
system-limits = 限制
system-limits-none = 当前没有生效的限制。
system-limits-caption = 生效的限制及其最忙的键
system-limit-declared = 声明的
system-limit-set-by = 由 { $name } 设置于
system-limit-declared-max = 声明值：{ $max }
system-limit-keys-in-use = 使用中的键：{ $n } 个
system-limit-running = { $n } 个运行中
system-limit-in-window = 窗口内 { $n } 个
system-limit-key-sep = ：
system-limit-next-start = ，下一个开始于
system-limit-remove = 移除
system-limit-remove-label = 移除 { $kind } 的限制：{ $limit }
system-limit-form = 设置限制
system-limit-max = 最多
system-limit-counting = 计数对象
system-limit-at-once = 同时运行的任务
system-limit-a-second = 每秒开始的任务
system-limit-a-minute = 每分钟开始的任务
system-limit-an-hour = 每小时开始的任务
system-limit-a-day = 每天开始的任务
system-limit-per = 计数范围
system-limit-per-kind = 整个类型
system-limit-per-owner = 每个用户分别计数
system-limit-per-param = 参数的每个值分别计数
system-limit-param = 参数（按其每个值分别计数时）
system-limit-submit = 设置限制
system-limit-hint = 运维和管理员可以在这里设置限制，也可以通过 API（POST /api/v1/limits）。

## [browser] A job's status, as people read it.

# Between the items of a list: "failed, cancelled".
list-separator = 、
# The end of a sentence that ends with a link.
sentence-end = 。
status-queued = 排队中
status-running = 运行中
status-cancelling = 正在取消
status-succeeded = 成功
status-succeeded-warnings = 成功，有警告
status-failed = 失败
status-cancelled = 已取消
status-interrupted = 已中断
attempts = 各次尝试
priority = 优先级
priority-lowest = 最低
priority-low = 低
priority-normal = 普通
priority-high = 高
priority-urgent = 紧急
in-span = { $span }后
without-js-refresh = 未启用 JavaScript 时，请
refresh-to-see = 以查看最新状态。

## The schedules page's own texts.

schedules-hint = 定时计划会按 cron 表达式，以其所有者的身份启动某一类型的任务。创建方法：在
schedules-hint-dashboard = 任务面板的类型表单中选择
schedules-hint-repeat = 重复…
schedules-hint-gap = {""}
schedules-hint-open = （
schedules-hint-close = ）。
schedule-edit-title = 编辑定时计划
schedule-title = 定时计划
schedule-all = ← 全部定时计划
schedule-edit-heading = 编辑 { $kind } 的定时计划
schedule-enabled-label = 启用（按时触发）

## [browser] The schedules' list, which follows the stream.

schedule-delete-confirm = 删除这个定时计划？它的任务仍保留在历史中。
schedules-none = 还没有定时计划。
schedule-held = 已搁置
schedule-enabled = 已启用
schedule-paused = 已暂停
schedule-none-yet = 暂无
schedule-pause-label = 暂停 { $kind } 的定时计划
schedule-resume-label = 恢复 { $kind } 的定时计划
schedule-run-now = 立即运行
schedule-run-now-label = 立即运行 { $kind } 的定时计划
schedule-edit = 编辑
schedule-edit-label = 编辑 { $kind } 的定时计划
schedule-delete = 删除
schedule-delete-label = 删除 { $kind } 的定时计划
schedule-owner = 所有者：{ $name }
schedule-not-firing = 未触发：
schedule-next = 下次
schedule-last-job = 上一个任务：
schedule-all-jobs = 它的全部任务
schedule-last-skip = 上次未启动任何任务：

## The webhooks pages.

webhooks-hint = 任务结束时，Headway 会把任务的结果 POST 给每个关注它的 Webhook，并用该 Webhook 的密钥签名；在收到 2xx 响应之前，会在一天内不断重试。Slack 风格的 Webhook 只收到一行文字。校验签名的方法见
webhooks-hint-end = 。
webhooks-none = 还没有 Webhook。
webhook-every-end = 任何结束状态
webhook-everyones-jobs = 所有人的任务
webhook-owners-jobs = 其所有者的任务
webhook-hears = 关注{ $whose }中{ $kinds }的{ $ends }；发送{ $format ->
        [slack] Slack 风格的文本
       *[json] Headway 的 JSON
    }。
webhook-disabled = 已停用。
webhook-failing-since = 已启用；投递失败开始于
webhook-failing-since-end = 。
webhook-enabled = 已启用。
webhook-title = Webhook
webhook-back = 返回 Webhook 列表
webhook-send-test = 发送测试
webhook-refresh = 刷新
webhook-deliveries = 最近的投递
webhook-made = 创建时间
webhook-event = 事件
webhook-answer = 响应
webhook-next-attempt = 下次尝试
webhook-not-sent-yet = 尚未发送
delivery-pending = 待投递
delivery-delivered = 已送达
delivery-failed = 失败
webhook-resend = 重新发送
webhook-resend-label = 重新发送 { $made } 创建的投递
webhook-add-title = 添加 Webhook
webhook-url = 要 POST 到的 URL
webhook-ends = 它接收哪些结束（都不勾选：所有结束）
webhook-kinds = 任务类型，用逗号分隔（留空：所有类型）
webhook-body = 内容格式
webhook-body-json = Headway 的 JSON
webhook-body-slack = Slack 风格的文本
webhook-whose = 谁的任务
webhook-whose-mine = 我的
webhook-whose-all = 所有人的
webhook-secret = 密钥（请现在复制：之后不会再显示）
webhook-add = 添加 Webhook

## [browser] Notices, toasts, announcements and notifications of finished jobs.

notice-label = 来自运维的通知
notice-dismiss = 关闭
outdated = Headway 有新版本可用。
outdated-reload = 重新加载
close = 关闭
toast-job = { $kind } 任务{ $status }
toast-job-error = { $kind } 任务{ $status }：{ $error }
count-of-status = { $n } 个{ $status }
jobs-of-status = { $n } 个任务{ $status }
jobs-finished-burst = { $n } 个任务已结束：{ $parts }
notify-open-job = 打开任务

## The API reference's own words (the document's descriptions are the API's, in English).

api-intro-1 = 供脚本使用的 JSON API，位于
api-intro-2 = 之下。脚本需出示 API 令牌
api-intro-3 = ，形式为
api-intro-4 = 。同样的描述也以 OpenAPI 3.1 文档提供，可据此生成客户端：
api-intro-5 = 。
api-resources = 资源
api-errors = 错误
api-schemas = 数据结构
api-required = 必填
api-optional = 可选
api-parameters = 参数
api-in = 位置
api-type = 类型
api-required-col = 是否必填
api-description = 说明
api-for-example = 例如：
api-request-body = 请求体
api-answers = 响应
api-status = 状态码
api-meaning = 含义
api-body = 响应体
api-and-the = 以及
api-every-operation-errors = 每个操作都可能返回的错误
api-and-the-end = 。
api-none = 无
api-errors-intro-1 = 每个错误都是 JSON，其状态码与
api-errors-intro-2 = 所代表的一致。
api-errors-intro-3 = 每个操作都可能返回 { $codes }；各操作会列出它可能返回的其他错误。
api-error-answers = 错误响应
api-error = 错误
api-fields-of = { $name } 的字段
api-field = 字段
api-type-is = 类型：
api-file-bytes = 文件字节
api-any-json = 任意 JSON

## Errors, as the pages show them: a sentence per error code, for a message no catalog has.

error-bad-request = 无法读取该请求
error-invalid-params = 有值不被接受
error-unknown-kind = 没有这种任务类型
error-not-found = 未找到
error-method-not-allowed = 此地址不接受该方法
error-unauthorized = 需要登录
error-forbidden = 你无权执行此操作
error-conflict = 操作与任务当前的状态冲突
error-payload-too-large = 内容过大
error-request-timeout = 请求未能及时送达
error-misdirected-request = 此服务器不响应该主机名
error-too-many-requests = 请求过多：请稍后再试
error-unavailable = 服务器暂时不可用
error-internal = 服务器出错，已记录日志
error-with-detail = { $sentence }（{ $detail }）
field-error = { $field }：{ $message }
theme-unknown = 主题必须是 light、dark 或 system
token-scope-unknown = 只读或读写
role-unknown = viewer、member、operator 或 admin
not-a-choice = { $value } 不是可选项之一
bulk-unknown-action = 未知的批量操作 { $action }
system-forbidden = 系统页面只向运维和管理员显示（或在只监听本机回环地址的服务器上向所有人显示）。
rows-ids-bounds = 请按编号列出 1 到 { $max } 个任务，以逗号分隔。

## [browser] What the page says itself when a request it sent got no answer it can use.

answer-unreachable = 无法连接服务器，请检查网络后重试
answer-unreadable = 无法读取服务器的回答：{ $detail }
answer-status = 服务器回答了 { $status }

## Schedules' times in words: what the engine says of a cron expression
## (engine/src/schedules/cron/words.rs), part by part.

cron-at = { $time }
cron-every-day-at = 每天 { $at }
cron-days-at = { $days } { $at }
cron-often-on = { $days }{ $often }
cron-in-months = { $when }，仅在{ $months }
cron-every-seconds = { $n ->
        [1] 每秒
       *[other] 每 { $n } 秒
    }
cron-every-minutes = { $n ->
        [1] 每分钟
       *[other] 每 { $n } 分钟
    }
cron-every-hours = { $n ->
        [1] 每小时
       *[other] 每 { $n } 小时
    }
cron-at-second = { $often }的第 { $second } 秒
cron-hourly-at = { $often }的第 { $minute } 分
cron-fields = 第 { $second } 秒、第 { $minute } 分、第 { $hour } 时
cron-every-weekday = 每个工作日
cron-on-weekdays = 每个工作日
cron-weekend = 每个周六和周日
cron-every-day-named = 每{ $days }
cron-on-day-named = 每{ $days }
cron-day-of-month = 每月{ $day }日
cron-days-of-month = 每月{ $days }日
cron-day-or-weekday = { $day }及{ $weekday }
cron-list-and = { $most }和{ $last }
cron-in-zone = { $when }，{ $zone }
cron-sunday = 周日
cron-monday = 周一
cron-tuesday = 周二
cron-wednesday = 周三
cron-thursday = 周四
cron-friday = 周五
cron-saturday = 周六
cron-january = 1月
cron-february = 2月
cron-march = 3月
cron-april = 4月
cron-may = 5月
cron-june = 6月
cron-july = 7月
cron-august = 8月
cron-september = 9月
cron-october = 10月
cron-november = 11月
cron-december = 12月

## The engine's messages, in its own English words: a message of the engine that reads as one of
## these is translated with the values in it (app/src/i18n/errors.rs).

engine-required = 必填
engine-from-to = 必须在 { $lo } 到 { $hi } 之间
engine-at-least = 必须至少为 { $lo }
engine-at-most = 必须至多为 { $hi }
engine-whole-number = 必须是整数
engine-whole-number-from-to = 必须是 { $lo } 到 { $hi } 之间的整数
engine-number = 必须是数字
engine-true-or-false = 必须是 true 或 false
engine-string = 必须是字符串
engine-no-nul = 不能包含 NUL 字符
engine-one-of = 必须是以下之一：{ $choices }
engine-pattern = 必须匹配模式 { $pattern }
engine-file-type = 必须是以下类型的文件：{ $types }
engine-upload-id = 必须是上传文件的 id（POST /api/v1/uploads）
engine-not-a-parameter = 不是此命令的参数（它的参数：{ $names }）
engine-json-object = 必须是 JSON 对象，而不是 { $value }
engine-no-such-job = 没有这个任务
engine-attempts-whole = 尝试次数必须是整数，1 表示不重试
engine-priority-levels = 优先级须是 "lowest"、"low"、"normal"、"high"、"urgent" 之一（或 0 到 4）
engine-priority-above = { $role } 只能以 { $default } 或更低的优先级开始 { $kind } 任务，不能用 { $asked }：只有运维人员或管理员能把任务提到其类型的优先级之上
engine-limit-max = 限制允许的任务数为 1 到 1000000，不能是 { $max }
engine-limit-window = 速率的窗口为 1 秒到 1 天（1000 到 86400000 毫秒），不能是 { $ms }
engine-limit-param-name = 限制按参数名计数（字母、数字和 _，最多 64 个字符），不能是 { $name }
engine-limit-no-kind = 没有名为 { $kind } 的类型（见 GET /api/v1/kinds）
engine-limit-elsewhere = { $kind } 的任务在别处运行：限制对它们不起作用
engine-limit-no-param = { $kind } 没有参数 { $param }；它的参数是：{ $names }
engine-limit-too-many = 已经设置了 { $n } 个限制，这是上限：请先移除一个
engine-after-too-many = 一个任务最多只能在 { $max } 个任务之后运行
engine-after-unknown = 没有属于你的任务 { $id }
engine-after-never = 任务 { $id } 已以 { $status } 结束：要在它成功后才运行的任务永远不会开始
start-after-bad = 不是任务编号：{ $id }
start-when-bad = 任务在之前的任务成功后开始，或在它们结束后开始
engine-priority-not-queued = 只有排队中的任务能改优先级：这个任务{ $status }
engine-attempts-at-most = 必须在 1 到 { $n } 之间：{ $kind } 最多允许 { $n } 次尝试
engine-attempts-none = { $kind } 任务不会重试：max_attempts 只能为 1
engine-max-length = 最多 { $max } 个字符，而不是 { $n } 个
engine-no-upload = 没有你可以使用的上传文件或输出“{ $id }”；请重新上传文件
engine-not-a-directory = 不是目录
engine-not-a-file = 不是文件
engine-file-empty = 文件为空
engine-unreachable = 无法连接服务器；请检查网络后重试
engine-internal = 服务器出错，已记录日志
engine-webhook-needs-url = Webhook 需要一个用于 POST 的 URL
engine-webhook-url-scheme = URL 必须以 http:// 或 https:// 开头并包含主机名
engine-not-a-time = “{ $text }”不是时间：请写日期（2026-11-24）、UTC 日期和时间（2026-11-24T14:00）或 RFC 3339 时间（2026-11-24T14:00:00+01:00）
engine-time-out-of-range = 超出范围：{ $reason }
engine-schedule-id = 必须是计划的 ID
engine-not-regular = 不是普通文件（而是管道、设备或套接字）
engine-name-a-file = 必须指向文件，而不是文件夹
engine-folder-missing = 所在的文件夹不存在
engine-inside-not-folder = 位于一个不是文件夹的东西里面
engine-database-link = 是符号链接；请直接写数据库文件本身
engine-database-folder = 是文件夹，不是数据库文件
engine-cannot-open = 无法打开：{ $reason }
engine-cannot-read = 无法读取：{ $reason }
engine-data-folder-unusable = 无法检查：数据文件夹 { $folder } 不可用（{ $reason }）
engine-shared-folder-unusable = 无法检查：共享文件夹不可用（{ $reason }）
engine-own-folder-unusable = 无法检查：你的文件夹不可用（{ $reason }）
engine-shared-read-only = 位于共享文件夹（{ $folder }/）中，成员只能读取
engine-outside-data-folder = 通过符号链接指向了数据文件夹之外
engine-outside-own-folder = 通过符号链接指向了你的文件夹之外
engine-dangling-link = 是指向不存在目标的符号链接
engine-does-not-exist = 不存在
engine-permission-denied = 无法读取（没有权限）
engine-path-empty = 不能为空（用 . 表示整个文件夹）
engine-path-absolute = 必须是相对于数据文件夹的路径，不能是绝对路径
engine-path-dot-dot = 不能包含 `..`
engine-upload-empty = { $name } 是空文件
engine-upload-not-csv = { $name } 不是 CSV 文件（必须是以下之一：{ $accept }）
engine-upload-looks-like = { $name } 看起来是{ $seems ->
        [zip] zip 压缩包
        [gzip] gzip 压缩包
       *[binary] 二进制数据
    }，不是 CSV 文件；请上传文件本身，而不是压缩包
engine-not-your-upload = { $named } 既不是你上传的文件（请先把文件发送到 POST /api/v1/uploads），也不是你的任务的输出
engine-upload-unreadable = 无法读取该文件（{ $reason }）；请重新上传
engine-not-utf8 = 不是 UTF-8 文本（第 { $line } 行有无效字节）；请另存为 UTF-8 后重试
engine-csv-both-sources = 请上传文件或指定数据文件夹中的文件，二者只能选一
engine-csv-no-source = 请选择要上传的 CSV 文件（或指定数据文件夹中的文件）
engine-csv-into-itself = 不能是 CSV 文件本身
engine-table-name = 必须以字母或 _ 开头，且只能包含字母、数字和 _
engine-table-length = 最多 { $max } 个字符
engine-table-sqlite = 不能以 sqlite_ 开头（SQLite 保留了这些名称）
engine-webhook-url-length = URL 最多 { $max } 个字符
engine-webhook-not-a-url = { $text } 不是 URL：{ $reason }
engine-webhook-url-credentials = 请把凭据放在密钥中，而不是 URL 里（URL 会显示在 Webhook 页面上）
engine-webhook-no-such-host = 无法解析 { $host }：{ $reason }
engine-webhook-private-address = { $ip } 是回环、私有或链路本地地址，Webhook 不能访问
engine-webhook-not-an-end = { $status } 不是结束状态：请填写 succeeded、failed、cancelled 或 interrupted
engine-webhook-kinds-at-most = 最多填写 { $max } 种类型
engine-webhook-no-such-kind = 没有类型 { $kind }
engine-webhook-secret = 密钥为 16 到 200 个可打印字符，不含空格（不填则由 Headway 生成）
engine-webhook-disabled-test = 该 Webhook 已停用：请先启用再发送测试
engine-webhook-disabled-resend = 该 Webhook 已停用：请先启用再重新发送
engine-webhook-tests-waiting = 已有 { $n } 个测试等待发送到该 Webhook
engine-run-after-number = run_after 必须是 Unix 毫秒整数或 RFC 3339 时间
engine-run-after-type = run_after 必须是 RFC 3339 时间（"2026-11-24T14:00:00Z"）或 Unix 毫秒数
engine-not-an-instant = “{ $text }”不是带时区偏移的 RFC 3339 时间，例如 2026-11-24T14:00:00Z
engine-not-a-wall-clock = “{ $text }”不是日期和时间，例如 2026-11-24T14:00
engine-no-such-local-time = { $zone } 没有 { $text } 这个时间
engine-not-a-zone = “{ $name }”不是 IANA 时区，例如 Asia/Shanghai 或 UTC
engine-too-far-ahead = 开始时间距今超过一年零一天；请在更接近该时间时再创建任务
engine-timeout-ms = 必须是 1 到 { $max } 之间的整数毫秒
engine-worker-token-only-works = 工作节点令牌只能注册自己的工作节点、领取任务并报告进度（/api/v1/workers…）
engine-workers-need-worker-token = 工作节点用工作节点令牌连接（Authorization: Bearer hwk_…），令牌由管理员创建（headway workers token NAME，或 POST /api/v1/worker-tokens）
engine-may-not-start = { $role ->
        [viewer] 查看者
        [member] 成员
        [operator] 运维人员
       *[admin] 管理员
    }不能开始任务
engine-viewer-may-not-change-jobs = 查看者不能更改任务
engine-only-own-jobs = { $role ->
        [viewer] 查看者
        [member] 成员
        [operator] 运维人员
       *[admin] 管理员
    }只能操作自己的任务
engine-only-operator = 只有运维人员或管理员能这样做
engine-only-admin = 只有管理员能这样做
engine-no-such-upload = 没有这个上传的文件
engine-viewer-may-not-change-schedules = 查看者不能更改计划
engine-only-own-schedules = { $role ->
        [viewer] 查看者
        [member] 成员
        [operator] 运维人员
       *[admin] 管理员
    }只能更改自己的计划
engine-viewer-may-not-register-webhooks = 查看者不能添加 Webhook
engine-only-admin-hears-all = 只有管理员能添加接收所有人任务消息的 Webhook
engine-only-owner-changes-webhook = 只有 Webhook 的所有者或管理员能更改它
engine-token-only-reads = 此令牌只能读取
engine-operator-needs-token = 运维请求需要在 Authorization 请求头中带上令牌（令牌见数据库旁的 admin.token）
engine-no-such-schedule = 没有这个计划
engine-bulk-no-ids = 没有指定任务

## [browser] A job's row and bar: status, progress, pace, place in line, times.

job-cancel = 取消
job-rerun = 重新运行
job-rerun-failed = 重新运行失败的步骤
job-select = 选择任务 { $id }
job-open = 打开任务 { $id }
job-stalled = 停滞：已无进展
job-stalled-said = { $job } 任务停滞
job-created = 创建于
job-finished = 结束于
job-retry-in = 第 { $attempt } 次尝试（共 { $max } 次），{ $span }后
job-retry-any-moment = 第 { $attempt } 次尝试（共 { $max } 次），随时开始
job-starts-at = 开始于 { $at } · { $span }后
job-attempt = 第 { $attempt } 次尝试（共 { $max } 次）
job-attempt-failed = 第 { $attempt } 次尝试失败：{ $code }：{ $message }
job-error = { $code }：{ $message }
job-ran = 运行了 { $span }
job-elapsed = 已运行 { $span }
job-left = 约剩 { $span }
rate-per-second = { $n }{ $unit }/秒
rate-per-minute = { $n }{ $unit }/分钟
progress-of = { $current } / { $total }{ $unit }（{ $pct }%）
progress-count = { $current }{ $unit }
progress-label = { $job } 任务进度
progress-not-started = 尚未开始
progress-run = { $done } / { $n } 个步骤（{ $pct }%）
progress-items = { $done } / { $n } 项（{ $pct }%）
unit-steps = 步
unit-items = 项
unit-rows = 行
unit-bytes = 字节
unit-jobs = 个任务

## A queued job's place in line, or what holds it back (said by the server).

queue-every-kind-paused = ⏸ 所有类型已暂停（由 { $name } 于 { $since } 暂停）：恢复后才会开始
queue-kind-paused = ⏸ { $kind } 已暂停（由 { $name } 于 { $since } 暂停）：恢复后才会开始
queue-place = { $n ->
        [1] 下一个
       *[other] 排第 { $n } 位
    }
queue-place-for = { $kind } 队列中{ $n ->
        [1] 下一个
       *[other] 排第 { $n } 位
    }
queue-waiting = 等待中
queue-waiting-for = 等待 { $kind }
queue-waiting-for-tags = 等待提供 { $tags } 的工作节点；没有连接的节点
queue-starts-in = { $place } · 约 { $span }后开始
queue-starting-any-moment = { $place } · 随时开始
limit-for-key = { $limit }（{ $key }）
queue-limit = 等待：{ $what }
queue-limit-next = 等待：{ $what }，{ $span }后可开始下一个
queue-limit-next-soon = 等待：{ $what }，随时可开始下一个
queue-after = 等待 { $n } 个任务：{ $counts }
after-queued = { $n } 个排队中
after-running = { $n } 个运行中
after-succeeded = { $n } 个已成功
after-ended = { $n } 个以其他状态结束

## The job page's own texts.

job-no-such = 没有这个任务
job-rerun-of = 重新运行自
job-for-its-time = 对应时间
job-run-now = （立即运行）
job-started-by = 启动者
job-a-schedule = 一个定时计划
job-by-token = { $name }（令牌“{ $token }”）
job-cancelled-by = 取消者
job-workflow = 工作流
param-yes = 是
param-no = 否
job-ran-on = 运行于
job-ran-on-attempt = 第 { $n } 次尝试：{ $place }
place-worker = { $host } 上的工作进程 { $name }
place-process = { $host } 上的进程 { $pid }
place-gone = 进程 { $id }（已不在册）
job-its-jobs = 它的任务
job-time-limit = 时限
job-priority-change = 修改优先级
job-error-title = 错误
job-title = { $kind } 任务 { $id }
job-all-jobs = ← 全部任务
job-heading = { $kind } 任务
job-without-js = 启用 JavaScript 时进度条和日志会实时更新；未启用时，请
job-details = 详情
job-timeline = 时间线
filter = 筛选
log-lines-match = { $n ->
        [0] 没有匹配的行。
       *[other] { $n } 行匹配。
    }
log-lines-match-newest = { $n } 行匹配；只显示最新的 { $shown } 行。
log-filter = 日志筛选
log-search = 搜索日志
log-level = 级别
log-all-levels = 所有级别
log-warnings-and-errors = 警告和错误
log-errors = 错误
log-show-every-line = 显示所有行

## [browser] The job page's live parts: timeline, attempts, log, outputs.

attempt-span = { $start } → { $end }（{ $span }）
attempt-running = { $start } → 运行中
attempt-line = 第 { $n } 次尝试 · { $span }
attempt-next = 第 { $attempt } 次尝试（共 { $max } 次）开始于 { $at }
log-no-lines = 没有日志行。
log-no-lines-yet = 还没有日志行。
log-no-match = 没有匹配的行。
log-earlier-not-shown = 此处未显示更早的 { $n } 行：
log-download-whole = 下载完整日志
log-attempt = 第 { $n } 次尝试
log-count = （{ $n } 行）
log-title = 日志
log-following = 正在跟随最新的行
log-paused = 已暂停：已向上滚动
log-follow = 跟随
log-download = 下载日志
log-aria = 任务日志
outputs = 输出文件
outputs-none = 无。
outputs-none-yet = 暂无。
result = 结果

## The dashboard's counts and chart (rendered on the server, and again when jobs change).

counts-label = 各状态的任务数
counts-all = 全部
chart-summary = 最近一小时完成了 { $n } 个任务；单分钟内最长的平均运行时间为 { $span }。
chart-caption = 最近一小时每分钟完成的任务
chart-other-endings = 其他结束状态（斜线）
chart-average-run = 平均运行时间
chart-now = 现在
chart-numbers = 具体数字
chart-minute = 分钟（{ $zone }）
chart-finished = 完成
chart-not-succeeded = 未成功
chart-average = 平均运行
chart-longest = 最长运行
chart-minute-finished = { $minute }：完成 { $n } 个
chart-minute-unsuccessful = （{ $n } 个未成功）
chart-minute-runs = ，平均运行 { $avg }，最长 { $max }

## [browser] Exporting the history.

export-as = 导出为
export-json-lines = JSON Lines
export = 导出

## The dashboard.

dashboard-cannot-show = 无法显示此视图
dashboard-show-all = 显示全部任务
dashboard-none-match = 没有符合这些筛选条件的任务。
dashboard-none-yet-start = 还没有任务：请用“新建任务”启动一个。
dashboard-none-yet = 还没有任务。
dashboard-start-a-job = 启动任务
dashboard-all-jobs = 全部任务
dashboard-your-jobs = 你的任务
dashboard-last-hour = 最近一小时
dashboard-without-js = 启用 JavaScript 时进度会实时更新；未启用时，请
bulk-all-matching = 此视图中符合条件的所有任务，而不只是勾选的
bulk-cancel-selected = 取消所选…
bulk-rerun-selected = 重新运行所选…
bulk-priority-selected = 设置优先级…
bulk-done-cancelled = 已取消 { $n } 个任务。
bulk-done-rerun = 已重新启动 { $n } 个任务。
bulk-not-done-cancel = 有 { $n } 个任务无法取消：它们已经结束。
bulk-not-done-rerun = 有 { $n } 个任务无法重新运行：它们的参数已不再有效。
bulk-done-priority = 已修改 { $n } 个任务的优先级。
bulk-not-done-priority = 有 { $n } 个任务保持原优先级：它们已不在排队，或你无权提高。
filter-jobs = 筛选任务
filter-any = 任意
filter-elsewhere = { $kind }（在别处运行的程序）
filter-status = 状态
filter-q = 搜索
filter-q-placeholder = 编号、标题、类型、参数或错误
filter-clear = 清除
filter-one-schedule = 某个定时计划的任务
filter-see-it = 查看
filter-every-job = 全部任务
pager-newer = ← 较新
pager-older = 较早 →
pager-label = 分页

## The built-in kinds: a title, its description, and each parameter's label and description
## (kind-NAME-PARAM), as the engine says them in English.

kind-demo = 演示
    .description = 每个间隔前进一步，每 10 步记录一行日志。
kind-demo-steps = 步数
    .description = 要走多少步。
kind-demo-interval_ms = 间隔（毫秒）
    .description = 两步之间的毫秒数。
kind-demo-log_every = 日志间隔
    .description = 每隔这么多步记录一行日志。
kind-demo-fail_attempts = 失败的尝试次数
    .description = 前几次尝试会在中途失败（这么多次），用来观察重试。
kind-batch = 批处理
    .description = 并行处理生成的条目：每个条目用 SHA-256 计算一块缓冲区的哈希。失败的条目会记入日志；部分失败时任务以警告结束，全部失败时任务失败。
kind-batch-items = 条目数
    .description = 要处理多少个条目。
kind-batch-item_kib = 条目大小（KiB）
    .description = 每个条目计算哈希的数据量。
kind-batch-concurrency = 并发数
    .description = 同时处理多少个条目。
kind-batch-failure_rate = 失败率
    .description = 每个条目失败的概率，从 0 到 1（相同的种子使相同的条目失败）。
kind-batch-seed = 种子
    .description = 决定生成的数据，从而决定哪些条目失败。
kind-checksum = 校验和
    .description = 计算数据文件夹中某个文件夹里每个文件的 SHA-256，并把 sha256sum 清单写入日志。重启后会继续。
kind-checksum-dir = 文件夹
    .description = 要计算哈希的文件夹，相对于数据文件夹（. 表示全部）。
kind-export_jobs = 导出任务
    .description = 把符合筛选条件的任务导出为可下载的文件：CSV 用于电子表格，JSON Lines 包含所有细节。
kind-export_jobs-format = 格式
    .description = CSV 适合电子表格，JSON Lines 包含每个任务的所有细节。
kind-export_jobs-status = 状态
    .description = 只导出这些状态的任务（一个都不选表示全部）。
kind-export_jobs-kind = 类型
    .description = 只导出这种类型的任务（为空表示全部）。
kind-export_jobs-schedule = 定时计划
    .description = 只导出某个定时计划启动的任务（它的 id）。
kind-export_jobs-search = 搜索
    .description = 只导出 id 以此开头、或消息或错误中包含此内容的任务。
kind-export_jobs-from = 开始时间
    .description = 只导出在此时间或之后创建的任务：2026-11-24、2026-11-24T14:00（UTC），或带偏移量的 RFC 3339 时间。
kind-export_jobs-to = 结束时间
    .description = 只导出在此时间之前创建的任务（日期：截至当天结束，UTC）。
kind-import_csv = 导入 CSV
    .description = 把 CSV 文件导入一个新的 SQLite 表，要么全部导入要么都不导入：标题行给出列名，字段数不对的行会被跳过并记入日志。
kind-import_csv-upload = 上传 CSV
    .description = 要导入的 CSV 文件，从你的电脑上传（UTF-8 文本，第一行为标题行）。
kind-import_csv-file = 或数据文件夹中的文件
    .description = 或者：数据文件夹中已有的 CSV 文件，按其在那里的路径。
kind-import_csv-table = 表
    .description = 要创建的表：字母、数字和 _，不能以数字开头。
kind-import_csv-database = 数据库
    .description = SQLite 数据库文件，相对于数据文件夹；不存在时会创建。

## [browser /new] The start form (the New job pages).

upload-sending = 正在上传 { $name }：{ $progress }
upload-done = 已上传 { $name }（{ $size }）✓
upload-cancelled = 已取消上传 { $name }
upload-lost = { $name } 的上传已中断：与服务器的连接断开了
upload-bar-label = 文件“{ $field }”的上传
upload-cancel = 取消上传
upload-of = { $sent } / { $total }（{ $pct }%）
upload-rate = { $rate }/秒

start-repeat = 重复…
start-attempts-hint = 失败的尝试会重试，总共最多 { $n } 次；1 表示不重试
start-priority-hint = 优先级高的先开始；排队的任务每等 10 分钟升一级
start-at-summary = 定时开始…
start-after = 在此任务之后运行
start-when = 开始条件
start-when-succeeded = 它成功后开始（若未成功则取消）
start-when-ended = 它结束后开始，无论结果如何
start-at = 开始时间
start-still-uploading = 文件仍在上传：请等进度条满后再启动，或取消上传
start-started = 已启动{ $kind } ✓
start-kind = 启动{ $kind }
start-create-schedule = 创建定时计划
start-schedule-created = 已创建定时计划：{ $description }，下次于
start-see-schedules = 查看定时计划

## The first screen: failures of the last day, the history's table; a job's parameters, Run
## again with changes; the New job page.

failures-title = 最近 24 小时的失败
failures-none = 最近 24 小时没有失败。
failures-last = ，最近一次
failures-no-code = 无错误码
failures-count = { $n } ×
history-title = 历史记录
history-col-job = 状态 · 任务
history-col-progress = 进度
history-col-when = 时间
history-col-took = 耗时
history-col-who = 发起者
filter-one-error = 以此错误结束的任务：
job-params-none = 无
job-run-again = 修改后再次运行…
job-then-run = 接着运行…
job-graph = 步骤之间的依赖
job-steps-all = 在历史中查看全部
job-steps = 步骤
job-step-of = 所属运行
job-after = 运行于其后
job-after-succeeded = 全部成功后
job-after-ended = 全部结束后（无论结果）
new-job-every-kind = ← 所有任务类型
new-job-every-kind-link = 所有任务类型
new-job-on-workers = 在其他机器上的工作节点上运行（headway worker）。
new-job-on-workers-with = 在提供 { $tags } 的其他机器上的工作节点上运行（headway worker）；没有连接的节点时会等待。
new-job-requires = 只在提供 { $tags } 的地方运行；没有这样的进程时会等待。
new-job-filled = 已填入任务
new-job-filled-end = 的参数：修改需要的内容后启动。密钥和文件需重新提供。
new-job-no-kind = 这里没有可以启动的任务类型 { $name }
new-job-not-of-kind = 任务 { $id } 不是{ $kind }任务

engine-not-one-of = “{ $value }”不是以下之一：{ $choices }
engine-list-of = 必须是以下值的列表：{ $choices }
engine-choose-one = 请至少选择一项
engine-name-length = 名称最多 { $n } 个字符
engine-name-plain = 名称必须是单行纯文本，不能包含控制字符

## [browser] The first screen's live parts, the kind picker, the keys.

new-job = 新建任务
kind-external = 外部任务
kind-picker-label = 任务类型
kind-picker-find = 查找任务类型
kind-picker-placeholder = 例如 import、export、demo
kind-picker-button = 查找
kind-picker-none = 没有匹配的任务类型。
keys-title = 快捷键
keys-search = 搜索：历史记录，或“新建任务”页上的任务类型
keys-new = 新建任务：选择要启动的任务类型
keys-list = 本快捷键列表
keys-close-list = 关闭本列表
keys-close = 关闭
job-started = 开始于
job-queued = 排队于
job-ran-for = 运行时长
job-who-schedule = 定时计划
job-who-rerun = 重新运行自
job-who-program = 外部程序
job-who-program-on = { $host } 上的程序
job-who-hand = 手动
active-running = 正在运行
active-next = 即将开始
active-none-running = 没有正在运行的任务。
active-none-waiting = 没有等待中的任务。
active-all-running = 全部 { $n } 个运行中的任务
active-all-queued = 全部 { $n } 个排队中的任务
active-count = （{ $n }）
## [browser /new /schedules] A schedule's name and its Repeat… fields (the New job pages, the
## schedules page).

schedule-name = 名称（可选）
schedule-name-hint = 用于区分同一任务类型的其他定时计划。
schedule-name-placeholder = 每晚导入
schedule-cron = 重复规则（cron）
schedule-cron-help = 五个字段（分 时 日 月 星期），或秒在最前的六个字段，也可以用 @hourly、@daily、@weekly、@monthly。
schedule-zone = 时区
schedule-overlap = 上一个任务仍在排队或运行时
schedule-overlap-skip = 跳过这一次
schedule-overlap-start = 仍然再启动一个
schedule-catch-up = Headway 停机期间错过的时间
schedule-catch-up-skip = 跳过
schedule-catch-up-one = 为它们启动一个任务
schedule-next-fires = 接下来的触发时间

engine-step-of = 第 { $step } 步，共 { $steps } 步
engine-failed-on-purpose = 第 { $attempt } 次尝试按要求在第 { $step } 步失败（失败的尝试次数为 { $fail_attempts }）
engine-items-tally = { $succeeded } 项成功，{ $failed } 项失败
engine-items-cancelled-after = 完成 { $items } 项中的 { $done } 项后被取消：{ $succeeded } 项成功，{ $failed } 项失败
engine-all-items-failed = 全部 { $items } 项均失败
engine-file-of = 第 { $n } 个文件，共 { $files } 个
engine-files-hashed = { $files } 个文件，{ $size }
engine-files-hashed-skipped = { $files } 个文件，{ $size }，跳过 { $skipped } 个
engine-checking-the-file = 正在检查文件
engine-rows-imported = 已导入 { $imported } 行，跳过 { $skipped } 行
engine-counting-jobs = 正在统计要导出的任务
engine-writing-file = 正在写入 { $file }
engine-jobs-exported = 已导出 { $n } 个任务
engine-server-stopped = 此任务运行时服务器停止了
engine-attempt-lost = 运行这次尝试的进程停止了（崩溃，或被判定为已失联）
engine-timed-out = 任务运行超过了 { $limit } 毫秒的时限
engine-aborted = 任务未在 { $grace } 毫秒内停止，已被强制终止
engine-exited = 程序退出，退出状态为 { $status }
engine-worker-disabled = 它的工作进程“{ $name }”已被运维人员停用
engine-worker-revoked = 它的工作进程“{ $name }”已被移除：其工作进程令牌已被吊销
engine-worker-gone = 它的工作进程“{ $name }”停止了轮询（在 { $lease } 的租期内没有轮询）
engine-too-few-items = { $n } 项中有 { $ok } 项成功，少于 { $percent } %
engine-run-stopped-by = 步骤“{ $step }”{ $how ->
        [cancelled] 已被取消
       *[failed] 失败了
    }，因此运行不再启动其他步骤
engine-run-step-ended = 步骤“{ $step }”{ $status ->
        [failed] 失败
        [cancelled] 已取消
        [interrupted] 被中断
       *[other] 未成功
    }
engine-run-step-ended-with = 步骤“{ $step }”{ $status ->
        [failed] 失败
        [cancelled] 已取消
        [interrupted] 被中断
       *[other] 未成功
    }：{ $error }
engine-steps-ended = { $steps } 个步骤中已结束 { $ended } 个
engine-items-done = { $items } 项中完成 { $succeeded } 项，失败 { $failed } 项

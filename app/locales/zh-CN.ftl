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

## [browser] The tab's title, and what is said when jobs finish.

tab-title-running = （{ $pct }%）{ $n } 个运行中 · { $page }

## Signing in, the users page, the page that is not there, bulk actions.

sign-in = 登录
sign-in-failed = 用户名或密码错误。
not-found-title = 未找到
not-found-text = 这个地址没有内容。
not-found-back = 返回任务面板
users-hint = 设置新密码或停用账户会结束它的所有会话，包括已打开的页面。密码在添加用户时于此设置，或使用命令
users-hint-end = 设置。
back = 返回
bulk-title = 批量操作
bulk-choose = 请为选中的任务选择“取消”或“重新运行”。
bulk-none-selected = 没有选中你的任务：请先在列表中勾选。
bulk-cancel-question = 取消 { $n } 个任务？
bulk-cancel-button = 取消 { $n } 个任务
bulk-cancel-hint = 排队中的任务将不会运行；正在运行的任务会被要求停止。已经结束的任务保持不变。
bulk-rerun-question = 重新运行 { $n } 个任务？
bulk-rerun-button = 重新运行 { $n } 个任务
bulk-rerun-hint = 每个任务都会以相同的类型、参数和时限作为新任务重新开始。

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

## [browser] The system page (an island: all of it is rendered in the browser too).

percent = { $n }%
system-as-of = 这些数字截至页面生成时：
system-refresh = 刷新以查看最新数据
system-now-and-last-hour = 当前与最近一小时
system-queued = 排队中
system-running = 运行中
system-finished-last-hour = 最近一小时完成
system-failure-rate = 失败率（最近一小时）
system-open-streams = 打开的事件流（本进程）
system-events-per-second = 每秒事件数（最近一分钟）
system-store-size = 存储大小
system-paused-by = 由 { $name } 暂停于
system-kind-running = 运行中
system-resume = 恢复
system-pause = 暂停
system-resume-label = 恢复 { $what }
system-pause-label = 暂停 { $what }
system-every-kind = 所有类型
system-every-kind-paused = 所有类型已由 { $name } 暂停于
system-every-kind-paused-end = ：恢复之前不会启动任何任务。
system-every-kind-runs = 所有类型都在运行，除非在下方单独暂停。
system-by-kind = 按类型
system-pause-hint = 运维和管理员可以在这里暂停某个类型，也可以使用命令
system-pause-hint-end = 。
system-kinds-caption = 各类型的队列深度、运行中的任务、最近一小时的任务及其耗时
system-kind = 类型
system-finished-1h = 完成（1 小时）
system-failed-1h = 失败（1 小时）
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
system-ago = { $span }前

## [browser] A job's status, as people read it.

status-queued = 排队中
status-running = 运行中
status-cancelling = 正在取消
status-succeeded = 成功
status-failed = 失败
status-cancelled = 已取消
status-interrupted = 已中断
attempts = 尝试次数
in-span = { $span }后
without-js-refresh = 未启用 JavaScript 时，请
refresh-to-see = 以查看最新状态。

## The schedules page's own texts.

schedules-hint = 定时计划会按 cron 表达式，以其所有者的身份启动某一类型的任务。创建方法：在
schedules-hint-dashboard = 任务面板的类型表单中选择
schedules-hint-repeat = 重复…
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

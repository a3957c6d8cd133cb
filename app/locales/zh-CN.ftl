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

//! The types that cross the wire between Headway's server and its clients: the job model, the
//! stream's events, the history views, the kinds' descriptions and the error type. They are
//! plain serde types, compiled for the server (the engine and the app) and for the browser.
//!
//! - [`after`]: jobs started to run after others;
//! - [`ids`]: the ids of jobs, users and processes, each a type of its own;
//! - [`job`]: a job, its status machine, progress, error and log lines;
//! - [`json`]: how deeply JSON from users may nest where it is kept;
//! - [`events`]: the stream's event names and payloads;
//! - [`history`]: history filters, pages, job details, counts and the per-minute chart;
//! - [`external`]: jobs of programs that run elsewhere and report over HTTP;
//! - [`files`]: uploaded files and the files jobs write;
//! - [`kinds`]: how a kind describes its parameters;
//! - [`limits`]: limits on a kind's jobs running at once or starting, per key;
//! - [`queue`]: a queued job's place in line;
//! - [`schedules`]: jobs started on a clock;
//! - [`system`]: the operator's view of a deployment;
//! - [`webhooks`]: URLs told when jobs end, and their deliveries;
//! - [`workers`]: workers on other machines, and how they take work;
//! - [`workflows`]: graphs of steps, and the templates of their parameters;
//! - [`bulk`]: bulk actions' requests and answers;
//! - [`accounts`]: roles, who is signed in, API tokens;
//! - [`error`]: the one error type of the API, the stream and server functions;
//! - `codec` (with `server-fn`): how server functions' answers and errors are encoded.

/// `as_str()` and `parse()` for an enum whose names strum derives (`IntoStaticStr`,
/// `EnumString`): the names used by the API, the store and the stream.
macro_rules! names {
    ($t:ty) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            pub fn parse(s: &str) -> Option<$t> {
                s.parse().ok()
            }
        }
    };
}

pub mod accounts;
pub mod after;
pub mod bulk;
pub mod children;
#[cfg(feature = "server-fn")]
pub mod codec;
pub mod error;
pub mod events;
pub mod external;
pub mod files;
pub mod history;
pub mod ids;
pub mod job;
pub mod json;
pub mod kinds;
pub mod limits;
pub mod priority;
pub mod queue;
pub mod schedules;
pub mod system;
pub mod tags;
pub mod text;
pub mod webhooks;
pub mod words;
pub mod workers;
pub mod workflows;

pub use accounts::{Me, Role, TokenScope};
pub use after::{After, AfterWait, AfterWhen};
pub use error::{AppError, ErrorCode, FieldError, Said, Words};
pub use events::{
    DoneEvent, EventType, Notice, OutputEvent, ProgressEvent, Snapshot, VersionEvent,
};
pub use external::{ExternalParams, Report, ReportEnd, ReportLine, ReportReply, EXTERNAL_KIND};
pub use files::{FileRef, Output, Upload};
pub use history::{
    FailureGroup, HistoryQuery, JobDetail, JobPage, LogFilter, MinuteStats, StatusChange,
    StatusCount,
};
pub use ids::{DeliveryId, IdError, JobId, ProcessId, ScheduleId, UploadId, UserId, WebhookId};
pub use job::{Actor, Attempt, Job, JobError, JobStatus, Level, LogLevel, LogLine, Progress};
pub use kinds::{
    KindInfo, KindPause, KindTexts, ParamInfo, ParamTexts, ParamType, RetryInfo, EVERY_KIND,
};
pub use priority::Priority;
pub use queue::QueueInfo;
pub use schedules::{CatchUp, CronPreview, Overlap, Schedule, ScheduleInput};
pub use system::{KindLoad, ProcessInfo, SystemOverview};
pub use text::{is_format_mark, url_encode};

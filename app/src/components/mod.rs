//! Views. The `#[island]`s are the only parts of a page that run in the browser; everything
//! else is rendered once on the server.

mod account;
mod chart;
mod connection;
mod export_form;
mod failures;
mod hydrated;
mod job_files;
mod job_log;
mod job_row;
mod keys;
mod language_switch;
mod live_root;
mod notify;
mod page_title;
mod param_fields;
mod progress_bar;
mod schedule_fields;
pub(crate) mod start_form;
mod status_counts;
mod theme_toggle;
mod time;
mod timeline;
mod tokens;
mod upload_field;
mod users;
mod words;

pub use account::{identified, signed_in, Account, SignedIn};
pub use chart::FinishedChart;
pub use connection::ConnectionStatus;
pub use export_form::ExportForm;
pub use failures::FailureGroups;
pub use hydrated::Hydrated;
pub use job_files::JobFiles;
pub use job_log::JobLog;
#[cfg(feature = "hydrate")]
pub use job_row::Binder;
pub use job_row::{
    outcome_icon, queue_said, status_icon, ActiveJobs, ActiveSection, JobRowView, JobRows, RunGraph,
};
pub use keys::Keys;
pub use progress_bar::unit_word;

pub use language_switch::LanguageSwitch;
pub use live_root::LiveRoot;
pub use notify::NotifyToggle;
pub use page_title::{escape_title, PageTitle};
pub use param_fields::param_fields;
pub use schedule_fields::{ScheduleFields, Timing};
pub use start_form::{StartForm, START_WITH_FILE};
pub use status_counts::StatusCounts;
pub use theme_toggle::ThemeToggle;
pub use time::{now_ms, Time, ZoneNote};
pub use timeline::Timeline;
pub use tokens::TokenManager;
pub use upload_field::UploadField;
pub use users::UserManager;
#[cfg(not(target_arch = "wasm32"))]
pub use words::localized_kind;
pub use words::{
    kind_description, kind_title, limit_key, limit_words, outcome_name, priority_name, role_name,
    status_name,
};

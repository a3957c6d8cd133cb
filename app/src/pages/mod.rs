//! One module per route.

mod api_reference;
mod bulk;
mod dashboard;
mod job;
mod new_job;
mod not_found;
mod schedules;
mod settings;
mod sign_in;
mod system;
mod users;
mod webhooks;

pub use api_reference::{ApiDocument, ApiReferencePage};
pub use bulk::BulkPage;
pub use dashboard::Dashboard;
pub use job::JobPage;
pub use new_job::NewJobPage;
pub use not_found::NotFound;
pub use schedules::{SchedulePage, SchedulesPage};
pub use settings::SettingsPage;
pub use sign_in::SignInPage;
pub use system::SystemPage;
pub use users::UsersPage;
pub use webhooks::{WebhookPage, WebhooksPage};

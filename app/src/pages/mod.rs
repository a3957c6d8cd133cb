//! One module per route.

mod bulk;
mod dashboard;
mod job;
mod not_found;
mod system;

pub use bulk::BulkPage;
pub use dashboard::Dashboard;
pub use job::JobPage;
pub use not_found::NotFound;
pub use system::SystemPage;

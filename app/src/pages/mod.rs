//! One module per route.

mod dashboard;
mod job;
mod not_found;
mod system;

pub use dashboard::Dashboard;
pub use job::JobPage;
pub use not_found::NotFound;
pub use system::SystemPage;

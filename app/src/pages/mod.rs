//! One module per route.

mod dashboard;
mod job;
mod not_found;

pub use dashboard::Dashboard;
pub use job::JobPage;
pub use not_found::NotFound;

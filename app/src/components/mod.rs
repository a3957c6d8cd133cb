//! Views. The `#[island]`s are the only parts of a page that run in the browser; everything
//! else is rendered once on the server.

mod connection;
mod job_row;
mod progress_bar;
mod start_form;

pub use connection::ConnectionStatus;
pub use job_row::{JobRow, JobRowView, NewJobs};
pub use progress_bar::ProgressBar;
pub use start_form::StartForm;

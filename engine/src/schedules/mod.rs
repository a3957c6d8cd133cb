//! Schedules: jobs started on a clock.

pub mod cron;

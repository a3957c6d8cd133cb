//! The store's contract: what every backend does, written once against the seam's traits
//! ([`store_core::Backend`]) and run, unchanged, on SQLite and on PostgreSQL (a throwaway
//! cluster this process starts and removes, a fresh database per case). Every query and every
//! write of the seam runs here at least once, against a real database.
//!
//! A case is an `async fn` of `cases` (or of `shared`, for the statements both databases
//! share that no other case reaches) taking a fresh [`support::Db`]; listed in [`on_both!`], it
//! becomes two tests, `sqlite::NAME` and `postgres::NAME`.

mod after;
mod cases;
mod children;
mod runs;
mod shared;
mod support;

/// Every case, whichever file it is in.
mod all {
    pub use crate::after::*;
    pub use crate::cases::*;
    pub use crate::children::*;
    pub use crate::runs::*;
    pub use crate::shared::*;
}

/// Makes each case a test on each backend.
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            use crate::support::{Db, Kind};
            $(
                #[tokio::test]
                async fn $case() {
                    crate::all::$case(Db::new(Kind::Sqlite).await).await
                }
            )*
        }
        mod postgres {
            use crate::support::{Db, Kind};
            $(
                #[tokio::test]
                async fn $case() {
                    crate::all::$case(Db::new(Kind::Postgres).await).await
                }
            )*
        }
    };
}

on_both!(
    a_parent_waits_for_its_children_unclaimed_and_ends_with_the_last,
    a_parent_fails_with_a_child_that_failed_and_its_own_failure_cancels_the_rest,
    a_waiting_parent_cancelled_cancels_its_children_and_ends_after_them,
    a_child_past_its_owners_share_is_refused_and_not_counted,
    a_fan_out_of_thousands_ends_from_its_tally_and_its_run_counts_once,
    a_fan_out_past_its_owners_share_fails_its_step_and_makes_no_item,
    a_runs_steps_count_against_its_owners_share_with_the_jobs_waiting,
    a_step_cancelled_by_hand_stops_its_run_starting_the_others,
    a_runs_bar_moves_with_its_active_steps_share_of_their_totals,
    a_job_after_others_starts_once_they_all_succeeded_and_not_before,
    a_need_that_fails_cancels_the_jobs_after_it_and_theirs_in_its_commit,
    a_job_after_jobs_that_ended_is_settled_as_it_is_inserted,
    an_interruption_queued_again_at_once_is_no_end_for_the_jobs_after_it,
    a_batch_allocates_consecutive_ids_and_returns_its_events_in_order,
    a_change_the_database_refuses_fails_alone_and_its_batch_commits,
    moves_the_state_machine_refuses_change_nothing,
    orphans_are_jobs_running_for_nobody_registered_and_claims_carry_checkpoints,
    processes_register_beat_and_leave_and_leases_have_one_holder,
    workers_register_hold_jobs_are_reaped_and_reports_are_fenced,
    snapshots_hold_unfinished_jobs_and_the_latest_ones,
    counts_and_the_chart_follow_status_changes,
    failures_are_grouped_by_kind_and_code_and_filtered_by_code,
    pruning_removes_the_oldest_events_in_bounded_batches,
    notices_take_event_ids_and_go_to_everyone,
    list_jobs_filters_searches_and_pages_both_ways,
    an_ended_job_is_found_while_queued_for_the_index_and_once_in_it,
    sessions_are_created_once_saved_loaded_and_expire,
    an_imported_history_is_read_like_any_other_and_ids_go_on_after_it,
    claims_take_the_oldest_jobs_up_to_the_slots_and_the_kind_limits,
    claims_and_places_follow_priorities_with_aging_and_a_change_while_queued,
    claims_keep_every_key_under_its_limits_and_take_other_keys_past_a_full_one,
    rate_limits_count_starts_in_a_sliding_window_per_key,
    a_start_past_its_owners_share_is_refused_where_it_is_written,
    a_free_slot_goes_to_the_user_with_the_fewest_running_however_late_they_queued,
    a_long_queue_of_a_kind_at_its_limit_does_not_hide_the_jobs_behind_it,
    a_job_takes_writes_only_from_the_process_that_holds_it,
    an_interruption_queues_a_resumable_job_again_in_the_same_commit,
    a_log_is_searched_by_text_and_level_newest_matches_first_kept,
    a_line_and_a_checkpoint_together_commit_as_one_change,
    ids_are_never_handed_out_twice_after_pruning_everything_or_after_notices,
    a_job_waiting_for_its_time_is_passed_over_and_out_of_line_until_then,
    a_start_with_a_key_is_made_once_for_a_day,
    a_paused_kind_is_passed_over_by_claims_and_out_of_line_until_resumed,
    a_failed_attempt_is_queued_again_keeping_the_attempts_and_their_lines,
    who_started_a_job_and_who_cancelled_it_are_kept_with_it,
    headways_words_are_kept_beside_a_jobs_message_and_its_errors,
    a_fire_time_starts_one_job_and_moves_its_schedule_on_in_one_commit,
    a_schedule_is_read_with_its_owners_name,
    a_running_job_lists_its_outputs_by_name_and_sets_its_result_with_job_events,
    a_jobs_log_is_bounded_per_line_and_in_all_whatever_writes_it,
    uploads_are_kept_within_their_owners_quota_and_swept_when_stale,
    the_file_store_recorded_first_is_the_one_every_process_is_told,
    accounts_are_read_by_name_and_id_and_changed_all_or_nothing,
    tokens_are_found_by_hash_listed_newest_first_touched_and_revoked,
    tokens_in_force_are_bounded_and_listed_a_page_at_a_time,
    webhooks_are_kept_per_owner_and_their_deliveries_come_due_in_turns,
    jobs_are_counted_by_who_sees_them_and_external_leases_run_out,
    the_figures_count_what_waits_what_runs_and_what_ended,
);

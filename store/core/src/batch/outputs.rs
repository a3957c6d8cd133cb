//! Outputs against their owner's file quota, for every backend: the bytes a user's stored
//! files hold (their uploads and the outputs their jobs list) are kept in one row of running
//! totals (`upload_totals`: the database's triggers add an output's bytes as a job's list
//! changes, and take them back as it expires); an output that would take them past the quota
//! is not attached ([`crate::Attached::OverQuota`]).

/// [`super::BatchSql::file_bytes`] in both databases' SQL (`$1`: the owner).
pub const FILE_BYTES: &str = "SELECT bytes FROM upload_totals WHERE owner = $1";

/// Whether an output of `size` bytes, replacing one of `replaced` bytes (0 for a new name),
/// keeps an owner whose files hold `kept` bytes within `quota`. An output no larger than the
/// one it replaces always does: the files shrink or stay.
pub fn within_quota(kept: u64, size: u64, replaced: u64, quota: u64) -> bool {
    size <= replaced || kept.saturating_add(size - replaced) <= quota
}

#[cfg(test)]
mod tests {
    use super::within_quota;

    #[test]
    fn an_output_passes_while_the_files_stay_within_the_quota() {
        assert!(within_quota(0, 100, 0, 100));
        assert!(!within_quota(1, 100, 0, 100));
        // Replacing a larger output of the same name frees bytes, even past the quota.
        assert!(within_quota(500, 10, 20, 100));
        assert!(within_quota(90, 30, 20, 100));
        assert!(!within_quota(90, 40, 20, 100));
    }
}

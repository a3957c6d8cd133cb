//! The times the command line prints: in the zone of the terminal that runs it (`TZ`, or the
//! machine's own), with the offset, so that a line pasted elsewhere still says which moment it
//! was: `2026-11-28 20:31:05 +08:00`.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// `ms` (Unix milliseconds) in the zone of this terminal.
pub fn local(ms: i64) -> String {
    in_zone(ms, &TimeZone::system())
}

/// `ms` (Unix milliseconds) in `zone`, to the second, with its offset; a time out of range is
/// said as its milliseconds.
pub fn in_zone(ms: i64, zone: &TimeZone) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t
            .to_zoned(zone.clone())
            .strftime("%Y-%m-%d %H:%M:%S %:z")
            .to_string(),
        Err(_) => format!("{ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_is_said_in_the_zone_asked_with_its_offset() {
        // 2026-11-28 12:31:05.250 UTC.
        let ms = 1_795_869_065_250;
        assert_eq!(in_zone(ms, &TimeZone::UTC), "2026-11-28 12:31:05 +00:00");
        let shanghai = TimeZone::get("Asia/Shanghai").unwrap();
        assert_eq!(in_zone(ms, &shanghai), "2026-11-28 20:31:05 +08:00");
        // Summer and winter in one zone.
        let paris = TimeZone::get("Europe/Paris").unwrap();
        assert_eq!(
            in_zone(1_783_000_000_000, &paris),
            "2026-07-02 15:46:40 +02:00"
        );
        assert_eq!(in_zone(ms, &paris), "2026-11-28 13:31:05 +01:00");
        assert_eq!(in_zone(i64::MAX, &paris), format!("{} ms", i64::MAX));
    }
}

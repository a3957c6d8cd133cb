//! The colour theme a person chose, kept in a cookie so that the server renders it without a
//! flash and the switch works without JavaScript.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

/// `System` follows the system setting.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Theme> {
        s.parse().ok()
    }

    /// The one a toggle switches to: system, then light, then dark, then system again.
    pub fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_toggle_cycles_through_every_theme_and_names_round_trip() {
        let mut t = Theme::System;
        for _ in 0..3 {
            assert_eq!(Theme::parse(t.as_str()), Some(t));
            t = t.next();
        }
        assert_eq!(t, Theme::System);
        assert_eq!(Theme::parse("purple"), None);
    }
}

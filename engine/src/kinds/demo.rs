//! `demo`: advances one step per interval and writes a log line every 10 steps (or as often as
//! asked). It does no work besides waiting, which makes it the kind to try the dashboard with;
//! with `fail_attempts` its first attempts fail halfway, to watch retries.

use super::{JobContext, Kind, KindEnv, Retry, RunResult};
use model::{JobError, LogLevel};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub struct Demo;

pub const MAX_STEPS: u64 = 100_000;
pub const MAX_INTERVAL_MS: u64 = 60_000;
pub const MAX_LOG_EVERY: u64 = 100_000;
/// As many attempts as a demo job may fail on purpose: one less than it may take.
pub const MAX_FAIL_ATTEMPTS: u32 = 2;

/// Advances one step per interval and logs every 10 steps.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Demo")]
#[garde(context(KindEnv))]
pub struct DemoParams {
    /// How many steps to take.
    #[schemars(title = "Steps", extend("default" = 50))]
    #[schemars(range(min = 1, max = MAX_STEPS))]
    #[garde(skip)]
    pub steps: u64,
    /// Milliseconds between two steps.
    #[schemars(title = "Interval (ms)", extend("default" = 100))]
    #[schemars(range(max = MAX_INTERVAL_MS))]
    #[garde(skip)]
    pub interval_ms: u64,
    /// A log line every this many steps.
    #[schemars(title = "Log interval", extend("default" = 10))]
    #[serde(default = "ten")]
    #[schemars(range(min = 1, max = MAX_LOG_EVERY))]
    #[garde(skip)]
    pub log_every: u64,
    /// Its first attempts fail halfway, this many of them, to watch retries.
    #[schemars(title = "Failing attempts", extend("default" = 0))]
    #[serde(default)]
    #[schemars(range(max = MAX_FAIL_ATTEMPTS))]
    #[garde(skip)]
    pub fail_attempts: u32,
}

fn ten() -> u64 {
    10
}

impl Kind for Demo {
    type Params = DemoParams;
    const NAME: &'static str = "demo";
    const OPENS_FILES: bool = false;
    const RETRY: Retry = Retry {
        max_attempts: 3,
        base: Duration::from_secs(5),
        cap: Duration::from_secs(60),
        permanent: &[],
    };

    async fn run(p: DemoParams, ctx: &mut JobContext) -> RunResult {
        ctx.set_total(Some(p.steps), "steps").await;
        let fails = ctx.attempt() <= p.fail_attempts;
        // Steps keep their pace: a late tick is made up by the next ones, so 1 ms is 1,000
        // steps a second, not one per timer tick and a bit.
        let mut ticks = (p.interval_ms > 0).then(|| {
            let period = Duration::from_millis(p.interval_ms);
            tokio::time::interval_at(tokio::time::Instant::now() + period, period)
        });
        for step in ctx.progress().current + 1..=p.steps {
            match ticks.as_mut() {
                // No timer: a zero sleep still waits for the timer's next millisecond tick.
                None => {
                    tokio::task::yield_now().await;
                    if ctx.is_cancelled() {
                        return Ok(());
                    }
                }
                Some(ticks) => tokio::select! {
                    _ = ticks.tick() => {}
                    _ = ctx.cancelled() => return Ok(()),
                },
            }
            ctx.advance(1).await;
            if fails && step * 2 >= p.steps {
                ctx.log(
                    LogLevel::Error,
                    format!("attempt {} fails here, as asked", ctx.attempt()),
                )
                .await;
                return Err(JobError::words(
                    "demo_failure",
                    model::words::jobs::failed_on_purpose(ctx.attempt(), step, p.fail_attempts),
                ));
            }
            if step % 10 == 0 || step == p.steps {
                ctx.say(model::words::jobs::step_of(step, p.steps)).await;
            }
            if step % p.log_every == 0 {
                ctx.log(
                    LogLevel::Info,
                    format!("reached step {step} of {}", p.steps),
                )
                .await;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Registry;
    use serde_json::json;

    fn problems(steps: u64, interval_ms: u64) -> Vec<(String, String)> {
        let env = KindEnv::files(crate::files::Files::whole("."));
        match Registry::builtin().parse(
            "demo",
            json!({"steps": steps, "interval_ms": interval_ms}),
            &env,
        ) {
            Ok(_) => Vec::new(),
            Err(e) => e.fields.into_iter().map(|f| (f.field, f.message)).collect(),
        }
    }

    #[test]
    fn bounds_are_inclusive() {
        assert!(problems(1, 0).is_empty());
        assert!(problems(MAX_STEPS, MAX_INTERVAL_MS).is_empty());
    }

    #[test]
    fn out_of_range_values_name_their_field_and_bounds() {
        assert_eq!(
            problems(0, 10),
            [("steps".to_string(), "must be from 1 to 100000".to_string())]
        );
        assert_eq!(problems(MAX_STEPS + 1, 10)[0].0, "steps");
        assert_eq!(
            problems(5, MAX_INTERVAL_MS + 1),
            [(
                "interval_ms".to_string(),
                "must be from 0 to 60000".to_string()
            )]
        );
        let both: Vec<String> = problems(0, MAX_INTERVAL_MS + 1)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(both, ["steps", "interval_ms"]);
    }

    #[test]
    fn the_log_interval_defaults_to_ten_steps_and_is_bounded() {
        let parse = |v| serde_json::from_value::<DemoParams>(v).unwrap();
        assert_eq!(parse(json!({"steps": 5, "interval_ms": 1})).log_every, 10);
        assert_eq!(
            parse(json!({"steps": 5, "interval_ms": 1, "log_every": 1})).log_every,
            1
        );
        let env = KindEnv::files(crate::files::Files::whole("."));
        let refused = Registry::builtin()
            .parse(
                "demo",
                json!({"steps": 5, "interval_ms": 1, "log_every": 0}),
                &env,
            )
            .unwrap_err();
        assert_eq!(refused.fields[0].field, "log_every");
    }

    #[test]
    fn unknown_and_wrong_typed_fields_are_refused() {
        assert!(serde_json::from_value::<DemoParams>(
            json!({"steps": 1, "interval_ms": 1, "x": 1})
        )
        .is_err());
        assert!(
            serde_json::from_value::<DemoParams>(json!({"steps": "1", "interval_ms": 1})).is_err()
        );
        assert!(
            serde_json::from_value::<DemoParams>(json!({"steps": -1, "interval_ms": 1})).is_err()
        );
        assert!(serde_json::from_value::<DemoParams>(json!({"interval_ms": 1})).is_err());
    }
}

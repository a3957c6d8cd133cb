//! `demo`: advances one step per interval and writes a log line every 10 steps. It does no work
//! besides waiting, which makes it the kind to try the dashboard with.

use super::{check_range, Kind, KindEnv, RunResult};
use crate::engine::context::JobContext;
use crate::error::FieldError;
use crate::model::{KindInfo, LogLevel, ParamInfo, ParamType};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub struct Demo;

pub const MAX_STEPS: u64 = 100_000;
pub const MAX_INTERVAL_MS: u64 = 60_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoParams {
    pub steps: u64,
    pub interval_ms: u64,
}

impl Kind for Demo {
    type Params = DemoParams;
    const NAME: &'static str = "demo";

    fn info() -> KindInfo {
        KindInfo {
            name: Self::NAME.into(),
            title: "Demo".into(),
            description: "Advances one step per interval and logs every 10 steps.".into(),
            params: vec![
                ParamInfo {
                    name: "steps".into(),
                    label: "Steps".into(),
                    description: "How many steps to take.".into(),
                    kind: ParamType::Integer,
                    required: true,
                    default: Some(50.into()),
                    min: Some(1),
                    max: Some(MAX_STEPS as i64),
                },
                ParamInfo {
                    name: "interval_ms".into(),
                    label: "Interval (ms)".into(),
                    description: "Milliseconds between two steps.".into(),
                    kind: ParamType::Integer,
                    required: true,
                    default: Some(100.into()),
                    min: Some(0),
                    max: Some(MAX_INTERVAL_MS as i64),
                },
            ],
        }
    }

    fn validate(p: &DemoParams, _env: &KindEnv) -> Vec<FieldError> {
        let mut problems = Vec::new();
        check_range("steps", p.steps, 1, MAX_STEPS, &mut problems);
        check_range("interval_ms", p.interval_ms, 0, MAX_INTERVAL_MS, &mut problems);
        problems
    }

    async fn run(p: DemoParams, ctx: &mut JobContext) -> RunResult {
        ctx.set_total(Some(p.steps), "steps").await;
        let interval = Duration::from_millis(p.interval_ms);
        for step in ctx.progress().current + 1..=p.steps {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = ctx.cancelled() => return Ok(()),
            }
            ctx.advance(1).await;
            if step % 10 == 0 || step == p.steps {
                ctx.set_message(format!("step {step} of {}", p.steps)).await;
            }
            if step % 10 == 0 {
                ctx.log(LogLevel::Info, format!("reached step {step} of {}", p.steps)).await;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(steps: u64, interval_ms: u64) -> Vec<String> {
        Demo::validate(&DemoParams { steps, interval_ms }, &KindEnv { data_root: ".".into() }).into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn bounds_are_inclusive() {
        assert!(check(1, 0).is_empty());
        assert!(check(MAX_STEPS, MAX_INTERVAL_MS).is_empty());
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        assert_eq!(check(0, 10), ["steps"]);
        assert_eq!(check(MAX_STEPS + 1, 10), ["steps"]);
        assert_eq!(check(5, MAX_INTERVAL_MS + 1), ["interval_ms"]);
        assert_eq!(check(0, MAX_INTERVAL_MS + 1), ["steps", "interval_ms"]);
    }

    #[test]
    fn unknown_and_wrong_typed_fields_are_refused() {
        use serde_json::json;
        assert!(serde_json::from_value::<DemoParams>(json!({"steps": 1, "interval_ms": 1, "x": 1})).is_err());
        assert!(serde_json::from_value::<DemoParams>(json!({"steps": "1", "interval_ms": 1})).is_err());
        assert!(serde_json::from_value::<DemoParams>(json!({"steps": -1, "interval_ms": 1})).is_err());
        assert!(serde_json::from_value::<DemoParams>(json!({"interval_ms": 1})).is_err());
    }
}

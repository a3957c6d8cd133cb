//! The limits' server functions: `/system`'s form that sets a limit (operators and admins)
//! and the button that removes one. Both are plain posts: without JavaScript the browser goes
//! back to `/system`, and a refused form comes back with what was typed in it.

#[cfg(feature = "ssr")]
use super::{answered, caller, status};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Sets a limit from the form of `/system` (operators and admins): `per` is `kind`, `owner`
/// or `param` (then `param` names the parameter), `window` a rate's window in ms (empty: at
/// once). Without JavaScript the browser goes back to `/system`; a refused form comes back
/// with what was typed in it.
#[server(endpoint = "set_limit", output = model::codec::Json)]
pub async fn set_limit(
    kind: String,
    max: String,
    per: String,
    #[server(default)] param: String,
    #[server(default)] window: String,
) -> Result<crate::model::limits::LimitUse, AppError> {
    let typed = LimitFields {
        kind,
        max,
        per,
        param,
        window,
    };
    let answer = answered(
        async {
            let (engine, caller) = caller().await?;
            let limit = typed.limit()?;
            engine.jobs().set_limit(&caller, limit).await
        }
        .await,
    );
    // Without JavaScript: back to the form, with what was typed if it was refused (else to a
    // clean form, not the refused values of an earlier post the address still holds).
    if status::form_post() {
        match &answer {
            Err(e) => leptos_axum::redirect(&typed.refused_url(e)),
            Ok(_) => leptos_axum::redirect("/system"),
        }
    }
    answer
}

/// Removes a limit set at run time (its kind, `per`, `param` and `window` as [`set_limit`]
/// takes them): operators and admins.
#[server(endpoint = "remove_limit", output = model::codec::Json)]
pub async fn remove_limit(
    kind: String,
    per: String,
    #[server(default)] param: String,
    #[server(default)] window: String,
) -> Result<bool, AppError> {
    answered(
        async move {
            let (engine, caller) = caller().await?;
            let typed = LimitFields {
                kind,
                max: "1".into(),
                per,
                param,
                window,
            };
            engine.jobs().remove_limit(&caller, &typed.limit()?).await
        }
        .await,
    )
}

/// The fields of the limits' form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitFields {
    pub kind: String,
    pub max: String,
    /// `kind`, `owner` or `param`.
    pub per: String,
    pub param: String,
    /// A rate's window in ms; empty for a limit of jobs running at once.
    pub window: String,
}

/// The query parameters a refused form without JavaScript comes back with.
pub const LIMIT_QUERY: [&str; 5] = [
    "limit_kind",
    "limit_max",
    "limit_per",
    "limit_param",
    "limit_window",
];

impl LimitFields {
    /// The fields from a page's query ([`LIMIT_QUERY`]).
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> LimitFields {
        let [kind, max, per, param, window] = LIMIT_QUERY.map(|k| get(k).unwrap_or_default());
        LimitFields {
            kind,
            max,
            per,
            param,
            window,
        }
    }

    /// The limit they describe, or the field that is wrong (the engine checks the rest).
    pub fn limit(&self) -> Result<crate::model::limits::Limit, AppError> {
        use crate::model::limits::{Limit, Per, MAX_MAX};
        let t = crate::i18n::t();
        let max = self.max.trim().parse::<u32>().map_err(|_| {
            AppError::invalid_field("max", t.engine_whole_number_from_to(1, MAX_MAX.to_string()))
        })?;
        let per = match self.per.as_str() {
            "" | "kind" => Per::Kind,
            "owner" => Per::Owner,
            "param" => Per::Param(self.param.trim().to_string()),
            _ => {
                return Err(AppError::invalid_field(
                    "per",
                    t.engine_one_of("kind, owner, param"),
                ))
            }
        };
        let window_ms = match self.window.trim() {
            "" => None,
            w => Some(
                w.parse::<i64>()
                    .map_err(|_| AppError::invalid_field("window_ms", t.engine_whole_number()))?,
            ),
        };
        Ok(Limit {
            kind: self.kind.trim().to_string(),
            per,
            max,
            window_ms,
        })
    }

    /// Where a form refused without JavaScript goes: back to `/system`'s form, with what was
    /// typed and why it was refused.
    #[cfg(feature = "ssr")]
    fn refused_url(&self, error: &AppError) -> String {
        use leptos::server_fn::error::ServerFnUrlError;
        let values = [&self.kind, &self.max, &self.per, &self.param, &self.window];
        let path = <SetLimit as leptos::server_fn::ServerFn>::PATH;
        let Ok(mut url) =
            ServerFnUrlError::new(path, error.clone()).to_url("http://headway/system")
        else {
            return "/system".into();
        };
        url.query_pairs_mut()
            .extend_pairs(LIMIT_QUERY.iter().zip(values));
        format!(
            "{}?{}#limit-form",
            url.path(),
            url.query().unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::LimitFields;
    use crate::model::limits::{Limit, Per};

    fn fields(max: &str, per: &str, param: &str, window: &str) -> LimitFields {
        LimitFields {
            kind: "demo".into(),
            max: max.into(),
            per: per.into(),
            param: param.into(),
            window: window.into(),
        }
    }

    #[test]
    fn the_limits_form_reads_as_a_limit() {
        assert_eq!(
            fields("1", "param", " log_every ", "").limit().unwrap(),
            Limit {
                kind: "demo".into(),
                per: Per::Param("log_every".into()),
                max: 1,
                window_ms: None,
            }
        );
        let rate = fields("10", "owner", "", "60000").limit().unwrap();
        assert_eq!((rate.per, rate.window_ms), (Per::Owner, Some(60_000)));
        assert_eq!(fields("3", "kind", "x", "").limit().unwrap().per, Per::Kind);
        // What is not a number is refused here, the rest by the engine.
        for (bad, field) in [
            (fields("-1", "kind", "", ""), "max"),
            (fields("two", "kind", "", ""), "max"),
            (fields("1", "everyone", "", ""), "per"),
            (fields("1", "kind", "", "soon"), "window_ms"),
        ] {
            let e = bad.limit().unwrap_err();
            assert!(e.field(field).is_some(), "{bad:?}: {e:?}");
        }
        assert_eq!(fields("0", "kind", "", "").limit().unwrap().max, 0);
    }

    #[test]
    fn a_refused_form_comes_back_from_the_query_as_it_was_typed() {
        let typed = fields("0", "param", "log_every", "1000");
        let query = [
            ("limit_kind", "demo"),
            ("limit_max", "0"),
            ("limit_per", "param"),
            ("limit_param", "log_every"),
            ("limit_window", "1000"),
        ];
        let read = LimitFields::from_query(|k| {
            query
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        });
        assert_eq!(read, typed);
        #[cfg(feature = "ssr")]
        {
            let url = typed.refused_url(&crate::error::AppError::invalid_field("max", "no"));
            assert!(url.starts_with("/system?__path="), "{url}");
            assert!(url.contains("&limit_param=log_every&"), "{url}");
            assert!(url.ends_with("#limit-form"), "{url}");
        }
    }
}

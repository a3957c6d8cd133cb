//! The Content-Security-Policy of every page, with the nonce of the page being rendered: the
//! islands' loader is the page's only inline script and carries that nonce; everything else
//! comes from this site (`/pkg`). WebAssembly needs `'wasm-unsafe-eval'` to be compiled.
//! Styles come from this site's stylesheet; `style` attributes (a bar's width, the log's
//! scroll offset) are allowed, as they cannot run script. The server adds the headers that are
//! the same for every answer (see `server::security_headers`).

/// The policy for a page rendered with `nonce`. `live_reload`: `cargo leptos watch` runs, and
/// its reloader connects over a WebSocket of its own port.
pub fn page_policy(nonce: &str, live_reload: bool) -> String {
    let connect = match live_reload {
        true => "'self' ws: wss:",
        false => "'self'",
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Sets the policy on the page being rendered, with its nonce.
pub fn apply() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = page_policy(&nonce, std::env::var_os("LEPTOS_WATCH").is_some());
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_runs_only_its_own_scripts() {
        let policy = page_policy("abc123", false);
        let directive = |name: &str| {
            policy
                .split(';')
                .map(str::trim)
                .find(|d| d.split(' ').next() == Some(name))
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(
            directive("script-src"),
            "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"
        );
        // Inline code is allowed nowhere but in style attributes.
        for d in policy.split(';').map(str::trim) {
            assert!(
                !d.contains("'unsafe-inline'") || d.starts_with("style-src-attr "),
                "{d}"
            );
        }
        assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
        assert!(policy.contains("connect-src 'self';"));
        assert!(page_policy("n", true).contains("connect-src 'self' ws: wss:;"));
    }
}

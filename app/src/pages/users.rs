//! `/users`: accounts, for admins (`--auth accounts`). Others get 403.

use crate::components::PageTitle;
use crate::components::{signed_in, UserManager};
use crate::i18n::t;
use crate::server_fns::load_users;
use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let me = signed_in().map(|w| w.name).unwrap_or_default();
    let users = Resource::new_blocking(|| (), |_| load_users());
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.nav_users())/>
        <h1>{t.nav_users()}</h1>
        <p class="hint">
            {t.users_hint()} " " <code>"headway users set-password"</code> {t.users_hint_after_code()} {t.users_hint_end()}
        </p>
        <Suspense fallback=move || view! { <p>{t.loading()}</p> }>
            {move || {
                let me = me.clone();
                Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! { <UserManager users=list me/> }.into_any(),
                        Err(e) => {
                            #[cfg(feature = "ssr")]
                            if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                                if let Ok(code) = axum::http::StatusCode::from_u16(e.code.http_status()) {
                                    resp.set_status(code);
                                }
                            }
                            view! { <p class="problem" role="alert">{e.message}</p> }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

//! `/signin`: the sign-in form (`--auth accounts`). A plain HTML form posted to `/signin`, so it
//! works the same with and without JavaScript; a wrong name or password comes back here with
//! `?failed=1`, without saying which of the two was wrong.

use crate::components::PageTitle;
use crate::i18n::t;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let (failed, next) =
        query.with_untracked(|q| (q.get("failed").is_some(), q.get("next").unwrap_or_default()));
    let t = t();
    view! {
        <PageTitle text=t.page_title_of(t.sign_in())/>
        <section class="sign-in" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">{t.sign_in()}</h1>
            {failed.then(|| view! {
                <p class="form-error" role="alert">{t.sign_in_failed()}</p>
            })}
            <form method="post" action="/signin" class="sign-in-form">
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="username">{t.user_name()}</label>
                    <input id="username" name="username" type="text" autocomplete="username" required=true autofocus=true/>
                </div>
                <div class="field">
                    <label for="password">{t.password()}</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required=true/>
                </div>
                <button type="submit">{t.sign_in()}</button>
            </form>
        </section>
    }
}

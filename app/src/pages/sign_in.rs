//! `/signin`: the sign-in form (`--auth accounts`). A plain HTML form posted to `/signin`, so it
//! works the same with and without JavaScript; a wrong name or password comes back here with
//! `?failed=1`, without saying which of the two was wrong.

use crate::components::PageTitle;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let (failed, next) =
        query.with_untracked(|q| (q.get("failed").is_some(), q.get("next").unwrap_or_default()));
    view! {
        <PageTitle text="Sign in · Headway"/>
        <section class="sign-in" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            {failed.then(|| view! {
                <p class="form-error" role="alert">"Wrong user name or password."</p>
            })}
            <form method="post" action="/signin" class="sign-in-form">
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="username">"User name"</label>
                    <input id="username" name="username" type="text" autocomplete="username" required=true autofocus=true/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required=true/>
                </div>
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}

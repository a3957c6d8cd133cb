//! The users page's list (admins): add an account, change a role, disable or enable one. Each
//! is a form posted to a server function, so it works without JavaScript too (the page comes
//! back with the change).

use crate::components::{role_name, Time};
use crate::i18n::t;
use crate::model::accounts::UserInfo;
use crate::model::Role;
use crate::server_fns::{AddUser, ChangeUser};
use leptos::prelude::*;
use strum::VariantArray;

#[island(lazy)]
pub fn UserManager(users: Vec<UserInfo>, me: String) -> impl IntoView {
    let users = RwSignal::new(users);
    let t = t();
    let add = ServerAction::<AddUser>::new();
    let change = ServerAction::<ChangeUser>::new();
    let added = add.value();
    let changed = change.value();
    Effect::new(move || {
        if let Some(Ok(user)) = added.get() {
            users.update(|list| {
                list.push(user);
                list.sort_by(|a, b| a.username.cmp(&b.username));
            });
        }
    });
    Effect::new(move || {
        if let Some(Ok(user)) = changed.get() {
            users.update(|list| {
                if let Some(u) = list.iter_mut().find(|u| u.username == user.username) {
                    *u = user;
                }
            });
        }
    });
    let error = move || {
        let e = match (added.get(), changed.get()) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(e),
            _ => None,
        };
        e.map(|e| {
            let text = e
                .fields
                .first()
                .map_or(e.message.clone(), |f| format!("{}: {}", f.field, f.message));
            view! { <p class="form-error" role="alert">{text}</p> }
        })
    };
    let role_options = move |selected: Role| {
        Role::VARIANTS
            .iter()
            .map(|r| view! { <option value=r.as_str() selected=*r == selected>{role_name(t, *r)}</option> })
            .collect_view()
    };
    let rows = move || {
        users
            .get()
            .into_iter()
            .map(|u| {
                let name = u.username.clone();
                let select_id = format!("role-{name}");
                let yourself = u.username == me;
                let state = if u.disabled { "disabled" } else { "enabled" };
                let state_text = if u.disabled { t.user_disabled() } else { t.user_enabled() };
                let (toggled, disabled) = (name.clone(), u.disabled);
                let (form_name, role_label, save_label) =
                    (name.clone(), t.user_role_of(name.as_str()), t.user_save_role_of(name.as_str()));
                let options = role_options(u.role);
                let toggle = (!yourself).then(move || view! {
                    <ActionForm action=change attr:class="inline-form">
                        <input type="hidden" name="username" value=toggled.clone()/>
                        <input type="hidden" name="disabled" value=(!disabled).to_string()/>
                        <button type="submit" class="secondary">
                            {if disabled { t.user_enable() } else { t.user_disable() }} " "
                            <span class="visually-hidden">{toggled}</span>
                        </button>
                    </ActionForm>
                });
                view! {
                    <tr data-user=name.clone() data-state=state>
                        <th scope="row">{name.clone()}</th>
                        <td>
                            <ActionForm action=change attr:class="inline-form">
                                <input type="hidden" name="username" value=form_name/>
                                <label for=select_id.clone() class="visually-hidden">{role_label}</label>
                                <select id=select_id name="role">{options}</select>
                                <button type="submit" class="secondary">{t.save()} " " <span class="visually-hidden">{save_label}</span></button>
                            </ActionForm>
                        </td>
                        <td>{state_text}</td>
                        <td><Time at=u.created_at/></td>
                        <td>{toggle}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <ActionForm action=add attr:class="token-form">
            <div class="field">
                <label for="new-username">{t.user_name()}</label>
                <input id="new-username" name="username" type="text" required=true maxlength="64" autocomplete="off"/>
            </div>
            <div class="field">
                <label for="new-password">{t.password()}</label>
                <input id="new-password" name="password" type="password" required=true minlength="8" autocomplete="new-password"/>
            </div>
            <div class="field">
                <label for="new-role">{t.role()}</label>
                <select id="new-role" name="role">{role_options(Role::Member)}</select>
            </div>
            <button type="submit" disabled=move || add.pending().get()>{t.user_add()}</button>
        </ActionForm>
        {error}
        <table class="tokens users">
            <caption class="visually-hidden">{t.users_caption()}</caption>
            <thead>
                <tr><th scope="col">{t.token_name()}</th><th scope="col">{t.role()}</th><th scope="col">{t.user_state()}</th><th scope="col">{t.user_added()}</th><th scope="col"><span class="visually-hidden">{t.actions()}</span></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

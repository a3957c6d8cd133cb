//! `headway users ...` and `headway tokens create ...`: accounts and tokens, changed directly in
//! the database named by `--database-url`, whether or not a server runs on it (sessions a change
//! ends are ended for every server on the database).

use crate::config::{TokensCommand, UsersCommand};
use crate::Config;
use engine::accounts::{AccountChange, Accounts};
use engine::store::{Access, Store};
use engine::Caller;
use model::AppError;
use std::io::{BufRead, IsTerminal};

/// Runs the command and returns what to print, or why it failed.
pub async fn users(config: &Config, command: &UsersCommand) -> Result<String, String> {
    let accounts = open(config).await?;
    match command {
        UsersCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let password = read_password(*password_stdin, &format!("Password for {name}: "))?;
            let user = accounts
                .add(&Caller::operator(), name, (*role).into(), &password)
                .await
                .map_err(say)?;
            Ok(format!("added {} ({})", user.username, user.role))
        }
        UsersCommand::List => {
            let users = accounts.list(&Caller::operator()).await.map_err(say)?;
            let mut out = format!("{:<24} {:<9} {}", "NAME", "ROLE", "STATE");
            for u in users {
                let state = if u.disabled { "disabled" } else { "enabled" };
                out.push_str(&format!("\n{:<24} {:<9} {state}", u.username, u.role));
            }
            Ok(out)
        }
        UsersCommand::SetRole { name, role } => {
            let new = AccountChange {
                role: Some((*role).into()),
                ..AccountChange::default()
            };
            change(&accounts, name, new).await?;
            Ok(format!("{name} is now {}", model::Role::from(*role)))
        }
        UsersCommand::SetPassword {
            name,
            password_stdin,
        } => {
            let password = read_password(*password_stdin, &format!("New password for {name}: "))?;
            let password = Some(password);
            change(
                &accounts,
                name,
                AccountChange {
                    password,
                    ..AccountChange::default()
                },
            )
            .await?;
            Ok(format!(
                "changed the password of {name}; their sessions have ended"
            ))
        }
        UsersCommand::Disable { name } => {
            let disabled = Some(true);
            change(
                &accounts,
                name,
                AccountChange {
                    disabled,
                    ..AccountChange::default()
                },
            )
            .await?;
            Ok(format!("disabled {name}; their sessions have ended"))
        }
        UsersCommand::Enable { name } => {
            let disabled = Some(false);
            change(
                &accounts,
                name,
                AccountChange {
                    disabled,
                    ..AccountChange::default()
                },
            )
            .await?;
            Ok(format!("enabled {name}"))
        }
    }
}

pub async fn tokens(config: &Config, command: &TokensCommand) -> Result<String, String> {
    let accounts = open(config).await?;
    match command {
        TokensCommand::Create { name, user, scope } => {
            let token = accounts
                .create_token_for(&Caller::operator(), user, name, (*scope).into())
                .await
                .map_err(say)?;
            Ok(token.token)
        }
    }
}

/// Changes an account as the machine's operator (the command line is).
async fn change(accounts: &Accounts, name: &str, change: AccountChange) -> Result<(), String> {
    accounts
        .change(&Caller::operator(), name, change)
        .await
        .map(drop)
        .map_err(say)
}

async fn open(config: &Config) -> Result<Accounts, String> {
    let store = Store::open(&config.database_url, Access::Shared)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Accounts::new(store).with_most_tokens(config.max_tokens_per_user))
}

fn say(e: AppError) -> String {
    match e.fields.first() {
        Some(f) => format!("{}: {}", f.field, f.message),
        None => e.message,
    }
}

/// A password from standard input: one line with `--password-stdin`, else asked for without
/// echo (twice, to catch a typing slip) on a terminal.
fn read_password(from_stdin: bool, prompt: &str) -> Result<String, String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password: {e}"))?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_string());
    }
    let first =
        rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the password: {e}"))?;
    let again = rpassword::prompt_password("Again: ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    if first != again {
        return Err("the two passwords differ".into());
    }
    Ok(first)
}

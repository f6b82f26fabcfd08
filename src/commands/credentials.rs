//! `kafkup client-config` and `kafkup credentials`: what a client of a secured environment
//! needs, read from the files setup keeps (nothing is made here).

use super::Context;
use crate::error::Problem;
use crate::security::{self, clients::Format, store, USERS};
use crate::state::Manifest;
use crate::vocab::Security;
use anyhow::Result;
use serde_json::json;

/// The environment, refused when its listener is plaintext (there is nothing to configure).
fn secured(ctx: &Context) -> Result<(Manifest, store::Inputs)> {
    let manifest = crate::state::require(&super::paths(ctx)?)?;
    let inputs = security::inputs_of(&manifest);
    if inputs.security == Security::Plaintext {
        return Err(Problem::new(
            "this environment's listener is plaintext: clients need only bootstrap.servers="
                .to_string()
                + &manifest.bootstrap_server(),
            "`kafkup setup --security tls` (or mtls, scram) secures it",
        )
        .into());
    }
    Ok((manifest, inputs))
}

pub fn client_config(ctx: &Context, format: Format, user: &str) -> Result<()> {
    let (_, inputs) = secured(ctx)?;
    let file = security::client_dir(&inputs.paths, user).join(format.file_name());
    let text = fs_err::read_to_string(&file).map_err(|e| {
        Problem::new(
            format!("cannot read {}: {e}", file.display()),
            "`kafkup setup` writes it again",
        )
    })?;
    if ctx.global.json {
        return super::print_json(
            &json!({ "file": file, "format": format!("{format:?}").to_lowercase(), "contents": text }),
        );
    }
    print!("{text}");
    Ok(())
}

pub fn show(ctx: &Context) -> Result<()> {
    let (manifest, inputs) = secured(ctx)?;
    let passwords = security::users::load(&security::secrets_dir(&inputs.paths))?;
    let users: Vec<serde_json::Value> = USERS
        .iter()
        .map(|user| {
            let identity = store::identity(&inputs, user, &passwords);
            json!({
                "user": user,
                "principal": format!("User:{user}"),
                "password": identity.password,
                "certificate": identity.cert,
                "key": identity.key,
                "ca": identity.ca,
                "client_config": security::client_dir(&inputs.paths, user),
            })
        })
        .collect();
    if ctx.global.json {
        return super::print_json(&json!({
            "security": inputs.security, "bootstrap_servers": manifest.bootstrap_server(), "users": users,
        }));
    }
    let mut text = format!("{} at {}\n", inputs.security, manifest.bootstrap_server());
    for user in &users {
        text.push_str(&format!(
            "\n{}",
            user["principal"].as_str().unwrap_or_default()
        ));
        for key in ["password", "certificate", "key", "ca", "client_config"] {
            if let Some(value) = user[key].as_str() {
                text.push_str(&format!("\n  {key:<14}{value}"));
            }
        }
        text.push('\n');
    }
    print!("{text}");
    Ok(())
}

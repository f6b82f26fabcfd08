//! The security steps of a setup (see [`crate::security`]): the files made, the SCRAM users
//! written where the brokers read them, and the developer's ACLs granted.

use crate::deployment::Deployment;
use crate::error::Problem;
use crate::runner::{AnyRunner, Runner};
use crate::security::{self, acl, store, ADMIN, SCRAM_MECHANISM, USERS};
use crate::vocab::Security;
use anyhow::Result;
use std::path::PathBuf;
use std::time::Duration;

/// Makes kafkup's own clients of this run connect as the environment's admin (after the
/// files exist, again with the passwords made).
pub fn connect_as_admin(want: &Deployment) -> Result<()> {
    security::connect_as(&want.security_inputs(), ADMIN);
    Ok(())
}

/// Makes what the plan found missing; returns the files written.
pub fn make_files(want: &Deployment) -> Result<Vec<PathBuf>> {
    let now = time::OffsetDateTime::now_utc();
    let written = store::apply(&want.security_inputs(), now)?;
    connect_as_admin(want)?;
    Ok(written)
}

/// `--add-scram` arguments of the KRaft format: every user with its password.
pub fn format_scram_args(want: &Deployment) -> Result<Vec<String>> {
    if want.security != Security::Scram {
        return Ok(vec![]);
    }
    let passwords = security::users::load(&security::secrets_dir(&want.paths))?;
    let mut args = Vec::new();
    for user in USERS {
        let password = passwords.of(user).unwrap_or_default();
        args.push("--add-scram".into());
        args.push(format!(
            "{SCRAM_MECHANISM}=[name={user},password={password}]"
        ));
    }
    Ok(args)
}

/// ZooKeeper mode: each user's SCRAM credential written into ZooKeeper (where the brokers
/// read it) by Kafka's config tool, run as the runner runs tools.
pub async fn scram_users(runner: &AnyRunner, want: &Deployment) -> Result<()> {
    let passwords = security::users::load(&security::secrets_dir(&want.paths))?;
    for user in USERS {
        let password = passwords.of(user).unwrap_or_default();
        let credential = format!("{SCRAM_MECHANISM}=[iterations=8192,password={password}]");
        let args = |connect: &str| {
            let args = ["--zookeeper", connect, "--alter", "--entity-type", "users"];
            let user_args = ["--entity-name", user, "--add-config", &credential];
            args.iter()
                .chain(&user_args)
                .map(|a| a.to_string())
                .collect()
        };
        let what = format!("SCRAM credential of {user}");
        let tool = super::zookeeper_tool::tool(want, what, "kafka.admin.ConfigCommand", args);
        let out = runner.run_tool(&tool).await?;
        if !out.success {
            let said = crate::logtail::the_error(&out.output);
            return Err(Problem::new(
                format!(
                    "writing the SCRAM credential of {user} failed ({}):\n{said}",
                    out.status
                ),
                "is ZooKeeper running? `kafkup status` and `kafkup logs zookeeper` say",
            )
            .into());
        }
    }
    Ok(())
}

/// The developer's ACLs, created as the admin through the brokers.
pub async fn grant_acls(want: &Deployment) -> Result<()> {
    let config = crate::messaging::client_config(&want.bootstrap_server());
    let principal = format!("User:{}", security::DEVELOPER);
    let timeout = Duration::from_secs(crate::defaults::TOPIC_ADMIN_TIMEOUT_SECS);
    let grants = acl::developer_grants();
    let created =
        tokio::task::spawn_blocking(move || acl::create(&config, &principal, &grants, timeout))
            .await?;
    created.map_err(|said| {
        Problem::new(
            format!("granting the developer user its ACLs failed: {said}"),
            "`kafkup status` and `kafkup logs kafka` say whether the brokers are ready; run setup again",
        )
        .into()
    })
}

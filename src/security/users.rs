//! The users of a `scram` environment and their passwords: generated once, kept in the
//! secrets directory (0600), shown by `kafkup credentials`.

use super::USERS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// User name → password.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passwords(pub BTreeMap<String, String>);

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: a Debug print must not leak a password into a log.
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Passwords {
    pub fn of(&self, user: &str) -> Option<&str> {
        self.0.get(user).map(String::as_str)
    }

    /// Whether every user has one.
    pub fn complete(&self) -> bool {
        USERS.iter().all(|u| self.0.contains_key(*u))
    }

    /// These passwords, with a new one for every user that has none.
    pub fn completed(mut self) -> Passwords {
        for user in USERS {
            self.0.entry(user.to_string()).or_insert_with(new_password);
        }
        self
    }
}

/// 32 hexadecimal digits from the system's random source (128 bits).
fn new_password() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub const FILE: &str = "users.json";

/// The passwords kept in `dir`; none when there is no file yet.
pub fn load(dir: &Path) -> std::io::Result<Passwords> {
    match fs_err::read_to_string(dir.join(FILE)) {
        Ok(text) => serde_json::from_str(&text).map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Passwords::default()),
        Err(e) => Err(e),
    }
}

pub fn save(dir: &Path, passwords: &Passwords) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(passwords).map_err(std::io::Error::other)?;
    crate::files::write_atomic(&dir.join(FILE), text.as_bytes(), 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_gets_a_password_of_its_own_once() {
        let first = Passwords::default().completed();
        assert!(first.complete());
        assert_ne!(first.of("admin"), first.of("developer"));
        assert_eq!(first.clone().completed(), first, "kept, not made anew");
        assert!(!format!("{first:?}").contains(first.of("admin").unwrap()));
    }
}

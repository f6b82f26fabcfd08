//! The TOML config file: a [`Layer`] whose errors name the file, the line and the key.

use super::{Layer, SettingsError};
use std::path::Path;

/// Reads and parses a config file; errors name the file, the line and the key.
pub fn load_config_file(path: &Path) -> Result<Layer, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|reason| SettingsError::ConfigUnreadable {
        path: path.to_path_buf(),
        reason,
    })?;
    parse_config(&text).map_err(|message| SettingsError::ConfigInvalid {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses config text; on error says line, column and key.
pub fn parse_config(text: &str) -> Result<Layer, String> {
    toml::from_str::<Layer>(text).map_err(|e| {
        let location = e.span().map(|span| {
            let line = text[..span.start].matches('\n').count() + 1;
            let whole = text.lines().nth(line - 1).unwrap_or("").trim();
            match whole.strip_prefix('[') {
                // The table itself: an unknown one, or one that lacks a key (a topic's name).
                Some(_) => format!("line {line}, table `{whole}`: "),
                None => match config_key(text, span.start, whole) {
                    Some(key) => format!("line {line}, key `{}`: ", in_table(text, line, &key)),
                    None => format!("line {line}: "),
                },
            }
        });
        format!("{}{}", location.unwrap_or_default(), e.message())
    })
}

/// `key` with the table it is in (`topics.partitions` below `[[topics]]`), for a key on line
/// `line` (from 1).
fn in_table(text: &str, line: usize, key: &str) -> String {
    let header = text
        .lines()
        .take(line - 1)
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .last();
    match header {
        Some(h) => {
            let h = h.split('#').next().unwrap_or(h).trim();
            format!("{}.{key}", h.trim_matches(|c| c == '[' || c == ']').trim())
        }
        None => key.to_string(),
    }
}

/// The key whose value starts at `at`, or (when the error is about the key itself) the key of
/// the line `whole`.
fn config_key(text: &str, at: usize, whole: &str) -> Option<String> {
    let before = text[..at].rsplit('\n').next().unwrap_or("");
    [before, whole]
        .into_iter()
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .find(|k| !k.is_empty())
        .map(str::to_string)
}

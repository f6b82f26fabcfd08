//! Renders every config file and systemd unit from the plan. Templates are built into the
//! binary; `--templates DIR` replaces any of them by file name. Pure apart from reading that
//! directory: nothing is written here (the command layer writes the files).

use crate::class_archive;
use crate::configure::NodeConfig;
use crate::defaults;
use crate::error::Diagnose;
use crate::spec::{kafka_logging_file, ServiceSpec};
use crate::vocab::{NodeId, Role};
use minijinja::{context, Environment, UndefinedBehavior, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The built-in templates, by the file name `--templates DIR` overrides them with.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("zoo.cfg.j2", include_str!("../templates/zoo.cfg.j2")),
    (
        "logback.xml.j2",
        include_str!("../templates/logback.xml.j2"),
    ),
    (
        "server.properties.j2",
        include_str!("../templates/server.properties.j2"),
    ),
    (
        "log4j.properties.j2",
        include_str!("../templates/log4j.properties.j2"),
    ),
    (
        "log4j2.properties.j2",
        include_str!("../templates/log4j2.properties.j2"),
    ),
    (
        "kafkup.service.j2",
        include_str!("../templates/kafkup.service.j2"),
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedFile {
    /// The node it configures (a restart of that node takes a change in effect).
    pub node: NodeId,
    /// Path below `render --out DIR`, e.g. `zookeeper/zoo.cfg`.
    pub rel: PathBuf,
    /// Where setup installs it.
    pub target: PathBuf,
    pub contents: String,
    pub mode: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {template}{}: {detail}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Template {
        template: String,
        line: Option<usize>,
        detail: String,
        /// The file it came from when `--templates` replaced the built-in one.
        overridden_by: Option<PathBuf>,
    },
    #[error("cannot read templates from {path}")]
    TemplatesDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} does not replace any template")]
    UnknownTemplate { path: PathBuf },
}

impl Diagnose for RenderError {
    fn help(&self) -> Option<String> {
        Some(match self {
            RenderError::Template {
                overridden_by: Some(path),
                ..
            } => format!(
                "fix {}, or remove it to use the built-in template",
                path.display()
            ),
            RenderError::Template { .. } => {
                "this is a bug in kafkup's built-in template; please report it".into()
            }
            RenderError::TemplatesDir { .. } => {
                "--templates must name a directory of *.j2 files".into()
            }
            RenderError::UnknownTemplate { .. } => format!(
                "templates are named after what they render: {}",
                TEMPLATES
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

/// What to render for one node: its config files, and (systemd) its unit.
pub struct ToRender<'a> {
    pub config: &'a NodeConfig,
    /// Where the node's config files go on the host.
    pub config_dir: &'a Path,
    pub unit: Option<Unit<'a>>,
}

/// What a node's systemd unit says.
#[derive(Serialize)]
pub struct Unit<'a> {
    pub spec: &'a ServiceSpec,
    pub command: &'a [String],
    pub service_user: &'a str,
    /// The file the unit reads its class-data archive options from, and their directory.
    pub archive_env: PathBuf,
    pub archive_dir: PathBuf,
}

/// Renders every node's config files (in node order), then their units.
pub fn render_all(
    nodes: &[ToRender],
    templates_dir: Option<&Path>,
) -> Result<Vec<RenderedFile>, RenderError> {
    let templates = Templates::load(templates_dir)?;
    let env = templates.environment()?;
    let render = |id: NodeId, template: &str, ctx: Value, rel: String, target: PathBuf| {
        let body = env
            .get_template(template)
            .and_then(|t| t.render(ctx))
            .map_err(|e| templates.error(e))?;
        Ok::<_, RenderError>(RenderedFile {
            node: id,
            contents: with_header(&rel, template, templates.overrides.get(template), &body),
            rel: PathBuf::from(rel),
            target,
            // The service user must read it, and nothing in it is secret.
            mode: 0o644,
        })
    };
    let mut files = Vec::new();
    for node in nodes {
        let id = node.config.node.id;
        let ctx = Value::from_serialize(node.config);
        for name in config_files(node.config) {
            let (rel, target) = (format!("{id}/{name}"), node.config_dir.join(name));
            files.push(render(id, &format!("{name}.j2"), ctx.clone(), rel, target)?);
        }
    }
    for (node, unit) in nodes.iter().filter_map(|n| Some((n, n.unit.as_ref()?))) {
        let id = node.config.node.id;
        let file = format!("{}.service", id.unit_name());
        let target = Path::new(defaults::SYSTEMD_UNIT_DIR).join(&file);
        let rel = format!("systemd/{file}");
        files.push(render(
            id,
            "kafkup.service.j2",
            unit_context(unit),
            rel,
            target,
        )?);
    }
    Ok(files)
}

/// The config files of a node, by the name they are written as.
fn config_files(config: &NodeConfig) -> Vec<&'static str> {
    match (&config.kafka, config.node.role) {
        (_, Role::Zookeeper) => vec!["zoo.cfg", "logback.xml"],
        (Some(kafka), _) => vec!["server.properties", kafka_logging_file(kafka.line)],
        (None, _) => unreachable!("a Kafka node has a Kafka config"),
    }
}

fn unit_context(unit: &Unit) -> Value {
    let requires: Vec<String> = unit
        .spec
        .requires
        .iter()
        .map(|r| format!("{}.service", r.unit_name()))
        .collect();
    context! {
        service => unit.spec,
        unit_name => unit.spec.name.unit_name(),
        // One node it needs is required (it stops with it); of several (an ensemble, a
        // quorum) one may fail, so they are only wanted.
        requires_units => (requires.len() == 1).then(|| requires.join(" ")),
        requires_what => match unit.spec.requires.first().map(|r| r.role()) {
            Some(Role::Zookeeper) => "ZooKeeper",
            _ => "the KRaft controller",
        },
        wants_units => (requires.len() > 1).then(|| requires.join(" ")),
        command => unit.command,
        service_user => unit.service_user,
        archive_env => unit.archive_env,
        archive_dir => unit.archive_dir,
        protect_home => protect_home(unit.spec),
    }
}

/// The built-in templates plus the replacements read from `--templates DIR`.
struct Templates {
    dir: Option<PathBuf>,
    /// Template name → contents of the file that replaces it.
    overrides: BTreeMap<String, String>,
}

impl Templates {
    fn load(dir: Option<&Path>) -> Result<Templates, RenderError> {
        let mut overrides = BTreeMap::new();
        if let Some(dir) = dir {
            let dir_error = |source| RenderError::TemplatesDir {
                path: dir.to_path_buf(),
                source,
            };
            for entry in std::fs::read_dir(dir).map_err(dir_error)? {
                let path = entry.map_err(dir_error)?.path();
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                // Editor backups and the like.
                if name.starts_with('.') {
                    continue;
                }
                // A misspelt name would silently leave the built-in template in use.
                if !TEMPLATES.iter().any(|(known, _)| *known == name) {
                    return Err(RenderError::UnknownTemplate { path });
                }
                let text =
                    std::fs::read_to_string(&path).map_err(|source| RenderError::TemplatesDir {
                        path: path.clone(),
                        source,
                    })?;
                overrides.insert(name.into_owned(), text);
            }
        }
        Ok(Templates {
            dir: dir.map(Path::to_path_buf),
            overrides,
        })
    }

    fn environment(&self) -> Result<Environment<'_>, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Keeps the template source in errors, so they can quote the failing expression.
        env.set_debug(true);
        // Nothing here is HTML; escaping is explicit, per file format, through the filters.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_filter("prop", |v: String| properties_escape(&v));
        env.add_filter("unit", |v: String| unit_escape(&v).map_err(filter_error));
        env.add_filter("exec_start", |v: Vec<String>| {
            exec_start(&v).map_err(filter_error)
        });
        env.add_filter("unit_command", |v: Vec<String>| {
            unit_command(&v).map_err(filter_error)
        });
        env.add_filter("unit_paths", |v: Vec<String>| {
            unit_path_list(&v).map_err(filter_error)
        });
        for (name, builtin) in TEMPLATES {
            let source = self.overrides.get(*name).map_or(*builtin, String::as_str);
            env.add_template(name, source).map_err(|e| self.error(e))?;
        }
        Ok(env)
    }

    fn error(&self, e: minijinja::Error) -> RenderError {
        let template = e.name().unwrap_or("?").to_string();
        let mut detail = match e.detail() {
            Some(detail) if e.kind() == minijinja::ErrorKind::SyntaxError => {
                format!("syntax error: {detail}")
            }
            Some(detail) => detail.to_string(),
            None => e.kind().to_string(),
        };
        // minijinja says "undefined value" without saying which: quote the line.
        if let (Some(src), Some(line)) = (e.template_source(), e.line()) {
            if let Some(text) = src.lines().nth(line - 1) {
                detail = format!("{detail}: `{}`", text.trim());
            }
        }
        let overridden_by = match (&self.dir, self.overrides.contains_key(&template)) {
            (Some(dir), true) => Some(dir.join(&template)),
            _ => None,
        };
        RenderError::Template {
            template,
            line: e.line(),
            detail,
            overridden_by,
        }
    }
}

/// Every file says where it came from and that hand edits will not survive.
fn with_header(rel: &str, template: &str, overridden: Option<&String>, body: &str) -> String {
    let origin = match overridden {
        Some(_) => format!("from your template {template} (--templates)"),
        None => format!("from its built-in template {template}"),
    };
    let xml = rel.ends_with(".xml");
    // XML forbids `--` inside a comment: name the option without its dashes there.
    let option = if xml {
        "the templates option (KAFKUP_TEMPLATES)"
    } else {
        "--templates DIR"
    };
    let origin = if xml {
        origin.replace("(--templates)", "(the templates option)")
    } else {
        origin
    };
    let lines = [
        format!("Generated by kafkup {origin}."),
        "Do not edit: kafkup overwrites this file. To change it, put your own".to_string(),
        format!("{template} in a directory and pass {option}."),
    ];
    if xml {
        // An XML declaration, if the template has one, must stay first.
        let (decl, rest) = match body.strip_prefix("<?xml") {
            Some(_) => body.split_at(body.find('\n').map_or(body.len(), |i| i + 1)),
            None => ("", body),
        };
        let comment = lines.map(|l| format!("     {l}\n")).concat();
        format!("{decl}<!--\n{comment}-->\n{rest}")
    } else {
        let comment = lines.map(|l| format!("# {l}\n")).concat();
        format!("{comment}\n{body}")
    }
}

/// `ProtectHome=yes` hides /home entirely; when the service's own files live there, only
/// make it read-only (its data dirs are writable through `ReadWritePaths=`).
fn protect_home(spec: &ServiceSpec) -> &'static str {
    let homes = ["/home", "/root", "/run/user"];
    let mut dirs = spec
        .data_dirs
        .iter()
        .chain(&spec.read_only_dirs)
        .chain([&spec.working_dir]);
    if dirs.any(|dir| {
        homes
            .iter()
            .any(|h| crate::paths::lexically_normal(dir).starts_with(h))
    }) {
        "read-only"
    } else {
        "yes"
    }
}

/// Java properties files are read as ISO-8859-1 with backslash escapes: escape backslashes,
/// line breaks and leading blanks, and write anything beyond ASCII as `\uXXXX`.
pub fn properties_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0c' => out.push_str("\\f"),
            ' ' if i == 0 => out.push_str("\\ "),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        }
    }
    out
}

/// A value that cannot be written into a unit file safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} cannot go into a systemd unit: {reason}")]
pub struct UnsafeUnitValue {
    pub value: String,
    pub reason: &'static str,
}

fn filter_error(e: UnsafeUnitValue) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
}

fn refuse_control(value: &str) -> Result<(), UnsafeUnitValue> {
    if value.chars().any(char::is_control) {
        // A newline would end the setting and start a new one.
        return Err(UnsafeUnitValue {
            value: value.to_string(),
            reason: "it contains a control character",
        });
    }
    Ok(())
}

/// A whole-line unit setting (`Description=`, `User=`, `WorkingDirectory=`): systemd expands
/// `%` specifiers in it, so a literal `%` is written `%%`.
pub fn unit_escape(value: &str) -> Result<String, UnsafeUnitValue> {
    refuse_control(value)?;
    Ok(value.replace('%', "%%"))
}

/// One argument of `ExecStart=`. systemd splits at whitespace, removes quotes, expands C
/// escapes, `%` specifiers and `$VAR`; undo all of that, quoting when the word needs it.
pub fn exec_arg(arg: &str) -> Result<String, UnsafeUnitValue> {
    refuse_control(arg)?;
    let mut out = String::with_capacity(arg.len() + 2);
    for c in arg.chars() {
        match c {
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    // A lone `;` would separate commands; quotes would be taken as quoting.
    let needs_quotes = arg.is_empty()
        || arg == ";"
        || arg.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"');
    Ok(if needs_quotes {
        format!("\"{out}\"")
    } else {
        out
    })
}

/// `ExecStart=`'s value: one argument per line, joined with systemd's line continuation.
pub fn unit_command(args: &[String]) -> Result<String, UnsafeUnitValue> {
    let words = args
        .iter()
        .map(|a| exec_arg(a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(words.join(" \\\n    "))
}

/// `ExecStart=`: the program, the archive options systemd expands from the unit's
/// environment file (zero or more words), then the arguments.
fn exec_start(command: &[String]) -> Result<String, UnsafeUnitValue> {
    let (program, args) = command
        .split_first()
        .expect("a command line is never empty");
    Ok(format!(
        "{} ${} \\\n    {}",
        unit_command(std::slice::from_ref(program))?,
        class_archive::UNIT_VARIABLE,
        unit_command(args)?
    ))
}

/// A space-separated path list (`ReadWritePaths=`). systemd unquotes it but keeps backslashes,
/// so paths with quotes or backslashes cannot be written; refuse them.
pub fn unit_path_list(paths: &[String]) -> Result<String, UnsafeUnitValue> {
    let words = paths
        .iter()
        .map(|p| {
            refuse_control(p)?;
            if p.contains(['"', '\'', '\\']) {
                return Err(UnsafeUnitValue {
                    value: p.clone(),
                    reason: "a path in a list setting cannot contain quotes or backslashes",
                });
            }
            let p = p.replace('%', "%%");
            Ok(if p.contains(char::is_whitespace) {
                format!("\"{p}\"")
            } else {
                p
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_values_escape_specifiers_and_refuse_newlines() {
        assert_eq!(unit_escape("50% of /srv").unwrap(), "50%% of /srv");
        assert!(unit_escape("a\nExecStartPre=/bin/evil").is_err());
    }

    #[test]
    fn exec_args_are_quoted_only_when_needed() {
        let q = |s| exec_arg(s).unwrap();
        assert_eq!(q("-Xmx1g"), "-Xmx1g");
        assert_eq!(q("/srv/k/libs/*"), "/srv/k/libs/*");
        assert_eq!(
            q("-XX:ErrorFile=/d/hs_err_pid%p.log"),
            "-XX:ErrorFile=/d/hs_err_pid%%p.log"
        );
        assert_eq!(q("/my data/zoo.cfg"), "\"/my data/zoo.cfg\"");
        assert_eq!(q("$HOME"), "$$HOME");
        assert_eq!(q(r#"say "hi"\"#), r#""say \"hi\"\\""#);
        assert_eq!(q("it's"), "\"it's\"");
        assert_eq!(q(";"), "\";\"");
        assert_eq!(q(""), "\"\"");
        assert!(exec_arg("tab\there").is_err());
    }

    #[test]
    fn commands_continue_over_lines() {
        let cmd = unit_command(&["/usr/bin/java".into(), "-cp".into(), "/a b/*".into()]).unwrap();
        assert_eq!(cmd, "/usr/bin/java \\\n    -cp \\\n    \"/a b/*\"");
    }

    #[test]
    fn path_lists_quote_spaces_and_refuse_quotes() {
        let list =
            unit_path_list(&["/srv/a".into(), "/srv/my data".into(), "/x%y".into()]).unwrap();
        assert_eq!(list, "/srv/a \"/srv/my data\" /x%%y");
        assert!(unit_path_list(&["/srv/\"x".into()]).is_err());
        assert!(unit_path_list(&["/srv/a\\b".into()]).is_err());
    }

    #[test]
    fn properties_values_survive_iso_8859_1() {
        assert_eq!(properties_escape("/srv/kafka"), "/srv/kafka");
        assert_eq!(properties_escape("C:\\x"), "C:\\\\x");
        assert_eq!(properties_escape(" lead"), "\\ lead");
        assert_eq!(
            properties_escape("/home/данные"),
            "/home/\\u0434\\u0430\\u043D\\u043D\\u044B\\u0435"
        );
        assert_eq!(properties_escape("😀"), "\\uD83D\\uDE00");
    }

    #[test]
    fn xml_header_goes_after_a_declaration() {
        let body = "<?xml version=\"1.0\"?>\n<configuration/>\n";
        let out = with_header("zookeeper/logback.xml", "logback.xml.j2", None, body);
        assert!(out.starts_with("<?xml version=\"1.0\"?>\n<!--\n"), "{out}");
        assert!(out.ends_with("-->\n<configuration/>\n"), "{out}");
    }
}

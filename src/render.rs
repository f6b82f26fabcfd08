//! Renders every config file and systemd unit from the plan. Templates are built into the
//! binary; `--templates DIR` replaces any of them by file name. Pure apart from reading that
//! directory: nothing is written here (the command layer writes the files).

use crate::catalog::VersionNumber;
use crate::class_archive;
use crate::error::Diagnose;
use crate::plan::{KafkaLogging, Plan};
use crate::spec::{ServiceName, ServiceSpec};
use minijinja::{context, Environment, UndefinedBehavior, Value};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

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

/// Where systemd looks for units an administrator installed.
pub const SYSTEMD_UNIT_DIR: &str = "/etc/systemd/system";

/// Directories the system empties (on boot or by age): data there would be lost.
const TEMP_DIRS: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
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
    #[error("{what} {path} is in {temp_dir}, which the system empties: the data would be lost")]
    DataInTempDir {
        what: &'static str,
        path: PathBuf,
        temp_dir: &'static str,
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
            RenderError::DataInTempDir { .. } => {
                "choose a root outside temporary directories with --root DIR (or KAFKUP_ROOT)"
                    .into()
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

/// Renders the config files the plan needs and one systemd unit per spec, whose
/// `ExecStart=` runs `java`.
pub fn render_all(
    plan: &Plan,
    specs: &[ServiceSpec],
    java: &Path,
    templates_dir: Option<&Path>,
) -> Result<Vec<RenderedFile>, RenderError> {
    check_data_dirs(plan)?;
    let templates = Templates::load(templates_dir)?;
    let env = templates.environment()?;
    let base = context! {
        plan => plan,
        kafka_major => VersionNumber::parse(&plan.kafka.artifact.version).0,
    };
    let render = |template: &str, ctx: Value, rel: &str, target: PathBuf| {
        let body = env
            .get_template(template)
            .and_then(|t| t.render(ctx))
            .map_err(|e| templates.error(e))?;
        Ok::<_, RenderError>(RenderedFile {
            contents: with_header(rel, template, templates.overrides.get(template), &body),
            rel: PathBuf::from(rel),
            target,
            // The service user must read it, and nothing in it is secret.
            mode: 0o644,
        })
    };

    let mut files = Vec::new();
    if let Some(zk) = &plan.zookeeper {
        for (template, name) in [("zoo.cfg.j2", "zoo.cfg"), ("logback.xml.j2", "logback.xml")] {
            let rel = format!("zookeeper/{name}");
            files.push(render(
                template,
                base.clone(),
                &rel,
                zk.config_dir.join(name),
            )?);
        }
    }
    let logging = match plan.kafka.logging {
        KafkaLogging::Log4j => "log4j.properties",
        KafkaLogging::Log4j2 => "log4j2.properties",
    };
    for name in ["server.properties", logging] {
        let rel = format!("kafka/{name}");
        let target = plan.kafka.config_dir.join(name);
        files.push(render(&format!("{name}.j2"), base.clone(), &rel, target)?);
    }
    for spec in specs {
        let unit = format!("{}.service", spec.name.unit_name());
        let ctx = context! {
            service => spec,
            unit_name => spec.name.unit_name(),
            requires_unit => spec.requires.map(|r: ServiceName| format!("{}.service", r.unit_name())),
            command => spec.command(java),
            archive_env => class_archive::unit_env_file(&plan.paths, spec.name),
            archive_dir => class_archive::dir(&plan.paths),
            protect_home => protect_home(spec),
            ..base.clone()
        };
        let target = Path::new(SYSTEMD_UNIT_DIR).join(&unit);
        files.push(render(
            "kafkup.service.j2",
            ctx,
            &format!("systemd/{unit}"),
            target,
        )?);
    }
    Ok(files)
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

/// Refuses data directories that the system empties.
pub fn check_data_dirs(plan: &Plan) -> Result<(), RenderError> {
    let mut dirs = vec![("Kafka data directory", &plan.kafka.data_dir)];
    if let Some(zk) = &plan.zookeeper {
        dirs.push(("ZooKeeper data directory", &zk.data_dir));
    }
    for (what, path) in dirs {
        // As written, and where it really is: a root that is a symlink into /tmp counts.
        let seen = [
            lexically_normal(path),
            crate::files::resolve_existing_prefix(path),
        ];
        let temp_dir = TEMP_DIRS.iter().find(|t| {
            let real_t = std::fs::canonicalize(t).unwrap_or_else(|_| PathBuf::from(t));
            seen.iter()
                .any(|p| p.starts_with(t) || p.starts_with(&real_t))
        });
        if let Some(temp_dir) = temp_dir {
            return Err(RenderError::DataInTempDir {
                what,
                path: path.clone(),
                temp_dir,
            });
        }
    }
    Ok(())
}

/// Resolves `.` and `..` without touching the disk, so `/srv/../tmp/x` is seen as `/tmp/x`.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
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
    if dirs.any(|dir| homes.iter().any(|h| lexically_normal(dir).starts_with(h))) {
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
    use crate::catalog::Mode;
    use crate::paths::Paths;
    use crate::settings::{ConfigFile, Overrides, Settings};
    use crate::spec::service_specs;

    fn plan(mode: Mode, root: &str) -> Plan {
        let over = Overrides {
            mode: Some(mode),
            root: Some(root.into()),
            ..Default::default()
        };
        let settings = Settings::resolve(over, ConfigFile::default(), || {
            Paths::under_root(Path::new(root))
        })
        .unwrap();
        Plan::from_settings(&settings)
    }

    fn render(plan: &Plan, dir: Option<&Path>) -> Result<Vec<RenderedFile>, RenderError> {
        render_all(plan, &service_specs(plan), Path::new("/usr/bin/java"), dir)
    }

    fn file<'a>(files: &'a [RenderedFile], rel: &str) -> &'a RenderedFile {
        files
            .iter()
            .find(|f| f.rel == Path::new(rel))
            .unwrap_or_else(|| panic!("{rel} not rendered"))
    }

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
    fn data_in_tmp_is_refused() {
        for root in ["/tmp/kafkup", "/var/tmp/k", "/srv/../tmp/k"] {
            let err = render(&plan(Mode::Zookeeper, root), None).unwrap_err();
            assert!(
                matches!(err, RenderError::DataInTempDir { .. }),
                "{root}: {err}"
            );
            assert!(err.help().unwrap().contains("--root"));
        }
        assert!(render(&plan(Mode::Zookeeper, "/srv/tmp"), None).is_ok());
        assert!(render(&plan(Mode::Kraft, "/tmpfoo"), None).is_ok());
    }

    #[test]
    fn data_in_tmp_through_a_symlink_is_refused() {
        let home = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let in_tmp = tempfile::tempdir_in("/tmp").unwrap();
        let root = home.path().join("root");
        std::os::unix::fs::symlink(in_tmp.path(), &root).unwrap();
        let err = render(&plan(Mode::Kraft, root.to_str().unwrap()), None).unwrap_err();
        assert!(matches!(err, RenderError::DataInTempDir { .. }), "{err}");
        // The same with only the data directory linked there.
        let real = home.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(in_tmp.path(), real.join("data")).unwrap();
        let err = render(&plan(Mode::Zookeeper, real.to_str().unwrap()), None).unwrap_err();
        assert!(matches!(err, RenderError::DataInTempDir { .. }), "{err}");
        let checkout_in_tmp = TEMP_DIRS
            .iter()
            .any(|t| std::fs::canonicalize(home.path()).unwrap().starts_with(t));
        if !checkout_in_tmp {
            assert!(render(&plan(Mode::Zookeeper, home.path().to_str().unwrap()), None).is_ok());
        }
    }

    #[test]
    fn every_file_starts_with_the_generated_header() {
        for mode in [Mode::Zookeeper, Mode::Kraft] {
            for f in render(&plan(mode, "/srv/k"), None).unwrap() {
                let first = f.contents.lines().take(2).collect::<Vec<_>>().join("\n");
                assert!(
                    first.contains("Generated by kafkup"),
                    "{}:\n{first}",
                    f.rel.display()
                );
                assert!(f.contents.ends_with('\n'));
                assert!(
                    !f.contents.contains("\n\n\n"),
                    "{} has blank runs",
                    f.rel.display()
                );
            }
        }
    }

    #[test]
    fn kraft_with_kafka_3_uses_reload4j() {
        let mut p = plan(Mode::Kraft, "/srv/k");
        p.kafka.logging = KafkaLogging::Log4j;
        let rels: Vec<_> = render(&p, None)
            .unwrap()
            .into_iter()
            .map(|f| f.rel)
            .collect();
        assert!(rels.contains(&PathBuf::from("kafka/log4j.properties")));
        assert!(!rels.contains(&PathBuf::from("kafka/log4j2.properties")));
    }

    #[test]
    fn a_templates_dir_replaces_only_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("zoo.cfg.j2"), "tickTime={{ 1000 * 2 }}\n").unwrap();
        std::fs::write(dir.path().join(".zoo.cfg.j2.swp"), "ignored").unwrap();
        let files = render(&plan(Mode::Zookeeper, "/srv/k"), Some(dir.path())).unwrap();
        let zoo = &file(&files, "zookeeper/zoo.cfg").contents;
        assert!(zoo.ends_with("\ntickTime=2000\n"), "{zoo}");
        assert!(zoo.contains("your template zoo.cfg.j2"));
        let server = &file(&files, "kafka/server.properties").contents;
        assert!(server.contains("built-in template server.properties.j2"));
    }

    #[test]
    fn a_misnamed_template_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("zoo.cfg"), "tickTime=2000\n").unwrap();
        let err = render(&plan(Mode::Zookeeper, "/srv/k"), Some(dir.path())).unwrap_err();
        assert!(matches!(err, RenderError::UnknownTemplate { .. }), "{err}");
        assert!(err.help().unwrap().contains("zoo.cfg.j2"));
    }

    #[test]
    fn a_missing_templates_dir_is_an_error() {
        let err = render(
            &plan(Mode::Kraft, "/srv/k"),
            Some(Path::new("/nonexistent/kafkup")),
        )
        .unwrap_err();
        assert!(matches!(err, RenderError::TemplatesDir { .. }), "{err}");
    }

    #[test]
    fn an_undefined_variable_names_the_template_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let tmpl = "a=1\nb={{ plan.kafka.no_such_field }}\n";
        std::fs::write(dir.path().join("server.properties.j2"), tmpl).unwrap();
        let err = render(&plan(Mode::Kraft, "/srv/k"), Some(dir.path())).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("template server.properties.j2 line 2:"),
            "{msg}"
        );
        assert!(
            msg.contains("undefined value: `b={{ plan.kafka.no_such_field }}`"),
            "{msg}"
        );
        let help = err.help().unwrap();
        assert!(
            help.contains(
                &dir.path()
                    .join("server.properties.j2")
                    .display()
                    .to_string()
            ),
            "{help}"
        );
    }

    #[test]
    fn a_syntax_error_names_the_template_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("log4j2.properties.j2"), "x=1\n\n{% if %}\n").unwrap();
        let err = render(&plan(Mode::Kraft, "/srv/k"), Some(dir.path())).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("template log4j2.properties.j2 line 3:"),
            "{msg}"
        );
    }

    #[test]
    fn a_value_unsafe_for_a_unit_is_a_template_error() {
        let p = plan(Mode::Kraft, "/srv/k");
        let mut specs = service_specs(&p);
        specs[0].description = "evil\nExecStartPre=/bin/sh".into();
        let err = render_all(&p, &specs, Path::new("/usr/bin/java"), None).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("template kafkup.service.j2 line 2:"),
            "{msg}"
        );
        assert!(msg.contains("control character"), "{msg}");
    }

    #[test]
    fn home_is_read_only_not_hidden_when_the_service_lives_there() {
        let p = plan(Mode::Kraft, "/home/dev/kafkup");
        let files = render(&p, None).unwrap();
        assert!(file(&files, "systemd/kafkup-kafka.service")
            .contents
            .contains("\nProtectHome=read-only\n"));
        let files = render(&plan(Mode::Kraft, "/srv/k"), None).unwrap();
        assert!(file(&files, "systemd/kafkup-kafka.service")
            .contents
            .contains("\nProtectHome=yes\n"));
    }

    #[test]
    fn xml_header_goes_after_a_declaration() {
        let body = "<?xml version=\"1.0\"?>\n<configuration/>\n";
        let out = with_header("zookeeper/logback.xml", "logback.xml.j2", None, body);
        assert!(out.starts_with("<?xml version=\"1.0\"?>\n<!--\n"), "{out}");
        assert!(out.ends_with("-->\n<configuration/>\n"), "{out}");
    }
}

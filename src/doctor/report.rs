//! What `doctor` finds: a list of checks, each with a verdict, what it saw and what to do.
//! Pure: the checks that look are in [`super::local`] and [`super::remote`].

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Warning,
    Problem,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warning => "warning",
            Verdict::Problem => "problem",
        }
    }
}

/// One check: `name` says what was looked at (`java`, `node kafka`, `data kafka`,
/// `listener 127.0.0.1:9092`), `saw` what was found, `help` what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub verdict: Verdict,
    pub saw: String,
    pub help: Option<String>,
}

impl Check {
    pub fn ok(name: impl Into<String>, saw: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            verdict: Verdict::Ok,
            saw: saw.into(),
            help: None,
        }
    }

    pub fn warning(
        name: impl Into<String>,
        saw: impl Into<String>,
        help: impl Into<String>,
    ) -> Check {
        Check::with_help(Verdict::Warning, name.into(), saw.into(), help.into())
    }

    pub fn problem(
        name: impl Into<String>,
        saw: impl Into<String>,
        help: impl Into<String>,
    ) -> Check {
        Check::with_help(Verdict::Problem, name.into(), saw.into(), help.into())
    }

    fn with_help(verdict: Verdict, name: String, saw: String, help: String) -> Check {
        Check {
            name,
            verdict,
            saw,
            help: Some(help),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// What was examined: the environment's state directory, or a bootstrap address.
    pub subject: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn worst(&self) -> Verdict {
        self.checks
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::Ok)
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == verdict).count()
    }

    /// The report in words: a line a check, its help below it, and a summary.
    pub fn text(&self) -> String {
        let mut out = format!("doctor: {}\n", self.subject);
        for check in &self.checks {
            out.push_str(&format!(
                "{:<8} {}: {}\n",
                check.verdict.as_str(),
                check.name,
                check.saw
            ));
            if let Some(help) = &check.help {
                out.push_str(&format!("{:<8} help: {help}\n", ""));
            }
        }
        out.push_str(&format!(
            "{} checks: {} ok, {} warning(s), {} problem(s)\n",
            self.checks.len(),
            self.count(Verdict::Ok),
            self.count(Verdict::Warning),
            self.count(Verdict::Problem)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_verdict_decides_and_help_follows_its_check() {
        let report = Report {
            subject: "/srv/k/state".into(),
            checks: vec![
                Check::ok("java", "17"),
                Check::problem("node kafka", "failed", "kafkup start kafka"),
                Check::warning("disk", "9% free", "make room"),
            ],
        };
        assert_eq!(report.worst(), Verdict::Problem);
        let text = report.text();
        assert!(
            text.contains("problem  node kafka: failed\n         help: kafkup start kafka\n"),
            "{text}"
        );
        assert!(
            text.ends_with("3 checks: 1 ok, 1 warning(s), 1 problem(s)\n"),
            "{text}"
        );
        assert_eq!(Report::default().worst(), Verdict::Ok);
    }
}

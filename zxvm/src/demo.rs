//! `zxvm demo`: the classic scenarios of a virtual-memory manager. Each is one of the
//! example scripts (`zxvm/examples/`, embedded here), run in a fresh process: every
//! step through real `zx_*` calls, every check counted, the map printed after every
//! step.

use crate::exec::{Outcome, RunOptions, Runner};
use crate::session::Session;
use crate::{script, svg};
use std::io::{self, Write};
use std::path::PathBuf;

/// The scenarios, in order: title and script.
const SCENARIOS: [(&str, &str); 5] = [
    (
        "a heap that grows and shrinks inside a 1 GiB placeholder",
        include_str!("../examples/heap.zxvm"),
    ),
    (
        "a large demand-paged mapping",
        include_str!("../examples/paging.zxvm"),
    ),
    (
        "a mirrored ring buffer",
        include_str!("../examples/ring.zxvm"),
    ),
    (
        "a thread stack with a guard page",
        include_str!("../examples/stack.zxvm"),
    ),
    (
        "rights: a read-only handle cannot map writable",
        include_str!("../examples/rights.zxvm"),
    ),
];

/// Number of scenarios.
pub const SCENARIO_COUNT: usize = SCENARIOS.len();

/// What a demo run found.
#[derive(Debug, Default)]
pub struct Summary {
    /// Checks that held.
    pub passed: usize,
    /// Checks that failed or calls that returned an unexpected status, described.
    pub failed: Vec<String>,
}

/// Options of `zxvm demo`.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    /// Run only this scenario (1 to 5).
    pub only: Option<usize>,
    /// Write `scenario-N.svg` into this directory after each scenario.
    pub svg_dir: Option<PathBuf>,
}

/// Runs the scenarios, printing to `out`.
///
/// # Errors
/// Only a failure to write the output or an SVG file.
pub fn run(options: &DemoOptions, out: &mut dyn Write) -> io::Result<Summary> {
    let mut summary = Summary::default();
    for (index, (title, source)) in SCENARIOS.iter().enumerate() {
        let number = index + 1;
        if options.only.is_some_and(|n| n != number) {
            continue;
        }
        writeln!(out, "\n=== Scenario {number}: {title} ===")?;
        let session = Session::new();
        let script = match script::parse(source) {
            Ok(script) => script,
            Err(errors) => {
                let name = format!("scenario {number}");
                summary
                    .failed
                    .extend(errors.iter().map(|e| e.render(&name, source)));
                continue;
            }
        };
        let run_options = RunOptions {
            keep_going: true,
            ..RunOptions::default()
        };
        let mut runner = Runner::new(&session, &mut *out, run_options);
        let outcome = runner.run(&script)?;
        summary.passed += runner.checks_passed;
        let failures = match outcome {
            Outcome::Passed => Vec::new(),
            Outcome::Failed(errors) => errors,
            Outcome::BadInput(error) => vec![error],
        };
        summary.failed.extend(
            failures
                .iter()
                .map(|e| format!("scenario {number}, line {}: {}", e.line, e.message)),
        );
        if let Some(dir) = &options.svg_dir {
            if let Ok(report) = session.maps() {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("scenario-{number}.svg"));
                let title = format!("zxvm demo, scenario {number}: {title}");
                std::fs::write(&path, svg::render(&report.entries, &title))?;
                writeln!(out, "  (map written to {})", path.display())?;
            }
        }
    }
    writeln!(
        out,
        "\n{} checks passed, {} failed",
        summary.passed,
        summary.failed.len()
    )?;
    for failure in &summary.failed {
        writeln!(out, "  FAILED: {failure}")?;
    }
    Ok(summary)
}

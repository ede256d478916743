//! `zxvm`: shows the virtual-memory model at work on the unix backend.
//!
//! - `zxvm demo` runs the classic scenarios of a virtual-memory manager (a heap in a
//!   placeholder, demand paging, a mirrored ring buffer, a stack with a guard page,
//!   rights): the example scripts, built in, printing the map and every check.
//! - `zxvm run FILE` replays a script of syscalls, one per line (see `README.md`).
//! - `zxvm maps [FILE]` prints the address-space tree, as text or as SVG.
//! - `zxvm calls` prints the calls a script can name, from the syscall table.
//!
//! It depends on `zircon-syscall` for the calls and on `zircon-tests` for a process
//! on the unix HAL. It touches user memory through raw pointers only for the
//! `poke`, `peek` and `touch` built-ins, and only where the map shows a mapping that
//! permits the access.
//!
//! Exit status: 0 when everything held, 1 when a call returned an unexpected status
//! or a check failed, 2 when the input was bad (usage, script syntax, unreadable file).

mod calls;
mod consts;
mod demo;
mod exec;
mod fmt;
mod info;
mod maps;
mod script;
mod session;
mod status;
mod svg;

use clap::{Args, Parser, Subcommand};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Zircon's virtual-memory model at work: a demo, a syscall-script runner, and
/// address-space maps as text and SVG.
#[derive(Parser, Debug)]
#[command(
    name = "zxvm",
    version,
    about,
    long_about = None,
    after_help = "Exit status: 0 when every call and check held, 1 when a call returned an \
                  unexpected status or a check failed, 2 when the input was bad.\n\
                  Script format and examples: zxvm/README.md, zxvm/examples/."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the five classic VM scenarios, printing every call, check and map.
    ///
    /// Each scenario runs in a fresh process on the unix backend: (1) a heap that grows
    /// and shrinks inside a 1 GiB placeholder, (2) a large demand-paged mapping,
    /// (3) a mirrored ring buffer, (4) a thread stack with a guard page, (5) a
    /// read-only handle that cannot be mapped writable. Exits 1 if any check fails.
    Demo(DemoArgs),
    /// Run a script of syscalls, one per line; `-` reads standard input.
    ///
    /// Prints each line, its status and its results. Exits 1 on the first status the
    /// line did not expect (or after all lines with --keep-going), 2 on a script error.
    /// The format is described in zxvm/README.md.
    Run(RunArgs),
    /// Print the address-space tree (after running FILE, if given).
    ///
    /// One line per ZX_INFO_PROCESS_MAPS entry, indented by depth: base, size,
    /// permissions, name, VMO koid and committed pages.
    Maps(MapsArgs),
    /// Print every syscall a script can name: its signature (parameters a line may
    /// leave off in brackets) and the results zxvm prints when they are left off.
    Calls,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Run only this scenario.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=demo::SCENARIO_COUNT as i64))]
    scenario: Option<u8>,
    /// Write each scenario's final map as DIR/scenario-N.svg.
    #[arg(long, value_name = "DIR")]
    svg_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The script, or `-` for standard input.
    #[arg(value_name = "FILE")]
    script: PathBuf,
    /// Print the address-space tree after the run.
    #[arg(long)]
    maps: bool,
    /// Draw the address space after the run as SVG into this file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Also print each call's evaluated arguments.
    #[arg(short, long)]
    verbose: bool,
    /// Go on after an unexpected status.
    #[arg(long)]
    keep_going: bool,
}

#[derive(Args, Debug)]
struct MapsArgs {
    /// A script to run first (quietly, printing only failures); `-` reads standard
    /// input. Without it, the map of a fresh process.
    #[arg(value_name = "FILE")]
    script: Option<PathBuf>,
    /// Also draw the tree as SVG into this file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// A checked result did not hold (exit 1).
const EXIT_FAILED: u8 = 1;
/// The input was bad (exit 2, as clap's own usage errors).
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => run_demo(args),
        Command::Run(args) => run_script(
            &args.script,
            exec::RunOptions {
                verbose: args.verbose,
                keep_going: args.keep_going,
                quiet: false,
            },
            args.maps,
            args.svg.as_deref(),
        ),
        Command::Maps(args) => match &args.script {
            Some(path) => run_script(
                path,
                exec::RunOptions {
                    quiet: true,
                    ..Default::default()
                },
                true,
                args.svg.as_deref(),
            ),
            None => show_fresh_maps(args.svg.as_deref()),
        },
        Command::Calls => {
            print!("{}", calls::table());
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn run_demo(args: DemoArgs) -> Result<u8, String> {
    let options = demo::DemoOptions {
        only: args.scenario.map(usize::from),
        svg_dir: args.svg_dir,
    };
    let stdout = io::stdout();
    let summary = demo::run(&options, &mut stdout.lock()).map_err(|e| e.to_string())?;
    Ok(if summary.failed.is_empty() {
        0
    } else {
        EXIT_FAILED
    })
}

/// Reads a script file, or standard input for `-`.
fn read_source(path: &Path) -> Result<(String, String), String> {
    if path == Path::new("-") {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(("<stdin>".into(), text))
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok((path.display().to_string(), text))
    }
}

fn run_script(
    path: &Path,
    options: exec::RunOptions,
    show_maps: bool,
    svg_path: Option<&Path>,
) -> Result<u8, String> {
    let (name, source) = read_source(path)?;
    let script = match script::parse(&source) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprint!("{}", e.render(&name, &source));
            }
            eprintln!(
                "{} error{} in {name}; nothing was run",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            return Ok(EXIT_BAD_INPUT);
        }
    };
    let session = session::Session::new();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let outcome = exec::Runner::new(&session, &mut out, options)
        .run(&script)
        .map_err(|e| e.to_string())?;
    let code = match &outcome {
        exec::Outcome::Passed => 0,
        exec::Outcome::Failed(failures) => {
            for e in failures {
                eprint!("{}", e.render(&name, &source));
            }
            EXIT_FAILED
        }
        exec::Outcome::BadInput(e) => {
            eprint!("{}", e.render(&name, &source));
            eprintln!("the run stopped at line {}", e.line);
            EXIT_BAD_INPUT
        }
    };
    finish(&session, &mut out, show_maps, svg_path, &name)?;
    Ok(code)
}

fn show_fresh_maps(svg_path: Option<&Path>) -> Result<u8, String> {
    let session = session::Session::new();
    let stdout = io::stdout();
    finish(
        &session,
        &mut stdout.lock(),
        true,
        svg_path,
        "a fresh process",
    )?;
    Ok(0)
}

/// Prints the map and writes the SVG, as asked.
fn finish(
    session: &session::Session,
    out: &mut dyn Write,
    show_maps: bool,
    svg_path: Option<&Path>,
    what: &str,
) -> Result<(), String> {
    if !show_maps && svg_path.is_none() {
        return Ok(());
    }
    let report = session.maps().map_err(|st| {
        format!(
            "cannot list the address space: ZX_INFO_PROCESS_MAPS failed with {} \
                 (zxvm's buffers live in the scratch area; was it unmapped?)",
            status::describe(st)
        )
    })?;
    if show_maps {
        write!(out, "{}", maps::render(&report)).map_err(|e| e.to_string())?;
    }
    if let Some(path) = svg_path {
        let picture = svg::render(
            &report.entries,
            &format!("zxvm: address space after {what}"),
        );
        std::fs::write(path, picture)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn arguments_parse_as_documented() {
        let cli =
            Cli::try_parse_from(["zxvm", "run", "-", "--maps", "--svg", "a.svg", "-v"]).unwrap();
        match cli.command {
            Command::Run(a) => {
                assert_eq!(a.script, PathBuf::from("-"));
                assert!(a.maps && a.verbose && !a.keep_going);
                assert_eq!(a.svg, Some(PathBuf::from("a.svg")));
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["zxvm", "demo", "--scenario", "6"]).is_err());
        assert!(Cli::try_parse_from(["zxvm", "demo", "--scenario", "5"]).is_ok());
        assert!(Cli::try_parse_from(["zxvm", "run"]).is_err());
        assert!(Cli::try_parse_from(["zxvm", "maps"]).is_ok());
        assert!(Cli::try_parse_from(["zxvm", "calls"]).is_ok());
    }
}

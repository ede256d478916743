//! Runs the `zxvm` binary as a subprocess: the demo, the example scripts, broken
//! scripts (each with its error, place and exit status), standard input, `--help`,
//! and the SVG (parsed as XML, one shape per map entry).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn zxvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zxvm"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("zxvm runs")
}

fn zxvm_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zxvm"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zxvm runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `zxvm run` on one of `tests/scripts/` and checks its exit status: stdout and
/// stderr.
fn run_failing(script: &str, code: i32) -> (String, String) {
    let out = zxvm(&["run", &format!("tests/scripts/{script}")]);
    assert_eq!(out.status.code(), Some(code), "{script}");
    (text(&out.stdout), text(&out.stderr))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zxvm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn demo_runs_every_scenario_and_every_check_passes() {
    let out = zxvm(&["demo"]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    for n in 1..=5 {
        assert!(
            stdout.contains(&format!("=== Scenario {n}:")),
            "scenario {n} missing"
        );
    }
    assert!(!stdout.contains("check FAIL"));
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.contains("checks passed"))
        .unwrap();
    let passed: usize = summary.split_whitespace().next().unwrap().parse().unwrap();
    assert!(passed >= 46, "{summary}");
    assert!(summary.ends_with("0 failed"), "{summary}");
    // Maps are printed after steps, and show the scenarios' objects.
    assert!(stdout.matches("] maps()").count() >= 15);
    for name in [
        "\"heap\"",
        "\"placeholder\"",
        "\"big\"",
        "\"ring\"",
        "\"stack\"",
        "\"shared\"",
    ] {
        assert!(stdout.contains(name), "{name} never appears in a map");
    }
}

#[test]
fn demo_runs_one_scenario_and_writes_its_svg() {
    let dir = temp_path("demo-svg");
    let out = zxvm(&[
        "demo",
        "--scenario",
        "3",
        "--svg-dir",
        dir.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("=== Scenario 3: a mirrored ring buffer"));
    assert!(!stdout.contains("Scenario 1"));
    let svg = std::fs::read_to_string(dir.join("scenario-3.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let mappings = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("mapping"))
        .count();
    assert_eq!(mappings, 3, "two ring copies and the scratch area");
}

#[test]
fn example_scripts_run_clean() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut ran = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "zxvm") {
            let out = zxvm(&["run", path.to_str().unwrap()]);
            assert!(
                out.status.success(),
                "{}:\n{}\n{}",
                path.display(),
                text(&out.stdout),
                text(&out.stderr)
            );
            assert!(text(&out.stderr).is_empty());
            ran += 1;
        }
    }
    assert!(ran >= 4, "only {ran} examples");
}

#[test]
fn a_run_prints_each_line_its_status_and_its_results() {
    let out = zxvm(&["run", "examples/ring.zxvm"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("[8] $ring = zx_vmo_create(64K, 0)\n    = ZX_OK  $ring = 0x"));
    assert!(stdout
        .contains("[20] zx_vmo_read($ring, $scratch, 0, 8)\n    = ZX_OK\n    bytes: \"89abcdef\""));
    assert!(stdout.contains("\n-- 3.2 write 16 bytes starting 8 bytes before the end"));
    assert!(stdout.contains("committed 8 KiB mappings 2"));
}

#[test]
fn unknown_call_is_named_with_its_place_and_nothing_runs() {
    let (stdout, stderr) = run_failing("unknown-call.zxvm", 2);
    assert!(
        stderr.contains("tests/scripts/unknown-call.zxvm:3:9: unknown call `zx_vmar_mapp` (did you mean `zx_vmar_map`?)"),
        "{stderr}"
    );
    assert!(stderr.contains("3 | $addr = zx_vmar_mapp("));
    assert!(stderr.contains("nothing was run"));
    assert!(stdout.is_empty(), "line 2 must not have run");
}

#[test]
fn bad_number_is_named_with_its_place() {
    let (stdout, stderr) = run_failing("bad-number.zxvm", 2);
    assert!(
        stderr.contains("bad-number.zxvm:2:22: bad number `0x10g00`: `g` is not a hex digit"),
        "{stderr}"
    );
    assert!(stdout.is_empty());
}

#[test]
fn undefined_name_is_named_with_its_place() {
    let (stdout, stderr) = run_failing("undefined-name.zxvm", 2);
    assert!(
        stderr.contains("undefined-name.zxvm:3:17: undefined name `$vmoo` (did you mean `$vmo`?)"),
        "{stderr}"
    );
    assert!(stdout.is_empty());
}

#[test]
fn wrong_status_stops_the_run_and_exits_1() {
    let (stdout, stderr) = run_failing("wrong-status.zxvm", 1);
    assert!(stdout.contains("[3] $vmo = zx_vmo_create(64K, 0)\n    = ZX_OK"));
    assert!(
        stdout.contains("    = ZX_ERR_ACCESS_DENIED, expected ZX_OK"),
        "{stdout}"
    );
    assert!(!stdout.contains("[6]"), "the run goes no further");
    assert!(
        stderr.contains(
            "wrong-status.zxvm:5:9: `zx_vmar_map` returned ZX_ERR_ACCESS_DENIED, expected ZX_OK"
        ),
        "{stderr}"
    );
}

#[test]
fn keep_going_runs_past_a_wrong_status() {
    let out = zxvm(&["run", "--keep-going", "tests/scripts/wrong-status.zxvm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("[6] zx_handle_close($vmo)\n    = ZX_OK"));
}

#[test]
fn a_name_left_unbound_by_a_failed_line_stops_the_run_with_its_reason() {
    let (stdout, stderr) = run_failing("unbound-at-run-time.zxvm", 2);
    assert!(stdout.contains("    = ZX_ERR_OUT_OF_RANGE\n"), "{stdout}");
    assert!(
        stderr.contains("unbound-at-run-time.zxvm:4:17: `$vmo` has no value: line 3, which binds it, returned ZX_ERR_OUT_OF_RANGE"),
        "{stderr}"
    );
}

#[test]
fn a_failed_memory_check_exits_1() {
    let (stdout, stderr) = run_failing("check-fails.zxvm", 1);
    assert!(stdout.contains("check failed: memory at 0x"));
    assert!(stderr.contains("check failed"));
}

#[test]
fn scripts_come_from_standard_input_with_dash() {
    let script = "$v = zx_vmo_create(8K, 0)\nzx_vmo_get_size($v)\nzx_handle_close($v)\nzx_handle_close($v) -> ZX_ERR_BAD_HANDLE\n";
    let out = zxvm_stdin(&["run", "-", "-v"], script);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("= ZX_OK  size = 0x2000 (8 KiB)"),
        "{stdout}"
    );
    assert!(stdout.contains("    args: (0x2000, 0x0)"));
    let out = zxvm_stdin(&["run", "-"], "zx_vmo_create(1 2)\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("<stdin>:1:17: expected `,` or `)`, found number 2"));
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let out = zxvm(&["run", "no/such/file.zxvm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("error: cannot read no/such/file.zxvm"));
}

/// `(kind, depth)` of every entry of a `zxvm maps` listing.
fn listing_entries(listing: &str) -> Vec<(String, usize)> {
    listing
        .lines()
        .skip(1)
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            (
                line.split_whitespace().next().unwrap().to_string(),
                indent / 2,
            )
        })
        .collect()
}

#[test]
fn maps_lists_the_tree_and_the_svg_has_one_shape_per_entry() {
    let svg_path = temp_path("heap.svg");
    let out = zxvm(&[
        "maps",
        "examples/heap.zxvm",
        "--svg",
        svg_path.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(!stdout.contains("[10]"), "maps runs the script quietly");
    let entries = listing_entries(&stdout);
    assert_eq!(entries[0], ("aspace".to_string(), 0));
    assert_eq!(entries[1], ("vmar".to_string(), 1));
    assert!(
        entries.contains(&("vmar".to_string(), 2)),
        "the reservation"
    );
    assert_eq!(
        entries
            .iter()
            .filter(|(k, d)| k == "map" && *d == 3)
            .count(),
        3,
        "heap and two placeholder pieces:\n{stdout}"
    );
    let heap = stdout.lines().find(|l| l.contains("map \"heap\"")).unwrap();
    assert!(
        heap.contains("2 MiB") && heap.contains("rw-") && heap.contains("1/512 pages"),
        "{heap}"
    );

    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let shapes: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("data-index").is_some())
        .collect();
    assert_eq!(shapes.len(), entries.len());
    let count = |class: &str| {
        shapes
            .iter()
            .filter(|n| n.attribute("class") == Some(class))
            .count()
    };
    assert_eq!(
        count("mapping"),
        entries.iter().filter(|(k, _)| k == "map").count()
    );
    assert_eq!(
        count("region"),
        entries.iter().filter(|(k, _)| k != "map").count()
    );
}

#[test]
fn maps_of_a_fresh_process_and_run_with_maps() {
    let out = zxvm(&["maps"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    let entries = listing_entries(&stdout);
    assert_eq!(entries.len(), 3, "aspace, root VMAR, scratch:\n{stdout}");
    assert!(stdout.contains("map \"scratch\"") && stdout.contains("16/16 pages"));

    let out = zxvm(&["run", "examples/rights.zxvm", "--maps"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    let tree = &stdout[stdout.find("tree ").expect("a tree after the run")..];
    assert!(tree.contains("r--"), "the read-only mapping:\n{tree}");
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["demo", "--help"],
        &["run", "--help"],
        &["maps", "--help"],
        &["calls", "--help"],
        &["help", "run"],
    ] {
        let out = zxvm(args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage: zxvm"), "{args:?}");
    }
    let out = zxvm(&["run", "--help"]);
    assert!(text(&out.stdout).contains("--keep-going"));
    let out = zxvm(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_readme_example_script_runs_as_documented() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("```text\n# A mirrored ring buffer.")
        .expect("the example")
        + "```text\n".len();
    let script = &readme[start..start + readme[start..].find("```").unwrap()];
    let out = zxvm_stdin(&["run", "-"], script);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("= ZX_ERR_NO_RESOURCES"));
    assert!(stdout.contains("2/16 pages"));
}

#[test]
fn the_readme_shows_lines_of_zxvm_calls() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("```text\nzx_vmar_map(").expect("the example") + "```text\n".len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let out = zxvm(&["calls"]);
    let listed = text(&out.stdout);
    assert!(out.status.success());
    assert!(listed.lines().count() >= 24, "{listed}");
    for line in shown.lines() {
        assert!(
            listed.lines().any(|l| l == line),
            "`zxvm calls` does not print {line:?}"
        );
    }
}

#[test]
fn a_map_longer_than_the_info_buffer_is_listed_whole() {
    let mut script = String::from("$v = zx_vmo_create(4K, 0)\n");
    for _ in 0..400 {
        script.push_str("zx_vmar_map($root, ZX_VM_PERM_READ, 0, $v, 0, 4K)\n");
    }
    let out = zxvm_stdin(&["maps", "-"], &script);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let entries = listing_entries(&stdout);
    assert_eq!(
        entries.len(),
        3 + 400,
        "aspace, root, scratch and every mapping"
    );
    assert!(!stdout.contains("not shown"));
}

//! Regenerates `docs/PERFORMANCE.md` and `docs/plots/*.svg`: runs the syscall
//! benchmarks (`syscalls`, `scaling`) with criterion's short settings, reads the
//! medians criterion wrote, and draws the plots with `plotters`.
//!
//! `cargo run --release -p zircon-tests --example perf_report` (a few minutes).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use plotters::prelude::*;

/// The line after which `docs/PERFORMANCE.md` holds sections measured by hand
/// (each names its command); regenerating the report keeps them.
const HAND_MARKER: &str = "<!-- Sections below are measured by hand";

/// Numbers of mappings of the scaling figures (as in `benches/scaling.rs`).
const COUNTS: [usize; 5] = [10, 100, 1_000, 10_000, 100_000];
/// Copy sizes (as in `benches/scaling.rs`).
const COPY_SIZES: [usize; 6] = [4 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The median of benchmark `id` (criterion's directory path, e.g.
/// `scaling/map_unmap/10`) from this run, in nanoseconds.
fn median(id: &str) -> f64 {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    let path = target.join("criterion").join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (did the benchmark run?)", path.display()));
    let at = text.find("\"median\"").expect("a median in the estimates");
    let rest = &text[at..];
    let value = &rest[rest.find("\"point_estimate\":").expect("a point estimate") + 17..];
    value[..value.find([',', '}']).expect("a number")]
        .trim()
        .parse()
        .expect("a number")
}

fn fmt_ns(ns: f64) -> String {
    match ns {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} us", n / 1e3),
        n => format!("{n:.0} ns"),
    }
}

fn gbps(bytes: usize, ns: f64) -> f64 {
    bytes as f64 / ns
}

type Plot = Result<(), Box<dyn std::error::Error>>;

fn plot_scaling(path: &Path, series: &[(&str, Vec<f64>)]) -> Plot {
    let area = SVGBackend::new(path, (760, 460)).into_drawing_area();
    area.fill(&WHITE)?;
    let top = series
        .iter()
        .flat_map(|(_, v)| v)
        .fold(1.0f64, |a, &b| a.max(b))
        * 2.0;
    let low = series
        .iter()
        .flat_map(|(_, v)| v)
        .fold(f64::MAX, |a, &b| a.min(b))
        / 2.0;
    let mut chart = ChartBuilder::on(&area)
        .caption(
            "Cost of one operation against mappings in the VMAR",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((8f64..130_000f64).log_scale(), (low..top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("mappings already in the root VMAR")
        .y_desc("ns per operation (median)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    let colors = [RED, BLUE, GREEN, MAGENTA, BLACK, CYAN];
    for (i, (name, values)) in series.iter().enumerate() {
        let color = colors[i % colors.len()];
        let points: Vec<(f64, f64)> = COUNTS
            .iter()
            .map(|&n| n as f64)
            .zip(values.iter().copied())
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::MiddleRight)
        .draw()?;
    area.present()?;
    Ok(())
}

fn plot_copy(path: &Path, ours: &[f64], floor: &[f64]) -> Plot {
    let area = SVGBackend::new(path, (760, 460)).into_drawing_area();
    area.fill(&WHITE)?;
    let top = ours.iter().chain(floor).fold(1.0f64, |a, &b| a.max(b)) * 1.15;
    let mut chart = ChartBuilder::on(&area)
        .caption("Copy throughput against size", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d((3_000f64..24_000_000f64).log_scale(), 0f64..top)?;
    chart
        .configure_mesh()
        .x_desc("bytes copied")
        .y_desc("GB/s (median)")
        .x_label_formatter(&|x| match *x {
            x if x >= 1048576.0 => format!("{:.0} MiB", x / 1048576.0),
            x => format!("{:.0} KiB", x / 1024.0),
        })
        .draw()?;
    for (name, values, color) in [
        (
            "zx_vmo_read (committed VMO into a committed mapping)",
            ours,
            RED,
        ),
        ("memcpy between warm host buffers (floor)", floor, BLUE),
    ] {
        let points: Vec<(f64, f64)> = COPY_SIZES
            .iter()
            .map(|&s| s as f64)
            .zip(values.iter().copied())
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    area.present()?;
    Ok(())
}

fn main() -> Plot {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root())
        .args([
            "bench",
            "-p",
            "zircon-tests",
            "--bench",
            "syscalls",
            "--bench",
            "scaling",
        ])
        .status()?;
    if !status.success() {
        return Err("the benchmarks failed".into());
    }
    let docs = root().join("docs");
    std::fs::create_dir_all(docs.join("plots"))?;

    let ops = [
        ("map + unmap one page", "map_unmap"),
        ("protect one page (twice)", "protect"),
        ("allocate + destroy a sub-region", "allocate_destroy"),
        ("demand fault + decommit", "fault"),
    ];
    let series: Vec<(&str, Vec<f64>)> = ops
        .iter()
        .map(|&(name, id)| {
            (
                name,
                COUNTS
                    .iter()
                    .map(|n| median(&format!("scaling/{id}/{n}")))
                    .collect(),
            )
        })
        .collect();
    plot_scaling(&docs.join("plots/scaling.svg"), &series)?;
    let ours: Vec<f64> = COPY_SIZES
        .iter()
        .map(|s| gbps(*s, median(&format!("copy/zx_vmo_read/{s}"))))
        .collect();
    let floor: Vec<f64> = COPY_SIZES
        .iter()
        .map(|s| gbps(*s, median(&format!("copy/memcpy/{s}"))))
        .collect();
    plot_copy(&docs.join("plots/copy.svg"), &ours, &floor)?;

    let mut md = String::new();
    md.push_str(include_str!("perf_report_intro.md"));
    md.push_str("\n## Figures beside their floors\n\n| figure | ours | floor (same run) | time, ours / floor |\n|---|---|---|---|\n");
    let mut row = |name: &str, ours: f64, floor_name: &str, floor: f64| {
        let _ = writeln!(
            md,
            "| {name} | {} | {floor_name}: {} | {:.2}x |",
            fmt_ns(ours),
            fmt_ns(floor),
            ours / floor
        );
    };
    row(
        "`zx_vmo_read` of 1 MiB, committed VMO into a committed mapping",
        median("copy_1MiB/zx_vmo_read"),
        "`memcpy` 1 MiB",
        median("copy_1MiB/memcpy"),
    );
    row(
        "`zx_vmo_write` of 64 MiB into a fresh VMO",
        median("write_64MiB_fresh/zx_vmo_write"),
        "`memcpy` 64 MiB into warm memory",
        median("write_64MiB_fresh/memcpy_warm"),
    );
    row(
        "`zx_handle_duplicate` + `zx_handle_close`",
        median("handle_pair/duplicate_close"),
        "hash-table insert + remove",
        median("handle_pair/hash_insert_remove"),
    );
    row(
        "`zircon_tests::new_process()` + drop",
        median("process/new_process_drop"),
        "`mmap` + first touch + `munmap`",
        median("process/native_mmap_touch_munmap"),
    );
    row(
        "map + unmap one page, 100,000 mappings",
        median("scaling/map_unmap/100000"),
        "`mmap` + `munmap`",
        median("native/mmap_munmap"),
    );
    row(
        "protect one page twice, 100,000 mappings",
        median("scaling/protect/100000"),
        "`mprotect` twice",
        median("native/mprotect"),
    );
    row(
        "demand fault + decommit, 100,000 mappings",
        median("scaling/fault/100000"),
        "first-touch fault + `MADV_DONTNEED`",
        median("native/first_touch"),
    );

    md.push_str("\n## Cost against the number of mappings\n\n![cost against mappings](plots/scaling.svg)\n\n| operation |");
    for n in COUNTS {
        let _ = write!(md, " {n} |");
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(COUNTS.len()));
    md.push('\n');
    for (name, values) in &series {
        let _ = write!(md, "| {name} |");
        for v in values {
            let _ = write!(md, " {} |", fmt_ns(*v));
        }
        md.push('\n');
    }
    md.push_str("\n## Copy throughput against size\n\n![copy throughput](plots/copy.svg)\n\n| bytes | `zx_vmo_read` GB/s | `memcpy` GB/s | throughput ratio |\n|---|---|---|---|\n");
    for (i, s) in COPY_SIZES.iter().enumerate() {
        let _ = writeln!(
            md,
            "| {s} | {:.1} | {:.1} | {:.2}x |",
            ours[i],
            floor[i],
            ours[i] / floor[i]
        );
    }
    md.push_str("\n## Beside zCore\n\nzCore's figures are the ones it published for this machine kind; ours are from this run, the same operation through our syscall surface.\n\n| operation | zCore | ours |\n|---|---|---|\n");
    for (n, z) in [
        (10, "5.6 us"),
        (100, "78 us"),
        (1_000, "6.8 ms"),
        (10_000, "754 ms"),
    ] {
        let _ = writeln!(
            md,
            "| map + unmap of {n} one-page mappings (all of them) | {z} | {} |",
            fmt_ns(median(&format!("zcore/map_unmap_n/{n}")))
        );
    }
    let _ = writeln!(
        md,
        "| protect over 10,000 mappings (ours: two protects, R then RW) | 0.58 ms | {} |",
        fmt_ns(median("zcore/protect_10000"))
    );
    let _ = writeln!(
        md,
        "| commit, per page of 64 MiB | 1,196 ns | {:.0} ns |",
        median("zcore/commit_64MiB") / 16384.0
    );
    let _ = writeln!(
        md,
        "| VMO write + read of 1 MiB | 13.4 GB/s | {:.1} GB/s |",
        gbps(2 << 20, median("zcore/write_read_1MiB"))
    );
    let _ = writeln!(
        md,
        "| COW snapshot create (ours: + close) | 5.1 us | {} |",
        fmt_ns(median("zcore/snapshot_create"))
    );
    // Sections measured by other benchmarks, written by hand below the marker, stay.
    let path = docs.join("PERFORMANCE.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    if let Some(at) = old.find(HAND_MARKER) {
        let _ = write!(md, "\n{}", &old[at..]);
    }
    std::fs::write(path, md)?;
    println!("wrote docs/PERFORMANCE.md and docs/plots/{{scaling,copy}}.svg");
    Ok(())
}

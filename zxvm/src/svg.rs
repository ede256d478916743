//! The address-space tree as an SVG picture.
//!
//! Regions are nested bands along the address axis: each entry of
//! `ZX_INFO_PROCESS_MAPS` is one rectangle, starting one header strip lower than its
//! parent, so children sit inside their parents. Mappings are shaded from pale to
//! dark blue by the fraction of their pages that is committed; mappings with no
//! permissions have a dashed outline.
//!
//! A process's address space spans 128 TiB while a mapping may be one page, so the
//! axis is not linear: the addresses where some entry starts or ends cut it into
//! stretches, and each stretch is as wide as the logarithm of its size. Every entry
//! stays visible, bigger stretches stay wider, and a table under the picture gives
//! exact figures.

use crate::info::{EntryKind, MapEntry, PAGE_SIZE};
use crate::session::MapsReport;
use crate::{fmt, maps};

/// Left and right margin.
const MARGIN: f64 = 20.0;
/// Width of the diagram when it fits.
const DIAGRAM_WIDTH: f64 = 1160.0;
/// Fewest pixels per unit of stretch weight (a mapped page weighs 3).
const MIN_PX_PER_WEIGHT: f64 = 8.0;
/// Top of the diagram (title and legend above it).
const DIAGRAM_TOP: f64 = 78.0;
/// Height of the header strip each level adds.
const HEADER: f64 = 20.0;
/// Height left below the deepest header for mapping labels.
const BODY: f64 = 96.0;
/// How much each level is inset at the bottom, so nesting shows there too.
const BOTTOM_INSET: f64 = 4.0;
/// Approximate advance of one character of the 11 px monospace font.
const CHAR_W: f64 = 6.7;
/// Height of one table row.
const ROW: f64 = 15.0;

/// Where one entry is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EntryBox {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// A stretch of free space inside a region, wide enough to be labelled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FreeStretch {
    /// Left edge.
    pub x: f64,
    /// Width.
    pub w: f64,
    /// Baseline of its label.
    pub y: f64,
    /// Bytes.
    pub size: u64,
}

/// The geometry of the whole picture, computed before any text is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Picture width.
    pub width: f64,
    /// Picture height.
    pub height: f64,
    /// One box per entry, in entry order.
    pub boxes: Vec<EntryBox>,
    /// Labelled free stretches.
    pub free: Vec<FreeStretch>,
    /// Axis ticks: x and the address there.
    pub ticks: Vec<(f64, u64)>,
    /// Bottom of the diagram (the axis line).
    pub axis_y: f64,
    /// Top of the table.
    pub table_y: f64,
}

/// The weight of a stretch of `len` bytes that something is mapped in: grows with
/// the log of its pages.
fn mapped_weight(len: u64) -> f64 {
    2.0 + (1.0 + len as f64 / PAGE_SIZE as f64).log2()
}

/// The weight of a free stretch: grows much more slowly, so the gaps of a sparse
/// address space do not crowd out what is mapped.
fn free_weight(len: u64) -> f64 {
    2.0 + 0.35 * (1.0 + len as f64 / PAGE_SIZE as f64).log2()
}

/// For each stretch between consecutive `edges`, the deepest entry covering it: a
/// mapping, or the region whose free space it is (`None` outside every entry).
///
/// One sweep in address order with a stack of the entries open at the sweep point:
/// because regions nest (a child lies inside its parent, siblings do not overlap),
/// the entries that end first are always on top, and the top is the deepest.
fn deepest_covering(entries: &[MapEntry], edges: &[u64]) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&j| (entries[j].base, entries[j].depth));
    let mut next = 0;
    let mut open: Vec<usize> = Vec::new();
    edges
        .windows(2)
        .map(|pair| {
            let (lo, hi) = (pair[0], pair[1]);
            while next < order.len() && entries[order[next]].base <= lo {
                open.push(order[next]);
                next += 1;
            }
            while open.last().is_some_and(|&j| entries[j].end() <= lo) {
                open.pop();
            }
            // Input that does not nest may leave a stale entry on top: then say
            // nothing rather than something wrong.
            open.last()
                .copied()
                .filter(|&j| entries[j].base <= lo && entries[j].end() >= hi)
        })
        .collect()
}

/// Index of each entry's parent (the closest earlier entry one level up).
#[cfg(test)]
pub fn parents(entries: &[MapEntry]) -> Vec<Option<usize>> {
    let mut stack: Vec<usize> = Vec::new();
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            while let Some(&top) = stack.last() {
                if entries[top].depth < e.depth {
                    break;
                }
                stack.pop();
            }
            let parent = stack.last().copied();
            stack.push(i);
            parent
        })
        .collect()
}

/// Every address where some entry starts or ends, in order, once each.
fn edges_of(entries: &[MapEntry]) -> Vec<u64> {
    let mut edges: Vec<u64> = entries.iter().flat_map(|e| [e.base, e.end()]).collect();
    edges.sort_unstable();
    edges.dedup();
    edges
}

/// Computes where everything goes.
pub fn layout(entries: &[MapEntry]) -> Layout {
    let edges = edges_of(entries);
    let deepest = deepest_covering(entries, &edges);
    let is_free = |i: usize| deepest[i].is_none_or(|j| entries[j].kind != EntryKind::Mapping);
    let weights: Vec<f64> = edges
        .windows(2)
        .enumerate()
        .map(|(i, pair)| {
            let len = pair[1] - pair[0];
            if is_free(i) {
                free_weight(len)
            } else {
                mapped_weight(len)
            }
        })
        .collect();
    let total: f64 = weights.iter().sum::<f64>().max(1.0);
    let px_per_weight = (DIAGRAM_WIDTH / total).max(MIN_PX_PER_WEIGHT);
    let mut xs = Vec::with_capacity(edges.len());
    let mut x = MARGIN;
    xs.push(x);
    for w in &weights {
        x += w * px_per_weight;
        xs.push(x);
    }
    let diagram_width = (x - MARGIN).max(DIAGRAM_WIDTH);
    let x_of = |addr: u64| match edges.binary_search(&addr) {
        Ok(i) => xs[i],
        Err(_) => MARGIN,
    };

    let max_depth = entries.iter().map(|e| e.depth.min(64)).max().unwrap_or(0);
    let bottom = DIAGRAM_TOP + (max_depth + 1) as f64 * HEADER + BODY;
    let boxes: Vec<EntryBox> = entries
        .iter()
        .map(|e| {
            let depth = e.depth.min(64) as f64;
            let (left, right) = (x_of(e.base), x_of(e.end()));
            let y = DIAGRAM_TOP + depth * HEADER;
            EntryBox {
                x: left + 1.0,
                y,
                w: (right - left - 2.0).max(1.0),
                h: (bottom - depth * BOTTOM_INSET - y).max(HEADER),
            }
        })
        .collect();

    // Free stretches wide enough for a label.
    let mut free = Vec::new();
    for (i, pair) in edges.windows(2).enumerate() {
        let w = xs[i + 1] - xs[i];
        if let (Some(j), true) = (deepest[i], is_free(i)) {
            if w >= 40.0 {
                let b = boxes[j];
                free.push(FreeStretch {
                    x: xs[i],
                    w,
                    y: b.y + b.h - 10.0,
                    size: pair[1] - pair[0],
                });
            }
        }
    }

    let axis_y = bottom + 2.0;
    let ticks = edges.iter().zip(&xs).map(|(&a, &x)| (x, a)).collect();
    let table_y = axis_y + 48.0;
    Layout {
        width: diagram_width + 2.0 * MARGIN,
        height: table_y + (entries.len() + 1) as f64 * ROW + 20.0,
        boxes,
        free,
        ticks,
        axis_y,
        table_y,
    }
}

/// Escapes text for XML content and attributes; control characters, which XML
/// cannot carry, become `?`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Cuts `text` to what fits in `width` pixels (with an ellipsis), or `None` if not
/// even two characters fit.
fn fit(text: &str, width: f64) -> Option<String> {
    let room = (width / CHAR_W).floor() as usize;
    let len = text.chars().count();
    if len <= room {
        Some(text.to_string())
    } else if room >= 2 {
        Some(text.chars().take(room - 1).collect::<String>() + "…")
    } else {
        None
    }
}

/// The first of `choices` (longest first) that fits whole, else the last one cut
/// to fit.
fn best_fit(choices: &[String], width: f64) -> Option<String> {
    let room = (width / CHAR_W).floor() as usize;
    choices
        .iter()
        .find(|c| c.chars().count() <= room)
        .cloned()
        .or_else(|| choices.last().and_then(|c| fit(c, width)))
}

/// The fill colour of a mapping committed to `fraction`: pale blue to dark blue.
fn mapping_fill(fraction: f64) -> String {
    let (lo, hi) = ([0xe8, 0xf0, 0xfc], [0x1d, 0x4e, 0xa8]);
    let mix = |i: usize| {
        let v = lo[i] as f64 + (hi[i] as f64 - lo[i] as f64) * fraction.clamp(0.0, 1.0);
        v.round() as u8
    };
    format!("#{:02x}{:02x}{:02x}", mix(0), mix(1), mix(2))
}

/// `37% committed`; `<1%` when something is committed but it rounds to zero.
fn percent_committed(committed: u64, pages: u64) -> String {
    let percent = if pages == 0 {
        0.0
    } else {
        100.0 * committed as f64 / pages as f64
    };
    if committed > 0 && percent < 0.5 {
        "<1% committed".into()
    } else {
        format!("{percent:.0}% committed")
    }
}

fn region_fill(depth: usize) -> &'static str {
    match depth {
        0 => "#f2f2f2",
        d if d % 2 == 1 => "#fbf5e6",
        _ => "#f1ede2",
    }
}

fn text(out: &mut String, x: f64, y: f64, attrs: &str, body: &str) {
    out.push_str(&format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" {attrs}>{}</text>\n",
        escape(body)
    ));
}

/// The picture, as a complete SVG document.
pub fn render(entries: &[MapEntry], title: &str) -> String {
    let l = layout(entries);
    let mut s = String::new();
    s.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" \
         font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"11\">\n",
        w = l.width,
        h = l.height
    ));
    s.push_str(&format!(
        "<rect class=\"background\" x=\"0\" y=\"0\" width=\"{:.0}\" height=\"{:.0}\" fill=\"#ffffff\"/>\n",
        l.width, l.height
    ));
    let regions = entries
        .iter()
        .filter(|e| e.kind != EntryKind::Mapping)
        .count();
    let mappings = entries.len() - regions;
    text(
        &mut s,
        MARGIN,
        26.0,
        "font-size=\"16\" font-weight=\"bold\"",
        title,
    );
    text(
        &mut s,
        MARGIN,
        46.0,
        "fill=\"#444444\"",
        &format!(
            "{regions} regions, {mappings} mappings. Widths are not to scale: each stretch between edges is as wide as the log of its size."
        ),
    );
    // Legend: committed fraction.
    let legend_x = MARGIN;
    text(&mut s, legend_x, 64.0, "fill=\"#444444\"", "committed:");
    for step in 0..=4 {
        let fraction = step as f64 / 4.0;
        let x = legend_x + 80.0 + step as f64 * 56.0;
        s.push_str(&format!(
            "<rect class=\"legend\" x=\"{x:.1}\" y=\"54\" width=\"18\" height=\"12\" fill=\"{}\" stroke=\"#1f3b73\"/>\n",
            mapping_fill(fraction)
        ));
        text(
            &mut s,
            x + 22.0,
            64.0,
            "fill=\"#444444\"",
            &format!("{}%", step * 25),
        );
    }
    let dash_x = legend_x + 80.0 + 5.0 * 56.0 + 10.0;
    s.push_str(&format!(
        "<rect class=\"legend\" x=\"{dash_x:.1}\" y=\"54\" width=\"18\" height=\"12\" fill=\"{}\" stroke=\"#1f3b73\" stroke-dasharray=\"3 2\"/>\n",
        mapping_fill(0.0)
    ));
    text(&mut s, dash_x + 22.0, 64.0, "fill=\"#444444\"", "no access");

    for (i, (e, b)) in entries.iter().zip(&l.boxes).enumerate() {
        let n = i + 1;
        let tooltip = format!(
            "#{n} {} \"{}\" {:#x}..{:#x} ({}){}",
            e.kind.word(),
            e.name,
            e.base,
            e.end(),
            fmt::size(e.size),
            e.mapping.as_ref().map_or(String::new(), |m| format!(
                " {} vmo {} committed {}/{} pages",
                fmt::perms(m.mmu_flags),
                m.vmo_koid,
                m.committed_pages,
                e.pages()
            ))
        );
        let (class, fill, stroke, dash) = match &e.mapping {
            Some(m) => (
                "mapping",
                mapping_fill(e.committed_fraction()),
                "#1f3b73",
                if m.mmu_flags & 7 == 0 {
                    " stroke-dasharray=\"4 3\""
                } else {
                    ""
                },
            ),
            None => ("region", region_fill(e.depth).to_string(), "#8a7a50", ""),
        };
        s.push_str(&format!(
            "<rect class=\"{class}\" data-index=\"{n}\" data-kind=\"{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"2\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}><title>{}</title></rect>\n",
            e.kind.word(),
            b.x,
            b.y,
            b.w,
            b.h,
            escape(&tooltip)
        ));
        let inner = b.w - 8.0;
        if e.mapping.is_none() {
            let label = best_fit(
                &[
                    format!(
                        "#{n} {} \"{}\" {}",
                        e.kind.word(),
                        e.name,
                        fmt::size(e.size)
                    ),
                    format!("#{n} \"{}\" {}", e.name, fmt::size(e.size)),
                    format!("#{n} \"{}\"", e.name),
                ],
                inner,
            );
            if let Some(t) = label {
                text(&mut s, b.x + 4.0, b.y + 14.0, "fill=\"#5a4a20\"", &t);
            }
        } else if let Some(m) = &e.mapping {
            let colour = if e.committed_fraction() > 0.55 {
                "#ffffff"
            } else {
                "#10264d"
            };
            if inner < 8.0 * CHAR_W {
                // Too narrow for lines: one label along the box, read bottom to top.
                let (size, perms) = (fmt::size(e.size), fmt::perms(m.mmu_flags));
                let label = best_fit(
                    &[
                        format!("#{n} {} {size} {perms}", e.name),
                        format!("#{n} {} {size}", e.name),
                        format!("#{n} {}", e.name),
                    ],
                    b.h - 12.0,
                );
                if let Some(t) = label {
                    let (x, y) = (b.x + b.w / 2.0 + 4.0, b.y + b.h - 6.0);
                    let attrs =
                        format!("fill=\"{colour}\" transform=\"rotate(-90 {x:.1} {y:.1})\"");
                    text(&mut s, x, y, &attrs, &t);
                }
                continue;
            }
            let percent = percent_committed(m.committed_pages, e.pages());
            let lines = [
                vec![format!("#{n}")],
                vec![e.name.clone()],
                vec![fmt::size(e.size)],
                vec![fmt::perms(m.mmu_flags)],
                vec![format!("{}/{} pg", m.committed_pages, e.pages())],
                vec![percent.clone(), percent.replace(" committed", "")],
            ];
            for (k, line) in lines.iter().enumerate() {
                let y = b.y + 15.0 + k as f64 * 14.0;
                if y > b.y + b.h - 4.0 {
                    break;
                }
                if let Some(t) = best_fit(line, inner) {
                    text(&mut s, b.x + 4.0, y, &format!("fill=\"{colour}\""), &t);
                }
            }
        }
    }
    for f in &l.free {
        let size = fmt::size(f.size);
        let room = ((f.w - 8.0) / CHAR_W).floor() as usize;
        let label = [format!("free {size}"), size]
            .into_iter()
            .find(|t| t.chars().count() <= room);
        if let Some(t) = label {
            text(
                &mut s,
                f.x + f.w / 2.0,
                f.y,
                "fill=\"#8a8a8a\" font-style=\"italic\" text-anchor=\"middle\"",
                &t,
            );
        }
    }

    // Axis with the edge addresses, skipping labels that would overlap.
    s.push_str(&format!(
        "<line class=\"axis\" x1=\"{MARGIN}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#666666\"/>\n",
        l.width - MARGIN,
        y = l.axis_y
    ));
    let mut next_free_x = f64::MIN;
    for &(x, addr) in &l.ticks {
        s.push_str(&format!(
            "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#666666\"/>\n",
            l.axis_y,
            l.axis_y + 5.0
        ));
        let label = format!("{addr:#x}");
        let half = label.len() as f64 * CHAR_W * 0.9 / 2.0;
        let left = (x - half).max(2.0);
        if left >= next_free_x && x + half <= l.width {
            text(
                &mut s,
                left,
                l.axis_y + 17.0,
                "font-size=\"10\" fill=\"#444444\"",
                &label,
            );
            next_free_x = left + 2.0 * half + 8.0;
        }
    }

    // The table: exact figures for every entry, the lines of `zxvm maps` numbered
    // like the boxes.
    let report = MapsReport {
        entries: entries.to_vec(),
        avail: entries.len(),
    };
    for (i, row) in maps::render(&report).lines().enumerate() {
        let (index, weight) = match i {
            0 => ("#".to_string(), "font-weight=\"bold\" "),
            _ => (format!("#{i}"), ""),
        };
        let (y, attrs) = (
            l.table_y + i as f64 * ROW,
            format!("{weight}xml:space=\"preserve\""),
        );
        text(&mut s, MARGIN, y, &attrs, &format!("{index:>4}  {row}"));
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maps::tests::sample;

    fn inside(inner: &EntryBox, outer: &EntryBox) -> bool {
        inner.x >= outer.x - 1.01
            && inner.x + inner.w <= outer.x + outer.w + 1.01
            && inner.y > outer.y
            && inner.y + inner.h <= outer.y + outer.h
    }

    #[test]
    fn parents_follow_depth_first_order() {
        let entries = sample();
        assert_eq!(
            parents(&entries),
            vec![None, Some(0), Some(1), Some(2), Some(2), Some(1)]
        );
    }

    #[test]
    fn every_entry_gets_one_box_inside_its_parent() {
        let entries = sample();
        let l = layout(&entries);
        assert_eq!(l.boxes.len(), entries.len());
        for (i, parent) in parents(&entries).iter().enumerate() {
            if let Some(p) = parent {
                assert!(
                    inside(&l.boxes[i], &l.boxes[*p]),
                    "entry {i} outside {p}: {:?}",
                    l.boxes
                );
            }
        }
    }

    #[test]
    fn siblings_are_ordered_by_address_and_do_not_overlap() {
        let entries = sample();
        let l = layout(&entries);
        let (heap, placeholder, reserve, scratch) =
            (l.boxes[3], l.boxes[4], l.boxes[2], l.boxes[5]);
        assert!(heap.x + heap.w <= placeholder.x);
        assert!(reserve.x + reserve.w <= scratch.x);
        // The 1 GiB placeholder is wider than the 2 MiB heap beside it.
        assert!(placeholder.w > heap.w);
    }

    #[test]
    fn a_sparse_space_keeps_one_page_visible_and_the_width_bounded() {
        let mut entries = sample();
        entries.push(MapEntry {
            name: "tiny".into(),
            base: 0x7fff_0000_0000,
            size: PAGE_SIZE,
            depth: 2,
            kind: EntryKind::Mapping,
            mapping: entries[5].mapping.clone(),
        });
        let l = layout(&entries);
        let tiny = l.boxes[6];
        assert!(tiny.w >= 10.0, "one page is drawn {} px wide", tiny.w);
        assert!(l.width <= DIAGRAM_WIDTH + 2.0 * MARGIN + 1.0);
        // The 128 TiB aspace spans the whole diagram.
        assert!((l.boxes[0].x - MARGIN - 1.0).abs() < 1e-9);
        assert!((l.boxes[0].x + l.boxes[0].w - (l.width - MARGIN - 1.0)).abs() < 1e-6);
        // Large free stretches are labelled.
        assert!(!l.free.is_empty());
        assert!(l.free.iter().any(|f| f.size > 1 << 40));
    }

    #[test]
    fn many_entries_widen_the_picture_instead_of_crushing_it() {
        let mut entries = sample();
        let template = entries[5].clone();
        for k in 0..300u64 {
            let mut e = template.clone();
            e.base = 0x6000_0000_0000 + k * 2 * PAGE_SIZE;
            e.size = PAGE_SIZE;
            entries.push(e);
        }
        entries.sort_by_key(|e| (e.depth.min(2), e.base));
        let l = layout(&entries);
        assert!(l.width > DIAGRAM_WIDTH + 2.0 * MARGIN);
        assert!(l.boxes.iter().all(|b| b.w >= 1.0));
    }

    /// The obvious quadratic answer, to check the sweep against.
    fn deepest_by_search(entries: &[MapEntry], edges: &[u64]) -> Vec<Option<usize>> {
        edges
            .windows(2)
            .map(|pair| {
                entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.base <= pair[0] && e.end() >= pair[1])
                    .max_by_key(|(_, e)| e.depth)
                    .map(|(j, _)| j)
            })
            .collect()
    }

    #[test]
    fn the_sweep_finds_the_deepest_covering_entry() {
        let mut entries = sample();
        let edges = edges_of(&entries);
        let found = deepest_covering(&entries, &edges);
        assert_eq!(found, deepest_by_search(&entries, &edges));
        // The stretch at the heap is the heap; the one after the reservation is root.
        assert_eq!(found[edges.binary_search(&0x2000_0000).unwrap()], Some(3));
        assert_eq!(found[edges.binary_search(&0x6000_0000).unwrap()], Some(1));

        // Many small mappings between two sub-regions, one of them nested deeper.
        let template = entries[5].clone();
        for k in 0..50u64 {
            let mut e = template.clone();
            e.base = 0x5000_0000_0000 + k * 3 * PAGE_SIZE;
            e.size = PAGE_SIZE * (1 + k % 2);
            entries.push(e);
        }
        entries.sort_by_key(|e| (e.base, e.depth));
        let edges = edges_of(&entries);
        assert_eq!(
            deepest_covering(&entries, &edges),
            deepest_by_search(&entries, &edges)
        );
    }

    #[test]
    fn entries_that_do_not_nest_never_panic() {
        let mut entries = sample();
        entries[4].base = 0x2010_0000; // overlaps the heap, its sibling
        entries[5].depth = 9; // jumps levels
        let l = layout(&entries);
        assert_eq!(l.boxes.len(), entries.len());
        assert!(render(&entries, "odd").contains("</svg>"));
    }

    #[test]
    fn shading_darkens_with_the_committed_fraction() {
        assert_eq!(mapping_fill(0.0), "#e8f0fc");
        assert_eq!(mapping_fill(1.0), "#1d4ea8");
        assert_eq!(mapping_fill(7.0), "#1d4ea8");
        let mid = mapping_fill(0.5);
        assert!(mid != mapping_fill(0.0) && mid != mapping_fill(1.0));
    }

    #[test]
    fn small_fractions_do_not_read_as_nothing() {
        assert_eq!(percent_committed(1, 512), "<1% committed");
        assert_eq!(percent_committed(0, 512), "0% committed");
        assert_eq!(percent_committed(16, 16), "100% committed");
        assert_eq!(percent_committed(3, 8), "38% committed");
        assert_eq!(percent_committed(0, 0), "0% committed");
    }

    #[test]
    fn text_is_escaped_and_cut_to_fit() {
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;?");
        assert_eq!(fit("abcdef", 100.0).as_deref(), Some("abcdef"));
        assert_eq!(
            fit("abcdefghijklmnop", 4.0 * CHAR_W).as_deref(),
            Some("abc…")
        );
        assert_eq!(fit("abc", 5.0), None);
        let choices = [
            "#3 vmar \"useralloc\"".to_string(),
            "#3 \"useralloc\"".into(),
        ];
        assert_eq!(
            best_fit(&choices, 100.0).as_deref(),
            Some("#3 \"useralloc\"")
        );
        assert_eq!(
            best_fit(&choices, 1000.0).as_deref(),
            Some("#3 vmar \"useralloc\"")
        );
        assert_eq!(best_fit(&choices, 5.0 * CHAR_W).as_deref(), Some("#3 \"…"));
    }

    #[test]
    fn the_document_has_one_rect_per_entry_with_its_class() {
        let mut entries = sample();
        entries[3].name = "<heap & \"co\">".into();
        let svg = render(&entries, "test");
        assert_eq!(svg.matches("data-index=").count(), entries.len());
        assert_eq!(svg.matches("class=\"mapping\"").count(), 3);
        assert_eq!(svg.matches("class=\"region\"").count(), 3);
        assert!(svg.contains("&lt;heap &amp; &quot;co&quot;&gt;"));
        assert!(!svg.contains("<heap"));
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let shapes: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("data-index").is_some())
            .collect();
        assert_eq!(shapes.len(), entries.len());
        for (i, (shape, entry)) in shapes.iter().zip(&entries).enumerate() {
            assert_eq!(
                shape.attribute("data-index"),
                Some((i + 1).to_string().as_str())
            );
            assert_eq!(shape.attribute("data-kind"), Some(entry.kind.word()));
        }
        let texts: String = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        assert!(texts.contains("<heap & \"co\">"), "names survive escaping");
    }
}

//! The address-space tree as text: one line per `ZX_INFO_PROCESS_MAPS` record,
//! indented by depth, with base, size, permissions, name, VMO koid and committed
//! pages; under a mapping of a pager-backed VMO, a line with each page's state.

use crate::fmt;
use crate::info::{EntryKind, MapEntry};
use crate::session::MapsReport;

/// The widest the tree column gets before names are cut.
const MAX_TREE_WIDTH: usize = 44;

/// The tree column of one entry: indentation, kind and quoted name.
fn tree_cell(entry: &MapEntry) -> String {
    let mut name: String = entry.name.chars().filter(|c| !c.is_control()).collect();
    let indent = 2 * entry.depth.min(12);
    let room = MAX_TREE_WIDTH.saturating_sub(indent + entry.kind.word().len() + 3);
    if name.chars().count() > room {
        name = name
            .chars()
            .take(room.saturating_sub(1))
            .collect::<String>()
            + "~";
    }
    format!("{}{} \"{}\"", " ".repeat(indent), entry.kind.word(), name)
}

/// The most page characters a pager line shows; a longer mapping is summarized.
const MAX_PAGE_CHARS: usize = 64;

/// The line under a mapping of a pager-backed VMO: its pages' states (see
/// [`crate::info::MappingInfo::pager`]) and how many are in each.
fn pager_line(depth: usize, pages: &str) -> String {
    let count = |c: char| pages.chars().filter(|&p| p == c).count();
    let mut shown: String = pages.chars().take(MAX_PAGE_CHARS).collect();
    if pages.chars().count() > MAX_PAGE_CHARS {
        shown.push('~');
    }
    format!(
        "{}  pager pages {shown}  ({} clean, {} dirty, {} writeback, {} evicted, {} never supplied)\n",
        " ".repeat(2 * depth.min(12)),
        count('c'),
        count('d'),
        count('w'),
        count('e'),
        count('.'),
    )
}

/// Renders the tree as aligned text lines (each ending in a newline).
pub fn render(report: &MapsReport) -> String {
    let cells: Vec<String> = report.entries.iter().map(tree_cell).collect();
    let width = cells
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:width$}  {:<18}  {:>9}  {:5}  {:>6}  {}\n",
        "tree", "base", "size", "perms", "vmo", "committed"
    );
    for (entry, cell) in report.entries.iter().zip(&cells) {
        let base = format!("{:#018x}", entry.base);
        let size = fmt::size(entry.size);
        let line = match (&entry.mapping, entry.kind) {
            (Some(m), _) => format!(
                "{cell:width$}  {base}  {size:>9}  {:5}  {:>6}  {}/{} pages",
                fmt::perms(m.mmu_flags),
                m.vmo_koid,
                m.committed_pages,
                entry.pages()
            ),
            (None, EntryKind::Other(t)) => {
                format!("{cell:width$}  {base}  {size:>9}  (entry type {t})")
            }
            (None, _) => format!("{cell:width$}  {base}  {size:>9}"),
        };
        out.push_str(line.trim_end());
        out.push('\n');
        if let Some(pages) = entry.mapping.as_ref().and_then(|m| m.pager.as_ref()) {
            out.push_str(&pager_line(entry.depth, pages));
        }
    }
    if report.avail > report.entries.len() {
        out.push_str(&format!(
            "... {} more entries not shown (zxvm's info buffer holds {})\n",
            report.avail - report.entries.len(),
            report.entries.len()
        ));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::info::MappingInfo;

    /// A small tree like a process after the heap scenario: aspace, root, a
    /// reservation holding a heap and a placeholder, and the scratch mapping.
    pub(crate) fn sample() -> Vec<MapEntry> {
        let vmar = |name: &str, base, size, depth| MapEntry {
            name: name.into(),
            base,
            size,
            depth,
            kind: if depth == 0 {
                EntryKind::Aspace
            } else {
                EntryKind::Vmar
            },
            mapping: None,
        };
        let map = |name: &str, base, size, depth, flags, koid, committed| MapEntry {
            name: name.into(),
            base,
            size,
            depth,
            kind: EntryKind::Mapping,
            mapping: Some(MappingInfo {
                mmu_flags: flags,
                vmo_koid: koid,
                vmo_offset: 0,
                committed_pages: committed,
                pager: None,
            }),
        };
        vec![
            vmar("proc", 0x100_0000, 0x7fff_feff_f000, 0),
            vmar("root", 0x100_0000, 0x7fff_feff_f000, 1),
            vmar("useralloc", 0x2000_0000, 1 << 30, 2),
            map("heap", 0x2000_0000, 2 << 20, 3, 3, 1040, 1),
            map(
                "placeholder",
                0x2020_0000,
                (1 << 30) - (2 << 20),
                3,
                0,
                1039,
                0,
            ),
            map("scratch", 0x7f00_0000_0000, 64 << 10, 2, 3, 1025, 16),
        ]
    }

    #[test]
    fn lines_are_indented_by_depth_and_carry_every_field() {
        let text = render(&MapsReport {
            entries: sample(),
            avail: 6,
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        assert!(lines[0].starts_with("tree"));
        assert!(lines[1].starts_with("aspace \"proc\""));
        assert!(lines[2].starts_with("  vmar \"root\""));
        assert!(lines[4].starts_with("      map \"heap\""));
        assert!(lines[4].contains("0x0000000020000000"));
        assert!(lines[4].contains("2 MiB"));
        assert!(lines[4].contains("rw-"));
        assert!(lines[4].contains("1040"));
        assert!(lines[4].contains("1/512 pages"));
        assert!(lines[5].contains("---"));
        assert!(lines[6].contains("16/16 pages"));
        // The base column lines up whatever the depth.
        let col = lines[1].find("0x").unwrap();
        assert!(lines[1..].iter().all(|l| l.find("0x") == Some(col)));
    }

    #[test]
    fn truncation_is_reported() {
        let text = render(&MapsReport {
            entries: sample(),
            avail: 400,
        });
        assert!(text.ends_with("... 394 more entries not shown (zxvm's info buffer holds 6)\n"));
    }

    #[test]
    fn long_and_control_names_are_tamed() {
        let mut entries = sample();
        entries[3].name = "a\u{1}very-long-name-that-goes-on-and-on-and-on".into();
        let text = render(&MapsReport { entries, avail: 6 });
        let line = text.lines().nth(4).unwrap();
        assert!(!line.contains('\u{1}'));
        assert!(line.contains("~\""));
    }
}

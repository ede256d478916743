//! The file-backed page provider (`zircon_tests::file_provider`) on the unix
//! backend: a pager-backed VMO shows a host file through a mapping, pages come
//! from the file on first touch (a real fault that blocks until the provider
//! supplies them), writes through the mapping make pages dirty, and writeback puts
//! the bytes into the file.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use zircon_object::vm::{MapRequest, PageState, VmPerms};
use zircon_tests::file_provider::FileProvider;
use zircon_tests::new_process;

const PAGE: usize = 4096;

/// A host file holding `bytes`, removed when the guard drops.
struct TempFile(PathBuf);

impl TempFile {
    fn new(bytes: &[u8]) -> TempFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "zircon-file-provider-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, bytes).expect("a temporary file");
        TempFile(path)
    }

    fn open(&self) -> File {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.0)
            .expect("the temporary file opens read-write")
    }

    fn contents(&self) -> Vec<u8> {
        std::fs::read(&self.0).expect("the temporary file reads")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Byte `i` of the test file.
fn pattern(i: usize) -> u8 {
    (i / PAGE * 31 + i % 251) as u8
}

fn read_byte(addr: usize) -> u8 {
    // SAFETY: `addr` lies in a live read-write mapping of this process's window;
    // a fault there is resolved by the unix backend (blocking for the provider).
    unsafe { (addr as *const u8).read_volatile() }
}

fn write_byte(addr: usize, value: u8) {
    // SAFETY: as in `read_byte`.
    unsafe { (addr as *mut u8).write_volatile(value) }
}

#[test]
fn writes_through_a_mapping_reach_the_host_file_at_writeback() {
    const PAGES: usize = 8;
    let size = PAGES * PAGE;
    let original: Vec<u8> = (0..size).map(pattern).collect();
    let file = TempFile::new(&original);
    let provider = FileProvider::new(file.open());
    let p = new_process();
    let process = p.object();
    let vmo = provider
        .create_vmo(process.aspace().hal().clone(), size as u64)
        .unwrap();
    let root = process.root_vmar();
    let at = root
        .map(&vmo, &MapRequest::new(0, size, VmPerms::READ_WRITE))
        .unwrap();

    // First touches fault, ask the provider, and read the file's bytes.
    for i in (0..size).step_by(997) {
        assert_eq!(read_byte(at + i), pattern(i), "byte {i}");
    }
    assert!(provider.reads() >= 1);
    assert_eq!(vmo.page_state(0), Some(PageState::Clean));

    // Writes through the mapping dirty their pages only.
    for (page, value) in [(2, 0xd2u8), (5, 0xd5)] {
        for i in (0..PAGE).step_by(512) {
            write_byte(at + page * PAGE + i, value);
        }
    }
    assert_eq!(vmo.page_state((2 * PAGE) as u64), Some(PageState::Dirty));
    assert_eq!(vmo.page_state((3 * PAGE) as u64), Some(PageState::Clean));
    assert_eq!(
        file.contents(),
        original,
        "nothing is written before writeback"
    );

    assert_eq!(provider.writeback(&vmo), Ok(2 * PAGE as u64));
    assert_eq!(vmo.page_state((2 * PAGE) as u64), Some(PageState::Clean));
    let mut expected = original.clone();
    for (page, value) in [(2, 0xd2u8), (5, 0xd5)] {
        for i in (0..PAGE).step_by(512) {
            expected[page * PAGE + i] = value;
        }
    }
    assert_eq!(file.contents(), expected);
    // Nothing is dirty any more: a second writeback writes nothing.
    assert_eq!(provider.writeback(&vmo), Ok(0));

    // A write after writeback dirties the page again, and the next writeback
    // carries it.
    write_byte(at + 7 * PAGE + 1, 0x77);
    assert_eq!(provider.writeback(&vmo), Ok(PAGE as u64));
    expected[7 * PAGE + 1] = 0x77;
    assert_eq!(file.contents(), expected);

    root.unmap(at, size, false).unwrap();
}

#[test]
fn bytes_past_the_end_of_the_file_read_as_zeros_and_write_back_extends_it() {
    let file = TempFile::new(&[0x5a; 100]);
    let provider = FileProvider::new(file.open());
    let p = new_process();
    let process = p.object();
    let vmo = provider
        .create_vmo(process.aspace().hal().clone(), (2 * PAGE) as u64)
        .unwrap();
    let mut buf = vec![0u8; 2 * PAGE];
    vmo.read(0, &mut buf).unwrap();
    assert!(buf[..100].iter().all(|&b| b == 0x5a));
    assert!(buf[100..].iter().all(|&b| b == 0));
    vmo.write((PAGE + 10) as u64, b"tail").unwrap();
    assert_eq!(provider.writeback(&vmo), Ok(PAGE as u64));
    let contents = file.contents();
    assert_eq!(contents.len(), 2 * PAGE);
    assert_eq!(&contents[PAGE + 10..PAGE + 14], b"tail");
}

#[test]
fn writeback_runs_beside_writes_and_eviction_on_a_small_machine() {
    use kernel_hal_unix::{UnixHal, UnixHalConfig};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use zircon_object::vm::ReclaimingHal;
    use zircon_tests::new_process_over;

    const PAGES: usize = 400;
    const WRITTEN: usize = 100;
    let machine = UnixHal::with_config(UnixHalConfig {
        phys_size: 256 * PAGE,
        window_size: 1 << 30,
    })
    .unwrap();
    let p = new_process_over(
        Arc::new(ReclaimingHal::new(Arc::new(machine.clone()))),
        machine,
    );
    let original: Vec<u8> = (0..PAGES * PAGE).map(pattern).collect();
    let file = TempFile::new(&original);
    let provider = FileProvider::new(file.open());
    let process = p.object();
    let vmo = provider
        .create_vmo(process.aspace().hal().clone(), (PAGES * PAGE) as u64)
        .unwrap();
    let root = process.root_vmar();
    let at = root
        .map(&vmo, &MapRequest::new(0, PAGES * PAGE, VmPerms::READ_WRITE))
        .unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                provider.writeback(&vmo).unwrap();
            }
        });
        for round in 0..3u8 {
            for page in 0..PAGES {
                if page < WRITTEN {
                    write_byte(at + page * PAGE + 3, round + 1);
                } else {
                    let i = page * PAGE + 3;
                    assert_eq!(read_byte(at + i), pattern(i), "page {page}");
                }
            }
        }
        done.store(true, Ordering::Relaxed);
    });
    provider.writeback(&vmo).unwrap();
    let contents = file.contents();
    for page in 0..PAGES {
        let i = page * PAGE + 3;
        let expected = if page < WRITTEN { 3 } else { pattern(i) };
        assert_eq!(contents[i], expected, "page {page}");
    }
    assert!(provider.evicted_pages() > 0);
    root.unmap(at, PAGES * PAGE, false).unwrap();
}

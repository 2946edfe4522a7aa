//! A binary in the page cache or out of it, before a start: `--cold-file` measures init with the
//! executable read from disk, as on a fresh Lambda worker, next to init with it cached.
//!
//! Out: written-back (`fdatasync`), then dropped (`posix_fadvise(POSIX_FADV_DONTNEED)`). In: read
//! whole. Either way the pages of the file that are resident are then counted (`mincore` on a
//! mapping of it), so every start records where its binary really was. The kernel keeps a page
//! that some process still maps, so a binary still mapped elsewhere (e.g. running in another
//! shell) cannot be put out of the cache: such a start is flagged by its resident count, and the
//! report leaves it out of the out-of-cache figures.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Where a binary's pages were just before a start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Residency {
    /// Pages of the file in the page cache.
    pub resident: u64,
    /// Pages the file spans.
    pub pages: u64,
}

/// Drops `path` from the page cache, and counts what is left: tries a few times (a page being
/// written back or read in at the moment stays); a page some process maps stays whatever is
/// tried, and is counted.
pub fn evict(path: &Path) -> Result<Residency, String> {
    let file = open(path)?;
    let mut residency = Residency {
        resident: 0,
        pages: 0,
    };
    for _ in 0..3 {
        // Dirty pages (a binary just linked) are not dropped: write them back first.
        file.sync_data()
            .map_err(|e| format!("cannot write back {}: {e}", path.display()))?;
        // SAFETY: a plain syscall on an open descriptor.
        let e = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if e != 0 {
            return Err(format!(
                "posix_fadvise(DONTNEED) on {}: {}",
                path.display(),
                io::Error::from_raw_os_error(e)
            ));
        }
        residency = resident_pages(&file).map_err(|e| format!("{}: {e}", path.display()))?;
        if residency.resident == 0 {
            break;
        }
    }
    Ok(residency)
}

/// Reads `path` whole, so all of it is in the page cache; returns how much of it then is.
pub fn load(path: &Path) -> Result<Residency, String> {
    let mut file = open(path)?;
    io::copy(&mut file, &mut io::sink())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    resident_pages(&file).map_err(|e| format!("{}: {e}", path.display()))
}

fn open(path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// Counts the file's pages in the page cache: `mincore` over a read-only shared mapping of it
/// (mapping a file does not read it in; only touching a page would).
fn resident_pages(file: &File) -> io::Result<Residency> {
    let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
    let page = usize::try_from(page_size()).map_err(io::Error::other)?;
    if len == 0 {
        return Ok(Residency {
            resident: 0,
            pages: 0,
        });
    }
    let mut vector = vec![0u8; len.div_ceil(page)];
    // SAFETY: the mapping is never read through, only passed to mincore and unmapped; `vector`
    // has one byte per page of it, as mincore writes.
    unsafe {
        let map = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        );
        if map == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let counted = libc::mincore(map, len, vector.as_mut_ptr());
        let error = io::Error::last_os_error();
        libc::munmap(map, len);
        if counted != 0 {
            return Err(error);
        }
    }
    Ok(Residency {
        resident: count_resident(&vector),
        pages: vector.len() as u64,
    })
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

/// Pages marked resident in a `mincore` vector: the lowest bit of each byte (the others are
/// reserved, and not to be read as residency).
fn count_resident(vector: &[u8]) -> u64 {
    vector.iter().filter(|&&page| page & 1 == 1).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lowest_bit_of_a_mincore_byte_means_resident() {
        assert_eq!(count_resident(&[]), 0);
        assert_eq!(count_resident(&[0, 0, 0]), 0);
        assert_eq!(count_resident(&[1, 0, 1, 1]), 3);
        assert_eq!(count_resident(&[0b10, 0b1000_0000, 0b11, 0xff]), 2);
    }

    /// On the filesystem the binaries are built on (the workspace's `target/`): a file just
    /// written is resident, out after `evict`, whole again after `load`.
    #[test]
    fn a_file_goes_out_of_the_page_cache_and_back() {
        let dir = bench_support::build::workspace_root().join("target/coldstart-test");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("pagecache-{}", std::process::id()));
        std::fs::write(&path, vec![7u8; 300_000]).unwrap();
        let loaded = load(&path).unwrap();
        assert!(loaded.pages >= 300_000 / 65_536, "{loaded:?}");
        assert_eq!(loaded.resident, loaded.pages);
        let evicted = evict(&path);
        let reloaded = load(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(evicted.unwrap().resident, 0, "evicted");
        assert_eq!(reloaded.unwrap(), loaded);
    }

    /// The kernel keeps a page some process maps: such a start cannot be made cold, and the
    /// count shows it.
    #[test]
    fn a_page_still_mapped_stays_and_is_counted() {
        let dir = bench_support::build::workspace_root().join("target/coldstart-test");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("mapped-{}", std::process::id()));
        std::fs::write(&path, vec![7u8; 8192]).unwrap();
        let file = File::open(&path).unwrap();
        // SAFETY: a read-only private mapping of a file this test owns; one byte read in it.
        let evicted = unsafe {
            let map = libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            );
            assert_ne!(map, libc::MAP_FAILED);
            assert_eq!(std::ptr::read_volatile(map.cast::<u8>()), 7);
            let evicted = evict(&path);
            libc::munmap(map, 8192);
            evicted
        };
        std::fs::remove_file(&path).unwrap();
        let evicted = evicted.unwrap();
        assert_eq!(evicted.pages, 8192_u64.div_ceil(page_size()), "{evicted:?}");
        assert!(evicted.resident >= 1, "{evicted:?}");
    }
}

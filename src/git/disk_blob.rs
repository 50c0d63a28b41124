//! A staged blob read from its working-tree file when that file holds exactly the staged bytes,
//! as git's own diff does (`reuse_worktree_file` in diff.c). Reading a file costs a fraction of
//! inflating its object: a first commit's blobs are loose objects, each inflated whole, and that
//! was most of a 150 MB first commit's time.
//!
//! What is scanned must be what git commits whatever happened on disk since `git add` (edits,
//! clean filters, line-ending conversion, partial staging), so the file stands in for the blob
//! only when git itself would say it is unchanged: its stat data (size, times, inode, device,
//! owner) equal what the index recorded, the entry is not racy (the file is older than the
//! index file), git does not convert the path on check-in, and git watches the file (not
//! assume-unchanged or skip-worktree). Otherwise the file's bytes are hashed and used only when
//! their object id is the entry's. The size recorded in the index is checked first, so a file
//! that changed size is not read at all.

use std::cell::RefCell;
use std::fs::{File, Metadata};
use std::io::Read;
use std::ops::Deref;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use git2::Oid;
use sha1::{Digest, Sha1};

use super::index::StatData;
use crate::scratch::{Lent, OverBound};

/// What the index says of a staged entry's working-tree file.
#[derive(Debug, Clone, Copy)]
pub struct StagedFile {
    pub stat: StatData,
    /// Equal stat data mean equal bytes: false for a racy entry, a path git converts on
    /// check-in, or a file git does not watch (then only the file's hash tells).
    pub stat_vouches: bool,
}

/// Whether the caller skips blobs git calls binary. When it does, a big file whose stat data
/// vouch for its blob is read first for what git's test looks at, and not on when that says
/// binary: a first commit's images, audio and models are read no further than the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinaryBlobs {
    Scanned,
    Skipped,
}

/// How many of a file's first bytes are read to tell a binary blob: all that git's test
/// (and the UTF-16 test after it) looks at, in whole pages.
pub(super) const PROBE_LEN: usize = 8192;
const _: () = assert!(PROBE_LEN >= super::visit::BINARY_PROBE_LEN);

/// Files from this size on are read in two steps when binary blobs are skipped: below it the
/// bytes a binary file's probe saves are too few for the text files' second `read`.
const PROBED_FROM: usize = 16 << 10;

/// What the working-tree file of a staged blob told.
#[derive(Debug)]
pub(super) enum DiskRead {
    /// The blob's bytes, whole.
    Whole(FileBytes),
    /// A binary blob, by git's test on its first bytes, which the file held (its stat data
    /// vouch for the blob): the rest of it is not read.
    Binary,
}

/// The file at `path` under `workdir`, when its bytes are the blob `id`; `None` otherwise (no
/// such file, not a regular file, another size or other bytes), and the caller reads the object.
pub(super) fn read_if_staged(
    workdir: &Path,
    path: &[u8],
    id: Oid,
    staged: &StagedFile,
    binary: BinaryBlobs,
) -> Option<DiskRead> {
    // git refuses such index paths; a crafted index must not point the read elsewhere.
    if !is_plain_relative(path) {
        return None;
    }
    let mut file = open_file(workdir, path)?;
    // The size the index recorded (its low 32 bits) is what is read: a file of another size
    // reads short or long and is not used. The file is stat'ed once, after the read: a stat
    // before it told nothing the one after does not (a regular file of this size whose stat
    // data still equal the index's after the read held those bytes during it).
    let len = usize::try_from(staged.stat.size).ok()?;
    let mut buffer = Lent::keeping(&READS, KEPT_READS);
    let mut filled = 0;
    if binary == BinaryBlobs::Skipped && staged.stat_vouches && len >= PROBED_FROM {
        if !read_probe(&mut file, &mut buffer) {
            return None;
        }
        let first = &buffer[..PROBE_LEN];
        if super::visit::is_binary_not_text(first) && unchanged_since_staged(&file, len, staged) {
            return Some(DiskRead::Binary);
        }
        filled = PROBE_LEN;
    }
    if len >= READ_KEPT_UP_TO {
        // Too big to keep a buffer for: one of its own (calloc'd: its pages are zeroed only as
        // the read fills them), so that the kept one stays for the next files.
        let mut own = vec![0; len + 1];
        own[..filled].copy_from_slice(&buffer[..filled]);
        buffer = Lent::fresh(&READS, KEPT_READS, own);
    }
    if !read_exactly(&mut file, len, &mut buffer, filled) {
        return None;
    }
    let meta = file.metadata().ok()?;
    if !is_regular_of_len(&meta, len) {
        return None;
    }
    let content = FileBytes { buffer, len };
    // Unchanged by git's own test, and still so once read (a write while reading moves ctime).
    let unchanged = staged.stat_vouches && staged.stat.size != 0 && stat_data(&meta) == staged.stat;
    (unchanged || blob_id(&content) == id).then_some(DiskRead::Whole(content))
}

/// The working-tree file at `path`, opened for reading.
fn open_file(workdir: &Path, path: &[u8]) -> Option<File> {
    let relative = Path::new(std::ffi::OsStr::from_bytes(path));
    let mut options = File::options();
    // No following a symlink in the last component, and no waiting on a FIFO's writer.
    options
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    // From the current directory, as for a hook, the path is opened as it is, not copied.
    let base = from_cwd(workdir);
    let opened = if base.as_os_str().is_empty() {
        options.open(relative)
    } else {
        options.open(base.join(relative))
    };
    opened.ok()
}

/// A regular file (not a FIFO) of `len` bytes.
fn is_regular_of_len(meta: &Metadata, len: usize) -> bool {
    let kind = meta.file_type();
    kind.is_file() && !kind.is_fifo() && meta.len() == len as u64
}

/// The open file's stat data, taken now, are what the index recorded: for an entry whose stat
/// data vouch, what was read of it so far is the blob's.
fn unchanged_since_staged(file: &File, len: usize, staged: &StagedFile) -> bool {
    file.metadata()
        .is_ok_and(|meta| is_regular_of_len(&meta, len) && stat_data(&meta) == staged.stat)
}

/// A relative path of plain names: no leading `/`, no empty, `.` or `..` component (git
/// writes none of them into an index). Checked on the bytes: `Path::components` parsed each
/// staged path on every read.
fn is_plain_relative(path: &[u8]) -> bool {
    !path.is_empty()
        && path
            .split(|&byte| byte == b'/')
            .all(|part| !matches!(part, b"" | b"." | b".."))
}

/// What a thread keeps of its read buffer between files: every file of the bench's first
/// commits fits (the largest is 1.8 MB), so none is read into pages of its own that are
/// unmapped after it (a 40 MB first commit's two files over 1 MiB were 650 page faults). Only
/// staged scans read files: a history's threads keep no read buffer.
pub(super) const READ_KEPT_UP_TO: usize = 2 << 20;

/// A read buffer a file grew past [`READ_KEPT_UP_TO`] is shrunk back to it, keeping the pages
/// it has in: dropped, the next files grew one from nothing.
const KEPT_READS: OverBound = OverBound::Shrunk(READ_KEPT_UP_TO);

thread_local! {
    /// The thread's read buffer: one per scanning thread, lent to one file at a time.
    static READS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A staged file's bytes: the first `len` bytes of the thread's read buffer, which hold
/// exactly what the file's read returned (the buffer's tail is an earlier file's).
#[derive(Debug)]
pub(super) struct FileBytes {
    buffer: Lent,
    len: usize,
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

/// `workdir` as a path to look files up by: empty (relative to the current directory) when
/// it is the current directory, as it is for a hook. The kernel walks every component of a
/// path on each open and stat, and the working tree's own absolute path was most of them.
pub(super) fn from_cwd(workdir: &Path) -> &Path {
    static CWD: OnceLock<Option<PathBuf>> = OnceLock::new();
    let cwd = CWD.get_or_init(|| std::env::current_dir().ok());
    // Compared as bytes: `Path`'s equality parses both into components, on every file.
    let (Some(cwd), workdir_bytes) = (cwd, workdir.as_os_str().as_bytes()) else {
        return workdir;
    };
    let cwd = cwd.as_os_str().as_bytes();
    let is_cwd = workdir_bytes
        .strip_prefix(cwd)
        .is_some_and(|rest| rest.is_empty() || rest == b"/");
    if is_cwd { Path::new("") } else { workdir }
}

/// Reads the file's first [`PROBE_LEN`] bytes (it has more) into the front of `buffer`:
/// false when it ends before them.
fn read_probe(file: &mut File, buffer: &mut Vec<u8>) -> bool {
    if buffer.len() < PROBE_LEN {
        buffer.resize(PROBE_LEN, 0);
    }
    let window = &mut buffer[..PROBE_LEN];
    let mut filled = 0;
    while filled < PROBE_LEN {
        match file.read(&mut window[filled..]) {
            Ok(0) | Err(_) => return false,
            Ok(got) => filled += got,
        }
    }
    true
}

/// Reads the file's `len` bytes into the front of `buffer`, of which the first `filled` are
/// read already: false when it holds fewer or more. One read asks for a byte more than `len`,
/// so that the common answer, exactly `len`, takes one system call (a second read to find the
/// end was an eighth of a first commit's system calls). A file that grew meanwhile returns
/// that byte and is not used; one that grows after the read changes its stat data, or its
/// bytes are the blob's anyway (their hash). `buffer` keeps its length, what it has ever
/// held: only what it has never held is zeroed. A buffer too short is grown in place to the
/// file's size, zeroing only the pages the read then fills: replaced by a new one, each
/// growth faulted in all of its pages again (and a big block's are remapped, not copied,
/// when it grows).
fn read_exactly(file: &mut File, len: usize, buffer: &mut Vec<u8>, mut filled: usize) -> bool {
    if buffer.len() <= len {
        buffer.resize(len + 1, 0);
    }
    let window = &mut buffer[..=len];
    loop {
        let wanted = window.len() - filled;
        let Ok(got) = file.read(&mut window[filled..]) else {
            return false;
        };
        filled += got;
        // Short of what was asked: the end (a regular file reads short only there, and
        // reading on past a short read finds `len` bytes or fewer either way).
        if got == 0 || filled > len || (got < wanted && filled == len) {
            break;
        }
    }
    filled == len
}

/// The stat data git would record for this file. (A recorded size of 0 never vouches: git
/// writes it for an entry it found racily clean, `ce_smudge_racily_clean_entry`.)
fn stat_data(meta: &Metadata) -> StatData {
    StatData {
        ctime: (meta.ctime() as u32, meta.ctime_nsec() as u32),
        mtime: (meta.mtime() as u32, meta.mtime_nsec() as u32),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        uid: meta.uid(),
        gid: meta.gid(),
        size: meta.len() as u32,
    }
}

/// git's object id of a blob with this content.
fn blob_id(content: &[u8]) -> Oid {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", content.len()).as_bytes());
    hasher.update(content);
    Oid::from_bytes(&hasher.finalize()).expect("a SHA-1 digest is an object id")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(hex: &str) -> Oid {
        Oid::from_str(hex).unwrap()
    }

    /// [`super::read_if_staged`]'s bytes, copied out of the thread's buffer.
    fn read_if_staged(
        workdir: &Path,
        path: &[u8],
        id: Oid,
        staged: &StagedFile,
    ) -> Option<Vec<u8>> {
        match super::read_if_staged(workdir, path, id, staged, BinaryBlobs::Scanned)? {
            DiskRead::Whole(bytes) => Some(bytes.to_vec()),
            DiskRead::Binary => panic!("binary blobs are scanned: no probe"),
        }
    }

    /// [`super::read_if_staged`]'s bytes in the thread's buffer, binary blobs scanned.
    fn read_whole(workdir: &Path, path: &[u8], id: Oid, staged: &StagedFile) -> Option<FileBytes> {
        match super::read_if_staged(workdir, path, id, staged, BinaryBlobs::Scanned)? {
            DiskRead::Whole(bytes) => Some(bytes),
            DiskRead::Binary => panic!("binary blobs are scanned: no probe"),
        }
    }

    /// An entry whose stat data vouch for nothing but the size: the file is hashed.
    fn hashed(size: u32) -> StagedFile {
        StagedFile {
            stat: StatData {
                ctime: (0, 0),
                mtime: (0, 0),
                dev: 0,
                ino: 0,
                uid: 0,
                gid: 0,
                size,
            },
            stat_vouches: false,
        }
    }

    /// The entry git would record for the file at `path` now.
    fn recorded(path: &Path, stat_vouches: bool) -> StagedFile {
        StagedFile {
            stat: stat_data(&std::fs::symlink_metadata(path).unwrap()),
            stat_vouches,
        }
    }

    #[test]
    fn equal_stat_data_stand_for_the_bytes_only_when_they_vouch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"hello\n").unwrap();
        // No blob's id: only a read that trusts the stat data returns the bytes.
        let other = id("1111111111111111111111111111111111111111");
        assert_eq!(
            read_if_staged(dir.path(), b"a.txt", other, &recorded(&path, true)).as_deref(),
            Some(&b"hello\n"[..])
        );
        assert_eq!(
            read_if_staged(dir.path(), b"a.txt", other, &recorded(&path, false)),
            None
        );
        // Other stat data (here the inode) are hashed, as is a size git smudged to 0.
        let mut moved = recorded(&path, true);
        moved.stat.ino ^= 1;
        assert_eq!(read_if_staged(dir.path(), b"a.txt", other, &moved), None);
        std::fs::write(&path, b"").unwrap();
        assert_eq!(
            read_if_staged(dir.path(), b"a.txt", other, &recorded(&path, true)),
            None
        );
    }

    #[test]
    fn a_file_longer_or_shorter_than_its_size_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"hello\n").unwrap();
        // A buffer an earlier, longer file left its bytes in.
        let read = |len| {
            let mut buffer = vec![b'x'; 64];
            read_exactly(&mut File::open(&path).unwrap(), len, &mut buffer, 0)
                .then(|| buffer[..len].to_vec())
        };
        assert_eq!(read(6).as_deref(), Some(&b"hello\n"[..]));
        // Grew since its size was taken, or shrank.
        assert_eq!(read(5), None);
        assert_eq!(read(0), None);
        assert_eq!(read(7), None);
        assert_eq!(read(63), None);
        std::fs::write(&path, b"").unwrap();
        assert_eq!(read(0).as_deref(), Some(&b""[..]));
    }

    #[test]
    fn files_read_one_after_another_share_a_buffer_and_show_only_their_own_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let long = b"a long file, read first\n".repeat(100);
        std::fs::write(dir.path().join("long.txt"), &long).unwrap();
        std::fs::write(dir.path().join("short.txt"), b"short\n").unwrap();
        let size = |len: usize| hashed(len as u32);
        let (long_id, short_id) = (blob_id(&long), blob_id(b"short\n"));
        let first = read_whole(dir.path(), b"long.txt", long_id, &size(long.len()));
        let first = first.unwrap();
        assert_eq!(&first[..], &long[..]);
        let at = first.as_ptr();
        drop(first);
        let second = read_whole(dir.path(), b"short.txt", short_id, &size(6));
        let second = second.unwrap();
        assert_eq!(second.as_ptr(), at);
        assert_eq!(&second[..], b"short\n");
    }

    #[test]
    fn a_file_too_big_for_a_kept_buffer_is_read_whole_and_the_next_one_too() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..READ_KEPT_UP_TO + 3).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("big.bin"), &big).unwrap();
        std::fs::write(dir.path().join("small.txt"), b"small\n").unwrap();
        let size = |len: usize| hashed(len as u32);
        let read = read_if_staged(dir.path(), b"big.bin", blob_id(&big), &size(big.len()));
        assert!(read.as_deref() == Some(&big[..]));
        let small = read_if_staged(dir.path(), b"small.txt", blob_id(b"small\n"), &size(6));
        assert_eq!(small.as_deref(), Some(&b"small\n"[..]));
    }

    #[test]
    fn a_big_file_leaves_a_buffer_of_the_bound_to_the_next_files() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b'b'; READ_KEPT_UP_TO];
        std::fs::write(dir.path().join("big.txt"), &big).unwrap();
        std::fs::write(dir.path().join("small.txt"), b"small\n").unwrap();
        let size = |len: usize| hashed(len as u32);
        let small = || read_whole(dir.path(), b"small.txt", blob_id(b"small\n"), &size(6)).unwrap();
        drop(small());
        let read = read_whole(dir.path(), b"big.txt", blob_id(&big), &size(big.len()));
        assert!(read.as_deref() == Some(&big[..]));
        drop(read);
        // Its pages, shrunk to the bound, not a new buffer grown from nothing.
        assert_eq!(READS.with_borrow(Vec::capacity), READ_KEPT_UP_TO);
        let again = small();
        assert_eq!(&again[..], b"small\n");
    }

    #[test]
    fn a_file_over_a_mebibyte_leaves_its_buffer_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file: Vec<u8> = (0..1_500_000).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("f.bin"), &file).unwrap();
        let size = hashed(file.len() as u32);
        let read = read_if_staged(dir.path(), b"f.bin", blob_id(&file), &size);
        assert!(read.as_deref() == Some(&file[..]));
        assert!(READS.with_borrow(Vec::len) > file.len());
    }

    #[test]
    fn a_buffer_grows_to_the_file_not_beyond() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, [b'a'; 100]).unwrap();
        let mut buffer = vec![b'x'; 64];
        assert!(read_exactly(
            &mut File::open(&path).unwrap(),
            100,
            &mut buffer,
            0
        ));
        // The file and the byte that finds its end: no page beyond them is zeroed.
        assert_eq!(buffer.len(), 101);
        assert_eq!(&buffer[..100], &[b'a'; 100][..]);
    }

    #[test]
    fn a_longer_file_after_a_short_one_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let long: Vec<u8> = (0..100_000).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("short.txt"), b"short\n").unwrap();
        std::fs::write(dir.path().join("long.bin"), &long).unwrap();
        let size = |len: usize| hashed(len as u32);
        let short = read_if_staged(dir.path(), b"short.txt", blob_id(b"short\n"), &size(6));
        assert_eq!(short.as_deref(), Some(&b"short\n"[..]));
        let read = read_if_staged(dir.path(), b"long.bin", blob_id(&long), &size(long.len()));
        assert!(read.as_deref() == Some(&long[..]));
    }

    /// A file of `len` bytes at `dir/name`, with a NUL at `nul_at` (if any) and the bytes of
    /// a text elsewhere, and the entry git records for it.
    fn written(dir: &Path, name: &str, len: usize, nul_at: Option<usize>) -> (Vec<u8>, StagedFile) {
        let mut bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        if let Some(at) = nul_at {
            bytes[at] = 0;
        }
        std::fs::write(dir.join(name), &bytes).unwrap();
        let staged = recorded(&dir.join(name), true);
        (bytes, staged)
    }

    /// What [`super::read_if_staged`] tells when binary blobs are skipped.
    fn probed(dir: &Path, name: &str, id: Oid, staged: &StagedFile) -> Option<Result<Vec<u8>, ()>> {
        match super::read_if_staged(dir, name.as_bytes(), id, staged, BinaryBlobs::Skipped)? {
            DiskRead::Whole(bytes) => Some(Ok(bytes.to_vec())),
            DiskRead::Binary => Some(Err(())),
        }
    }

    #[test]
    fn a_big_binary_file_is_told_by_its_first_bytes_and_not_read_on() {
        let dir = tempfile::tempdir().unwrap();
        let (big, staged) = written(dir.path(), "big.bin", 100_000, Some(7_999));
        let other = id("1111111111111111111111111111111111111111");
        assert_eq!(probed(dir.path(), "big.bin", other, &staged), Some(Err(())));
        // Only the first bytes were read: the buffer never grew to the file.
        assert!(READS.with_borrow(Vec::len) < big.len());
        // A small one is read whole, as are binary blobs that are scanned.
        let (small, staged) = written(dir.path(), "small.bin", PROBED_FROM - 1, Some(0));
        let small_id = blob_id(&small);
        assert_eq!(
            probed(dir.path(), "small.bin", small_id, &staged),
            Some(Ok(small))
        );
        let (_, staged) = written(dir.path(), "big.bin", 100_000, Some(7_999));
        assert_eq!(
            read_if_staged(dir.path(), b"big.bin", blob_id(&big), &staged),
            Some(big)
        );
    }

    #[test]
    fn a_big_file_git_calls_text_or_utf16_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        // A NUL just past git's 8000 bytes, and none.
        for nul_at in [Some(8_000), Some(PROBE_LEN), None] {
            let (text, staged) = written(dir.path(), "a.txt", 100_000, nul_at);
            let id = blob_id(&text);
            assert_eq!(probed(dir.path(), "a.txt", id, &staged), Some(Ok(text)));
        }
        // UTF-16 has NULs, and is scanned.
        let utf16: Vec<u8> = "KEY = value\n"
            .repeat(4_000)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        std::fs::write(dir.path().join("u.txt"), &utf16).unwrap();
        let staged = recorded(&dir.path().join("u.txt"), true);
        let id = blob_id(&utf16);
        assert_eq!(probed(dir.path(), "u.txt", id, &staged), Some(Ok(utf16)));
    }

    #[test]
    fn a_big_binary_file_without_its_stat_data_is_read_whole_and_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let (big, mut staged) = written(dir.path(), "big.bin", 100_000, Some(0));
        let other = id("1111111111111111111111111111111111111111");
        // Stat data that changed since the entry, or that do not vouch: only the hash tells.
        staged.stat.ino ^= 1;
        assert_eq!(probed(dir.path(), "big.bin", other, &staged), None);
        let big_id = blob_id(&big);
        assert_eq!(
            probed(dir.path(), "big.bin", big_id, &staged),
            Some(Ok(big.clone()))
        );
        let racy = StagedFile {
            stat_vouches: false,
            ..recorded(&dir.path().join("big.bin"), true)
        };
        assert_eq!(probed(dir.path(), "big.bin", other, &racy), None);
        assert_eq!(probed(dir.path(), "big.bin", big_id, &racy), Some(Ok(big)));
    }

    #[test]
    fn a_file_over_the_kept_bound_read_in_two_steps_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (big, staged) = written(dir.path(), "big.txt", READ_KEPT_UP_TO + 3, None);
        let id = blob_id(&big);
        assert!(probed(dir.path(), "big.txt", id, &staged) == Some(Ok(big)));
    }

    #[test]
    fn only_plain_relative_paths_are_read() {
        let plain: [&[u8]; 4] = [b"a", b"a/b.txt", b".gitignore", b"a/..b/c."];
        let refused: [&[u8]; 8] = [
            b"",
            b"/etc/passwd",
            b"../x",
            b"a/../x",
            b"a/..",
            b"./a",
            b"a/./b",
            b"a//b",
        ];
        assert!(plain.iter().all(|path| is_plain_relative(path)));
        assert!(refused.iter().all(|path| !is_plain_relative(path)));
    }

    #[test]
    fn the_current_directory_is_looked_up_from_itself() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(from_cwd(&cwd), Path::new(""));
        let elsewhere = cwd.join("sub");
        assert_eq!(from_cwd(&elsewhere), elsewhere);
    }

    #[test]
    fn a_file_below_the_current_directory_is_read_by_its_own_path() {
        let cwd = std::env::current_dir().unwrap();
        let manifest = std::fs::read("Cargo.toml").unwrap();
        let staged = hashed(manifest.len() as u32);
        let read = read_if_staged(&cwd, b"Cargo.toml", blob_id(&manifest), &staged);
        assert_eq!(read, Some(manifest));
    }

    #[test]
    fn blob_ids_are_gits() {
        // `git hash-object /dev/null` and `printf 'hello\n' | git hash-object --stdin`.
        assert_eq!(blob_id(b""), id("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"));
        assert_eq!(
            blob_id(b"hello\n"),
            id("ce013625030ba8dba906f756967f9e9ca394464a")
        );
    }

    #[test]
    fn a_file_with_the_staged_bytes_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.txt"), b"hello\n").unwrap();
        let hello = id("ce013625030ba8dba906f756967f9e9ca394464a");
        assert_eq!(
            read_if_staged(dir.path(), b"sub/a.txt", hello, &hashed(6)).as_deref(),
            Some(&b"hello\n"[..])
        );
    }

    #[test]
    fn other_bytes_of_the_same_size_are_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"HELLO\n").unwrap();
        let hello = id("ce013625030ba8dba906f756967f9e9ca394464a");
        assert_eq!(
            read_if_staged(dir.path(), b"a.txt", hello, &hashed(6)),
            None
        );
    }

    #[test]
    fn another_size_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"hello\n").unwrap();
        let hello = id("ce013625030ba8dba906f756967f9e9ca394464a");
        assert_eq!(
            read_if_staged(dir.path(), b"a.txt", hello, &hashed(7)),
            None
        );
    }

    #[test]
    fn missing_files_symlinks_and_escaping_paths_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let hello = id("ce013625030ba8dba906f756967f9e9ca394464a");
        std::fs::write(dir.path().join("target.txt"), b"hello\n").unwrap();
        std::os::unix::fs::symlink("target.txt", dir.path().join("link.txt")).unwrap();
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        assert_eq!(
            read_if_staged(dir.path(), b"gone.txt", hello, &hashed(6)),
            None
        );
        assert_eq!(
            read_if_staged(dir.path(), b"link.txt", hello, &hashed(6)),
            None
        );
        assert_eq!(
            read_if_staged(&inner, b"../target.txt", hello, &hashed(6)),
            None
        );
        assert_eq!(
            read_if_staged(dir.path(), b"/etc/hostname", hello, &hashed(6)),
            None
        );
    }

    #[test]
    fn a_fifo_is_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let empty = id("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(read_if_staged(dir.path(), b"pipe", empty, &hashed(0)), None);
    }

    #[test]
    fn a_directory_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let empty = id("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(read_if_staged(dir.path(), b"d", empty, &hashed(0)), None);
    }
}

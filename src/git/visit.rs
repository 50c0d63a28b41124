//! Hands each blob of a change to the caller: skipped (mode, size, binary) or its content, with
//! the lines it adds computed only on request.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use git2::{FileMode, ObjectType, Oid, Repository, Tree};

use super::Repo;
use super::disk_blob::{self, BinaryBlobs, DiskRead, StagedFile};
use super::memo::{BlobMemo, Verdict};
use crate::detect::lines::AddedLines;
use crate::error::{Error, Result};

/// Git treats a blob as binary when its first 8000 bytes hold a NUL (`FIRST_FEW_BYTES`).
pub(super) const BINARY_PROBE_LEN: usize = 8000;

/// What git's side of a scan counts: commits read, and entries it skipped or left out (the
/// pipeline counts what it scans itself).
#[derive(Debug, Default, Clone)]
pub struct WalkStats {
    pub commits: u64,
    pub binary_skipped: u64,
    pub too_large_skipped: u64,
    pub submodules_skipped: u64,
    pub symlinks_skipped: u64,
    pub deleted_files: u64,
    pub unmerged_skipped: u64,
}

impl WalkStats {
    /// Adds another walker's counts (scans run on several threads).
    pub fn add(&mut self, other: &WalkStats) {
        self.commits += other.commits;
        self.binary_skipped += other.binary_skipped;
        self.too_large_skipped += other.too_large_skipped;
        self.submodules_skipped += other.submodules_skipped;
        self.symlinks_skipped += other.symlinks_skipped;
        self.deleted_files += other.deleted_files;
        self.unmerged_skipped += other.unmerged_skipped;
    }
}

/// What the walk is told by the configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// Blobs larger than this are skipped (and reported); `None`: no limit.
    pub max_file_size: Option<u64>,
    /// Scan blobs git calls binary too.
    pub scan_binary: bool,
}

/// One blob, as a walk hands it over.
pub enum Entry<'a> {
    /// A text blob, and how to get the lines the change adds to it. The diff is computed only
    /// on request: a blob without any rule keyword cannot add a finding, so it needs none.
    Text {
        path: &'a str,
        content: &'a [u8],
        added: Added<'a>,
        /// The blob's id, when it is one (not a working-tree file).
        id: Option<Oid>,
    },
    /// A text blob an earlier visit found clean (through a [`BlobMemo`]): not read again.
    Clean {
        path: &'a str,
        size: u64,
        lines: u64,
        added: Added<'a>,
    },
    /// A blob that is part of the change but not scanned.
    Skipped { path: String, reason: SkipReason },
}

/// The lines a change adds to one blob, computed on request.
pub struct Added<'a> {
    repo: Option<&'a Repo>,
    /// The blob this one replaces (a regular file), if any.
    old: Option<Oid>,
    /// During a merge, the other parents' trees: a line is new only against all of them.
    others: &'a [Tree<'a>],
    path: &'a [u8],
    content: &'a [u8],
}

impl Added<'_> {
    /// Known without a diff: every line of a new file, of a whole-file scan.
    pub fn without_diff(&self) -> Option<AddedLines> {
        (self.old.is_none() && self.others.is_empty()).then_some(AddedLines::All)
    }

    /// The blob this one replaces, read, when it is the only one it is compared with (not
    /// during a merge).
    pub fn sole_old(&self) -> Option<Oid> {
        self.old
            .filter(|_| self.others.is_empty() && self.repo.is_some())
    }

    /// The bytes of [`Added::sole_old`].
    pub fn old_blob(&self) -> Result<Option<git2::Blob<'_>>> {
        let (Some(repo), Some(id)) = (self.repo, self.sole_old()) else {
            return Ok(None);
        };
        let blob = repo.repo.find_blob(id).map_err(Error::git(format!(
            "cannot read the committed blob {id} of {}",
            String::from_utf8_lossy(self.path)
        )))?;
        Ok(Some(blob))
    }

    /// git's own line diff (xdiff, through libgit2) against the old blob and, during a merge,
    /// against every other parent.
    pub fn lines(&self) -> Result<AddedLines> {
        if let Some(all) = self.without_diff() {
            return Ok(all);
        }
        let repo = self
            .repo
            .expect("a blob with an old side comes from a repository");
        let path = String::from_utf8_lossy(self.path);
        let mut added = repo.added_lines(self.old, self.content, &path)?;
        for other in self.others {
            if added.is_empty() {
                break;
            }
            match tree_blob(other, self.path) {
                None => {}
                Some(id) => {
                    added = added.intersect(&repo.added_lines(Some(id), self.content, &path)?);
                }
            }
        }
        Ok(added)
    }
}

/// A blob's bytes, from the object database or from the working-tree file that holds them.
enum BlobBytes<'repo> {
    Object(git2::Blob<'repo>),
    Disk(disk_blob::FileBytes),
    /// A binary blob, told by its working-tree file's first bytes: not read on.
    BinaryOnDisk,
}

impl BlobBytes<'_> {
    fn content(&self) -> &[u8] {
        match self {
            BlobBytes::Object(blob) => blob.content(),
            BlobBytes::Disk(bytes) => bytes,
            BlobBytes::BinaryOnDisk => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Binary,
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// A gitlink (or a nested repository on disk): its files belong to another repository.
    Submodule,
    /// A symlink's blob is its target path, not content.
    Symlink,
}

/// One changed path: the new blob, and the blob it replaces when that was a regular file.
#[derive(Debug, Clone)]
pub struct Change {
    pub path: Vec<u8>,
    pub id: Oid,
    pub mode: FileMode,
    pub old: Option<Oid>,
    /// The path is new to the commit (an added, renamed or copied file): its name is part of
    /// what the commit adds.
    pub new_path: bool,
    /// Only the name is new (a pure move): the content adds nothing.
    pub path_only: bool,
    /// What the index recorded of the working-tree file (a staged change read from the index
    /// file): that file may hold the blob's bytes, cheaper to read than the object.
    pub staged_file: Option<StagedFile>,
}

/// What one commit (being made, or made) adds: its changed paths, and for a merge the trees
/// of the parents other than the first.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
    pub other_parents: Vec<Oid>,
}

impl Repo {
    /// Hands one changed blob to `visit`: skipped (mode, size, binary), or its content with
    /// the lines it adds against `change.old` and `others` (a merge's other parents' trees).
    /// A blob `memo` knows is not read: binary is skipped, clean is handed over as such.
    pub fn visit_change(
        &self,
        change: &Change,
        others: &[Tree<'_>],
        walk: WalkOptions,
        memo: Option<&BlobMemo>,
        stats: &mut WalkStats,
        visit: &mut impl FnMut(Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let id = change.id;
        // Borrowed when valid UTF-8 (every path, nearly): copied only for a skipped entry.
        let path = String::from_utf8_lossy(&change.path);
        if let Some(reason) = unscannable_mode(change.mode, stats) {
            let path = path.into_owned();
            return visit(Entry::Skipped { path, reason });
        }
        let unreadable = || Error::git(format!("cannot read the blob {id} of {path}"));
        if let Some(limit) = walk.max_file_size {
            // The object header gives the size without inflating the blob.
            let odb = self
                .repo
                .odb()
                .map_err(Error::git("cannot open the object database"))?;
            let (size, _) = odb.read_header(id).map_err(unreadable())?;
            if size as u64 > limit {
                stats.too_large_skipped += 1;
                let reason = SkipReason::TooLarge {
                    size: size as u64,
                    limit,
                };
                let path = path.into_owned();
                return visit(Entry::Skipped { path, reason });
            }
        }
        // A blob an earlier commit of the scan reached is known without reading it.
        let known = memo.and_then(|memo| memo.get(id));
        let blob = match known {
            Some(_) => None,
            None => Some(self.staged_blob(change, walk)?),
        };
        let content = blob.as_ref().map_or(&[][..], BlobBytes::content);
        let binary = match (known, &blob) {
            (Some(verdict), _) => verdict == Verdict::Binary,
            (None, Some(BlobBytes::BinaryOnDisk)) => true,
            (None, _) => !walk.scan_binary && is_binary_not_text(content),
        };
        if binary {
            if known.is_none()
                && let Some(memo) = memo
            {
                memo.insert(id, Verdict::Binary);
            }
            stats.binary_skipped += 1;
            return visit(Entry::Skipped {
                path: path.into_owned(),
                reason: SkipReason::Binary,
            });
        }
        // A parent that already has this exact blob means the merge adds nothing here.
        if others
            .iter()
            .any(|tree| tree_blob(tree, &change.path) == Some(id))
        {
            return Ok(());
        }
        let added = Added {
            repo: Some(self),
            old: change.old,
            others,
            path: &change.path,
            content,
        };
        match known {
            Some(Verdict::Clean { size, lines }) => visit(Entry::Clean {
                path: &path,
                size,
                lines,
                added,
            }),
            _ => visit(Entry::Text {
                path: &path,
                content,
                added,
                id: Some(id),
            }),
        }
    }

    /// The bytes of a change's blob: its working-tree file when that holds exactly them, else
    /// the object, or that it is binary when `walk` skips binary blobs and the file's first
    /// bytes tell. A missing object fails the scan either way, as it would fail the commit (a
    /// size limit has read its header already).
    fn staged_blob(&self, change: &Change, walk: WalkOptions) -> Result<BlobBytes<'_>> {
        let id = change.id;
        let unreadable = || {
            let path = String::from_utf8_lossy(&change.path);
            Error::git(format!("cannot read the blob {id} of {path}"))
        };
        let binary = if walk.scan_binary {
            BinaryBlobs::Scanned
        } else {
            BinaryBlobs::Skipped
        };
        if let (Some(staged), Some(workdir)) = (&change.staged_file, self.repo.workdir())
            && (walk.max_file_size.is_some() || self.object_exists(id)?)
            && let Some(read) = disk_blob::read_if_staged(workdir, &change.path, id, staged, binary)
        {
            return Ok(match read {
                DiskRead::Whole(bytes) => BlobBytes::Disk(bytes),
                DiskRead::Binary => BlobBytes::BinaryOnDisk,
            });
        }
        let blob = self.repo.find_blob(id).map_err(unreadable())?;
        Ok(BlobBytes::Object(blob))
    }

    /// libgit2's answer (`git_odb_exists`): a pack, a loose file, an alternate. The loose file,
    /// what a first commit's objects are, is looked for first the way libgit2's loose backend
    /// does (the path exists), by a path from the current directory: libgit2 asks by the
    /// absolute path, and the kernel's walk of its components was most of the check's cost.
    fn object_exists(&self, id: Oid) -> Result<bool> {
        if loose_file_exists(&self.repo, id) {
            return Ok(true);
        }
        let odb = self
            .repo
            .odb()
            .map_err(Error::git("cannot open the object database"))?;
        Ok(odb.exists(id))
    }

    /// A blob's bytes (a symlink's target path).
    pub fn blob_bytes(&self, id: Oid) -> Result<Vec<u8>> {
        let blob = self
            .repo
            .find_blob(id)
            .map_err(Error::git(format!("cannot read the blob {id}")))?;
        Ok(blob.content().to_vec())
    }

    pub(super) fn visit_whole_blob(
        &self,
        path: &[u8],
        id: Oid,
        mode: FileMode,
        walk: WalkOptions,
        stats: &mut WalkStats,
        visit: &mut impl FnMut(Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let path = String::from_utf8_lossy(path).into_owned();
        if let Some(reason) = unscannable_mode(mode, stats) {
            return visit(Entry::Skipped { path, reason });
        }
        let blob = self
            .repo
            .find_blob(id)
            .map_err(Error::git(format!("cannot read the blob {id} of {path}")))?;
        let content = blob.content();
        let reason = skip_reason(content.len() as u64, content, walk);
        visit_content(&path, content, reason, stats, visit)
    }
}

thread_local! {
    /// The repository last asked about (its common directory) and the path of its loose
    /// objects' directory, or `None` when libgit2 reads them from elsewhere.
    static LOOSE_DIR: RefCell<(Vec<u8>, Option<Vec<u8>>)> = const {
        RefCell::new((Vec::new(), None))
    };
}

/// True when the loose object file of `id` exists (a path of any kind, as libgit2's loose
/// backend checks with `access`); false says nothing (the object may be packed).
fn loose_file_exists(repo: &Repository, id: Oid) -> bool {
    LOOSE_DIR.with_borrow_mut(|(common, objects)| {
        let dir = repo.commondir();
        if common[..] != *dir.as_os_str().as_bytes() {
            common.clear();
            common.extend_from_slice(dir.as_os_str().as_bytes());
            *objects = loose_objects_dir(dir);
        }
        let Some(objects) = objects else {
            return false;
        };
        let prefix = objects.len();
        let hex = hex_id(id);
        objects.extend_from_slice(&hex[..2]);
        objects.push(b'/');
        objects.extend_from_slice(&hex[2..]);
        let exists = std::fs::metadata(Path::new(OsStr::from_bytes(objects))).is_ok();
        objects.truncate(prefix);
        exists
    })
}

/// `id` in lowercase hex, as loose objects are named; written into an array, not formatted
/// into a new `String` per staged file.
fn hex_id(id: Oid) -> [u8; 40] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0; 40];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(id.as_bytes()) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    hex
}

/// `common_dir`'s `objects/`, from the current directory when it is below it; `None` when
/// `GIT_OBJECT_DIRECTORY` moves the objects (libgit2 reads that variable).
fn loose_objects_dir(common_dir: &Path) -> Option<Vec<u8>> {
    if std::env::var_os("GIT_OBJECT_DIRECTORY").is_some() {
        return None;
    }
    let cwd = std::env::current_dir().ok();
    let relative = cwd
        .as_deref()
        .and_then(|cwd| common_dir.strip_prefix(cwd).ok())
        .filter(|rest| !rest.as_os_str().is_empty());
    let mut dir = relative
        .unwrap_or(common_dir)
        .join("objects")
        .into_os_string();
    dir.push("/");
    Some(dir.into_vec())
}

/// Regular files are scanned; symlinks (their blob is a target path) and submodules are
/// counted and skipped, and the reason handed on (listed with `-v`).
fn unscannable_mode(mode: FileMode, stats: &mut WalkStats) -> Option<SkipReason> {
    match mode {
        FileMode::Link => {
            stats.symlinks_skipped += 1;
            Some(SkipReason::Symlink)
        }
        FileMode::Commit => {
            stats.submodules_skipped += 1;
            Some(SkipReason::Submodule)
        }
        _ => None,
    }
}

pub(super) fn filemode(raw: u32) -> FileMode {
    match raw {
        0o100755 => FileMode::BlobExecutable,
        0o120000 => FileMode::Link,
        0o160000 => FileMode::Commit,
        0o040000 => FileMode::Tree,
        _ => FileMode::Blob,
    }
}

pub(super) fn skip_reason(size: u64, content: &[u8], walk: WalkOptions) -> Option<SkipReason> {
    if let Some(limit) = walk.max_file_size.filter(|limit| size > *limit) {
        return Some(SkipReason::TooLarge { size, limit });
    }
    (!walk.scan_binary && is_binary_not_text(content)).then_some(SkipReason::Binary)
}

pub(super) fn visit_content(
    path: &str,
    content: &[u8],
    skip: Option<SkipReason>,
    stats: &mut WalkStats,
    visit: &mut impl FnMut(Entry<'_>) -> Result<()>,
) -> Result<()> {
    match skip {
        Some(reason) => {
            match reason {
                SkipReason::Binary => stats.binary_skipped += 1,
                SkipReason::TooLarge { .. } => stats.too_large_skipped += 1,
                SkipReason::Submodule => stats.submodules_skipped += 1,
                SkipReason::Symlink => stats.symlinks_skipped += 1,
            }
            visit(Entry::Skipped {
                path: path.to_string(),
                reason,
            })
        }
        None => visit(Entry::Text {
            path,
            content,
            added: Added {
                repo: None,
                old: None,
                others: &[],
                path: path.as_bytes(),
                content,
            },
            id: None,
        }),
    }
}

/// The blob at `path` in `tree`, if there is a regular file there.
fn tree_blob(tree: &Tree<'_>, path: &[u8]) -> Option<Oid> {
    let entry = tree
        .get_path(Path::new(std::ffi::OsStr::from_bytes(path)))
        .ok()?;
    (entry.kind() == Some(ObjectType::Blob)).then(|| entry.id())
}

/// Binary by git's test, and not UTF-16 text (which git calls binary too, but which the
/// scanner decodes: PowerShell scripts, Notepad "Unicode" files, `.reg` exports).
pub(super) fn is_binary_not_text(content: &[u8]) -> bool {
    is_binary(content) && crate::detect::decode::utf16_encoding(content).is_none()
}

/// Git's own test: a NUL byte within the first 8000 bytes.
pub fn is_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(BINARY_PROBE_LEN)]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loose object is found by its file, in whichever repository the thread asked about
    /// last; an object without one is left to libgit2.
    #[test]
    fn loose_objects_are_found_by_their_files() {
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = Repository::init(first.path()).unwrap();
        let second = Repository::init(second.path()).unwrap();
        let id = first.blob(b"only in the first\n").unwrap();
        assert!(loose_file_exists(&first, id));
        assert!(!loose_file_exists(&second, id));
        assert!(loose_file_exists(&first, id));
        let absent = Oid::from_str("1111111111111111111111111111111111111111").unwrap();
        assert!(!loose_file_exists(&first, absent));
    }

    #[test]
    fn object_ids_are_written_as_git_names_them() {
        for hex in [
            "0123456789abcdef0123456789abcdef01234567",
            "fedcba9876543210ffffffff0000000010101010",
        ] {
            assert_eq!(&hex_id(Oid::from_str(hex).unwrap())[..], hex.as_bytes());
        }
    }

    #[test]
    fn binary_detection_follows_git() {
        let mut late_nul = vec![b'a'; BINARY_PROBE_LEN];
        late_nul.push(0);
        let cases: [(&[u8], bool); 4] = [
            (b"", false),
            (b"text\n", false),
            (b"\x89PNG\r\n\x1a\n\0\0", true),
            (&late_nul, false),
        ];
        for (content, expected) in cases {
            assert_eq!(is_binary(content), expected);
        }
    }
}

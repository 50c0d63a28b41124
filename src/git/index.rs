//! A reader for git's index file (format versions 2 to 4) and its cache-tree extension.
//!
//! libgit2 compares HEAD with the index by reading every tree of HEAD; git itself skips each
//! directory whose cache-tree entry is valid and equal to HEAD's tree, which is what keeps
//! `git diff --cached` fast on large repositories. Reading the index here gives the staged scan
//! the same shortcut. It reads what git writes: versions 2 to 4, with or without a checksum
//! (`index.skipHash`), the `link` extension of a split index (merged with its shared index in
//! `split_index`) and the directory entries of a sparse index (`sdir`), which the caller expands
//! from their trees. An unknown version or required extension is reported as unsupported, and
//! the caller falls back to libgit2. The format: git's Documentation/gitformat-index.txt.
//!
//! `scan` checks every entry and notes where it lies without copying it (`LocatedIndex`): the
//! staged scan copies out only the entries of the directories the cache tree cannot vouch for.
//!
//! The trailing checksum is not verified, as git itself does not verify it when it reads the
//! index for a commit (only `git fsck` does): hashing the 1.4 MB index of an 8,000-file
//! repository takes about 0.7 ms even with the CPU's SHA instructions, a tenth of a small
//! commit's whole scan there, and what is scanned must be what git commits. A truncated or
//! malformed index still fails the parse, closed.

/// Object ids in the index are SHA-1 here (SHA-256 repositories fall back to libgit2).
const OID_LEN: usize = 20;
/// ctime, mtime, dev, ino, mode, uid, gid, size: ten 32-bit fields before the object id.
const STAT_LEN: usize = 40;
/// assume-unchanged (`git update-index --assume-unchanged`): git does not look at the file.
const FLAG_ASSUME_VALID: u16 = 0x8000;
const FLAG_EXTENDED: u16 = 0x4000;
const FLAG_STAGE_MASK: u16 = 0x3000;
const FLAG_NAME_MASK: u16 = 0x0fff;
const EXTENDED_INTENT_TO_ADD: u16 = 0x2000;
/// skip-worktree (sparse checkout): the file need not exist, git does not look at it.
const EXTENDED_SKIP_WORKTREE: u16 = 0x4000;

/// A sparse index folds a directory outside the sparse cone into one entry with this mode,
/// the directory's tree id and its path with a trailing `/`.
pub const SPARSE_DIR_MODE: u32 = 0o040000;

/// One index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub path: Vec<u8>,
    pub mode: u32,
    pub oid: [u8; OID_LEN],
    /// 0, or 1-3 for the sides of an unmerged path.
    pub stage: u8,
    /// `git add -N`: in the index but not part of the next commit.
    pub intent_to_add: bool,
    /// The file's stat data when git last hashed it; `None` for an entry made from a tree,
    /// which no file on disk stands behind.
    pub stat: Option<StatData>,
    /// assume-unchanged or skip-worktree: git does not look at the file, so its stat data
    /// vouch for nothing.
    pub unwatched: bool,
}

/// A file time as the index keeps it: seconds and nanoseconds, each 32 bits.
pub type FileTime = (u32, u32);

/// What git recorded of an entry's working-tree file (gitformat-index): each field's low 32
/// bits, as git stores and compares them; times are (seconds, nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatData {
    pub ctime: FileTime,
    pub mtime: FileTime,
    pub dev: u32,
    pub ino: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u32,
}

impl StatData {
    /// The 40 bytes before an entry's object id (its mode, at 24..28, is read apart).
    fn parse(fixed: &[u8]) -> StatData {
        let at = |i: usize| be32(&fixed[i..i + 4]);
        StatData {
            ctime: (at(0), at(4)),
            mtime: (at(8), at(12)),
            dev: at(16),
            ino: at(20),
            uid: at(28),
            gid: at(32),
            size: at(36),
        }
    }

    /// git's racy-timestamp rule (`is_racy_stat` in read-cache.c): a file whose mtime is not
    /// older than the index file's own (`written`) may have changed in the clock tick git
    /// recorded it in, so these data cannot vouch for its bytes.
    pub fn is_racy(&self, written: Option<FileTime>) -> bool {
        written.is_none_or(|written| written <= self.mtime)
    }
}

impl IndexEntry {
    /// A sparse index's directory entry: stands for every file of the tree `oid`.
    pub fn is_sparse_dir(&self) -> bool {
        self.mode == SPARSE_DIR_MODE
    }
}

/// One directory of the cache-tree extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheTree {
    pub name: Vec<u8>,
    /// The tree object id when the directory's entry is valid (git marks changed ones -1).
    pub oid: Option<[u8; OID_LEN]>,
    pub children: Vec<CacheTree>,
}

impl CacheTree {
    /// git writes a node's children ordered by name length, then bytes (`subtree_name_cmp`
    /// in cache-tree.c): found by binary search there, else by a linear walk.
    pub fn child(&self, name: &[u8]) -> Option<&CacheTree> {
        let order = |c: &CacheTree| (c.name.len(), &c.name[..]).cmp(&(name.len(), name));
        match self.children.binary_search_by(order) {
            Ok(at) => Some(&self.children[at]),
            Err(_) => self.children.iter().find(|c| c.name == name),
        }
    }
}

/// A parsed index: entries in git's order and the cache tree, if the index has one.
#[derive(Debug, Clone)]
pub struct Index {
    pub entries: Vec<IndexEntry>,
    pub cache_tree: Option<CacheTree>,
    /// A split index: most entries live in the shared index this names.
    pub link: Option<Link>,
    /// The index file's mtime (the older one for a split index), set by whoever read the
    /// file: `None` makes every entry racy.
    pub written: Option<FileTime>,
}

impl Index {
    /// True when some entry is unmerged (stage 1-3).
    pub fn has_conflicts(&self) -> bool {
        self.entries.iter().any(|e| e.stage != 0)
    }
}

/// The `link` extension of a split index: the shared index's id, and which of its entries
/// this file deletes and replaces (EWAH bitmaps, decoded when the shared index is known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub shared: [u8; OID_LEN],
    pub delete_bitmap: Vec<u8>,
    pub replace_bitmap: Vec<u8>,
}

impl Link {
    /// The shared index's file name in the git directory.
    pub fn shared_file_name(&self) -> String {
        let hex: String = self.shared.iter().map(|b| format!("{b:02x}")).collect();
        format!("sharedindex.{hex}")
    }
}

/// Why the reader handed over to libgit2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsupported {
    /// An unknown required extension.
    Extension(String),
    Version(u32),
}

/// A corrupt or truncated index: the scan fails closed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt(pub String);

pub enum Parsed {
    Index(Index),
    Unsupported(Unsupported),
}

/// Parses the whole index file.
pub fn parse(data: &[u8]) -> Result<Parsed, Corrupt> {
    Ok(match scan(data.to_vec())? {
        Scanned::Index(located) => Parsed::Index(located.into_index()),
        Scanned::Unsupported(why) => Parsed::Unsupported(why),
    })
}

/// Where one entry lies: its fixed part at `at` in the file, its path at `path` (in the file,
/// or in the decompressed paths of a version 4 index).
#[derive(Debug, Clone, Copy)]
struct Slot {
    at: u32,
    path: u32,
    path_len: u32,
}

/// An index whose entries are found and checked but not copied out: a staged scan reads only
/// the entries of the directories its cache tree cannot vouch for. Copying every entry of a
/// 100,000-file index (a path allocation each) cost more than git's whole `diff --cached`.
#[derive(Debug)]
pub struct LocatedIndex {
    data: Vec<u8>,
    /// Version 4 compresses each path against the previous one: the paths, spelled out.
    v4_paths: Option<Vec<u8>>,
    slots: Vec<Slot>,
    pub cache_tree: Option<CacheTree>,
    pub link: Option<Link>,
    /// Some entry is unmerged (stage 1-3).
    pub has_conflicts: bool,
    /// Every path sorts after the one before (by bytes, then stage), as git writes them.
    pub sorted: bool,
    pub written: Option<FileTime>,
}

/// The entries of an index, read one at a time.
pub trait Entries {
    fn count(&self) -> usize;
    fn path(&self, i: usize) -> &[u8];
    fn entry(&self, i: usize) -> IndexEntry;
    /// The entry's object id and mode, without copying it out.
    fn id_and_mode(&self, i: usize) -> (&[u8], u32);
    /// `git add -N`: in the index but not part of the next commit.
    fn intent_to_add(&self, i: usize) -> bool;
}

impl Entries for [IndexEntry] {
    fn count(&self) -> usize {
        self.len()
    }
    fn path(&self, i: usize) -> &[u8] {
        &self[i].path
    }
    fn entry(&self, i: usize) -> IndexEntry {
        self[i].clone()
    }
    fn id_and_mode(&self, i: usize) -> (&[u8], u32) {
        (&self[i].oid, self[i].mode)
    }
    fn intent_to_add(&self, i: usize) -> bool {
        self[i].intent_to_add
    }
}

impl Entries for LocatedIndex {
    fn count(&self) -> usize {
        self.slots.len()
    }
    fn path(&self, i: usize) -> &[u8] {
        let slot = self.slots[i];
        let source = self.v4_paths.as_deref().unwrap_or(&self.data);
        &source[slot.path as usize..(slot.path + slot.path_len) as usize]
    }
    fn entry(&self, i: usize) -> IndexEntry {
        let fixed = &self.data[self.slots[i].at as usize..];
        let (flags, extended) = entry_flags(fixed);
        let mut oid = [0u8; OID_LEN];
        oid.copy_from_slice(&fixed[STAT_LEN..STAT_LEN + OID_LEN]);
        IndexEntry {
            path: self.path(i).to_vec(),
            mode: be32(&fixed[24..28]),
            oid,
            stage: ((flags & FLAG_STAGE_MASK) >> 12) as u8,
            intent_to_add: extended & EXTENDED_INTENT_TO_ADD != 0,
            stat: Some(StatData::parse(&fixed[..STAT_LEN])),
            unwatched: flags & FLAG_ASSUME_VALID != 0 || extended & EXTENDED_SKIP_WORKTREE != 0,
        }
    }
    fn id_and_mode(&self, i: usize) -> (&[u8], u32) {
        let fixed = &self.data[self.slots[i].at as usize..];
        (&fixed[STAT_LEN..STAT_LEN + OID_LEN], be32(&fixed[24..28]))
    }
    fn intent_to_add(&self, i: usize) -> bool {
        let (_, extended) = entry_flags(&self.data[self.slots[i].at as usize..]);
        extended & EXTENDED_INTENT_TO_ADD != 0
    }
}

/// An entry's flags and extended flags (0 when it has none), from its fixed part.
fn entry_flags(fixed: &[u8]) -> (u16, u16) {
    let at = STAT_LEN + OID_LEN;
    let flags = u16::from_be_bytes([fixed[at], fixed[at + 1]]);
    let extended = if flags & FLAG_EXTENDED != 0 {
        u16::from_be_bytes([fixed[at + 2], fixed[at + 3]])
    } else {
        0
    };
    (flags, extended)
}

impl LocatedIndex {
    /// Every entry copied out.
    pub fn into_index(self) -> Index {
        let entries = (0..self.slots.len()).map(|i| self.entry(i)).collect();
        Index {
            entries,
            cache_tree: self.cache_tree,
            link: self.link,
            written: self.written,
        }
    }
}

pub enum Scanned {
    Index(Box<LocatedIndex>),
    Unsupported(Unsupported),
}

/// Finds and checks every entry and reads the extensions, copying no entry out.
pub fn scan(data: Vec<u8>) -> Result<Scanned, Corrupt> {
    let corrupt = |what: &str| Corrupt(what.to_string());
    if data.len() < 12 + OID_LEN || &data[..4] != b"DIRC" {
        return Err(corrupt("not an index file (bad signature or too short)"));
    }
    let version = be32(&data[4..8]);
    if !(2..=4).contains(&version) {
        return Ok(Scanned::Unsupported(Unsupported::Version(version)));
    }
    if u32::try_from(data.len()).is_err() {
        return Err(corrupt("index file over 4 GB"));
    }
    let body = &data[..data.len() - OID_LEN];
    let count = be32(&body[8..12]) as usize;
    let mut at = 12;
    let mut slots = Vec::with_capacity(count.min(body.len() / 62));
    let mut v4_paths = (version == 4).then(Vec::new);
    let mut has_conflicts = false;
    let mut sorted = true;
    let mut previous: (usize, usize, u8) = (0, 0, 0);
    for _ in 0..count {
        let start = at;
        let fixed = body
            .get(at..at + STAT_LEN + OID_LEN + 2)
            .ok_or_else(|| corrupt("index entry runs past the end"))?;
        let flags = u16::from_be_bytes([fixed[STAT_LEN + OID_LEN], fixed[STAT_LEN + OID_LEN + 1]]);
        at += STAT_LEN + OID_LEN + 2;
        if flags & FLAG_EXTENDED != 0 {
            if version < 3 {
                return Err(corrupt("extended flags in a version 2 index"));
            }
            if body.get(at..at + 2).is_none() {
                return Err(corrupt("index entry runs past the end"));
            }
            at += 2;
        }
        let path = match v4_paths.as_mut() {
            Some(paths) => v4_path(body, &mut at, paths, previous)?,
            None => padded_path(body, &mut at, start, flags)?,
        };
        if at > body.len() {
            return Err(corrupt("index entry runs past the end"));
        }
        let stage = ((flags & FLAG_STAGE_MASK) >> 12) as u8;
        has_conflicts |= stage != 0;
        if sorted && !slots.is_empty() {
            let source = v4_paths.as_deref().unwrap_or(body);
            let before = (&source[previous.0..previous.0 + previous.1], previous.2);
            sorted = before < (&source[path.0..path.0 + path.1], stage);
        }
        previous = (path.0, path.1, stage);
        slots.push(Slot {
            at: start as u32,
            path: path.0 as u32,
            path_len: path.1 as u32,
        });
    }
    let (cache_tree, link) = match extensions(body, at)? {
        Ok(found) => found,
        Err(unsupported) => return Ok(Scanned::Unsupported(unsupported)),
    };
    Ok(Scanned::Index(Box::new(LocatedIndex {
        data,
        v4_paths,
        slots,
        cache_tree,
        link,
        has_conflicts,
        sorted,
        written: None,
    })))
}

/// The cache tree and the split index's link.
type Extensions = (Option<CacheTree>, Option<Link>);

/// The extensions from `at` on, or the unknown required extension found there.
fn extensions(body: &[u8], mut at: usize) -> Result<Result<Extensions, Unsupported>, Corrupt> {
    let corrupt = |what: &str| Corrupt(what.to_string());
    let mut cache_tree = None;
    let mut link = None;
    while at + 8 <= body.len() {
        let signature = &body[at..at + 4];
        let size = be32(&body[at + 4..at + 8]) as usize;
        let payload = body
            .get(at + 8..at + 8 + size)
            .ok_or_else(|| corrupt("index extension runs past the end"))?;
        match signature {
            b"TREE" => {
                let mut cursor = payload;
                cache_tree =
                    Some(parse_tree(&mut cursor, 0).ok_or_else(|| corrupt("bad cache tree"))?);
            }
            b"link" => link = Some(parse_link(payload)?),
            // A sparse index: its directory entries carry their own mode, so the flag adds
            // nothing the entries do not say.
            b"sdir" => {}
            // Optional extensions (upper case) the comparison does not need: REUC, UNTR,
            // FSMN, EOIE, IEOT, ... Other lower-case signatures are required and unknown.
            other if other[0].is_ascii_lowercase() => {
                let name = String::from_utf8_lossy(other).into_owned();
                return Ok(Err(Unsupported::Extension(name)));
            }
            _ => {}
        }
        at += 8 + size;
    }
    Ok(Ok((cache_tree, link)))
}

/// A version 4 path, read at `at` (moved past it): the previous path less a suffix, then the
/// rest, appended to `paths`. Returns its (start, length) in `paths`.
fn v4_path(
    body: &[u8],
    at: &mut usize,
    paths: &mut Vec<u8>,
    previous: (usize, usize, u8),
) -> Result<(usize, usize), Corrupt> {
    let corrupt = |what: &str| Corrupt(what.to_string());
    let (strip, used) = varint(&body[*at..]).ok_or_else(|| corrupt("bad path prefix"))?;
    *at += used;
    let end = memchr::memchr(0, &body[*at..]).ok_or_else(|| corrupt("unterminated path"))?;
    let keep = previous
        .1
        .checked_sub(strip)
        .ok_or_else(|| corrupt("path prefix longer than the previous path"))?;
    let start = paths.len();
    paths.extend_from_within(previous.0..previous.0 + keep);
    paths.extend_from_slice(&body[*at..*at + end]);
    *at += end + 1;
    Ok((start, keep + end))
}

/// A version 2 or 3 path, read at `at` and moved past it and the entry's padding. Returns its
/// (start, length) in the file.
fn padded_path(
    body: &[u8],
    at: &mut usize,
    start: usize,
    flags: u16,
) -> Result<(usize, usize), Corrupt> {
    let corrupt = |what: &str| Corrupt(what.to_string());
    let name_len = usize::from(flags & FLAG_NAME_MASK);
    let end = if name_len < usize::from(FLAG_NAME_MASK) {
        name_len
    } else {
        memchr::memchr(0, body.get(*at..).unwrap_or_default())
            .ok_or_else(|| corrupt("unterminated path"))?
    };
    if body.get(*at..*at + end).is_none() {
        return Err(corrupt("index path runs past the end"));
    }
    let path = (*at, end);
    // Entries are padded with 1 to 8 NULs to a multiple of eight bytes.
    let unpadded = *at + end - start;
    *at = start + (unpadded + 8) / 8 * 8;
    Ok(path)
}

/// `link`: the shared index's id, then the delete and replace bitmaps (absent when the split
/// index changes nothing of the shared one).
fn parse_link(payload: &[u8]) -> Result<Link, Corrupt> {
    let corrupt = || Corrupt("bad link extension (split index)".to_string());
    let shared: [u8; OID_LEN] = payload
        .get(..OID_LEN)
        .ok_or_else(corrupt)?
        .try_into()
        .map_err(|_| corrupt())?;
    let rest = &payload[OID_LEN..];
    let (delete_bitmap, replace_bitmap) = if rest.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let first = super::split_index::ewah_len(rest).ok_or_else(corrupt)?;
        (rest[..first].to_vec(), rest[first..].to_vec())
    };
    Ok(Link {
        shared,
        delete_bitmap,
        replace_bitmap,
    })
}

/// Deeper cache trees are refused: git's paths are at most 4096 bytes, so no real tree nests
/// this deep, and recursion stays far from the stack's end.
const MAX_TREE_DEPTH: usize = 2048;

/// One cache-tree node: `path NUL entry_count SP subtrees LF [oid]`, then its subtrees. Counts
/// come from the file, so they bound nothing: capacity is limited by the bytes left.
fn parse_tree(data: &mut &[u8], depth: usize) -> Option<CacheTree> {
    if depth > MAX_TREE_DEPTH {
        return None;
    }
    let nul = memchr::memchr(0, data)?;
    let name = data[..nul].to_vec();
    *data = &data[nul + 1..];
    let newline = memchr::memchr(b'\n', data)?;
    let header = std::str::from_utf8(&data[..newline]).ok()?;
    *data = &data[newline + 1..];
    let (count, subtrees) = header.split_once(' ')?;
    let count: i64 = count.parse().ok()?;
    let subtrees: usize = subtrees.parse().ok()?;
    let oid = if count >= 0 {
        let mut oid = [0u8; OID_LEN];
        oid.copy_from_slice(data.get(..OID_LEN)?);
        *data = &data[OID_LEN..];
        Some(oid)
    } else {
        None
    };
    // Each subtree takes at least four bytes ("\0" "0 0\n").
    let mut children = Vec::with_capacity(subtrees.min(data.len() / 4));
    for _ in 0..subtrees {
        children.push(parse_tree(data, depth + 1)?);
    }
    Some(CacheTree {
        name,
        oid,
        children,
    })
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// git's offset varint (gitformat-index, version 4): 7 bits a byte, each continuation adds one.
fn varint(data: &[u8]) -> Option<(usize, usize)> {
    let mut value: usize = 0;
    for (i, &byte) in data.iter().enumerate().take(9) {
        if i > 0 {
            value = value.checked_add(1)?.checked_shl(7)?;
        }
        value |= usize::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::{Digest, Sha1};

    /// Builds an index with git itself in each format version and compares every entry with
    /// `git ls-files --stage`.
    #[test]
    fn entries_match_git_ls_files_in_every_version() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let output = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env_remove("GIT_DIR")
                .env_remove("GIT_INDEX_FILE")
                .output()
                .unwrap();
            assert!(output.status.success(), "git {args:?}");
            String::from_utf8(output.stdout).unwrap()
        };
        git(&["init", "-q"]);
        for (path, text) in [
            ("a/b/deep.txt", "1"),
            ("a/b.txt", "2"),
            ("a.txt", "3"),
            ("sp ace/é.txt", "4"),
            ("x/yz/long-name-that-shares-a-prefix.txt", "5"),
            ("x/yz/long-name-that-shares-a-prefix.txt2", "6"),
        ] {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        git(&["add", "-A"]);
        git(&["write-tree"]);
        for version in ["2", "3", "4"] {
            git(&["update-index", "--index-version", version]);
            let data = std::fs::read(dir.path().join(".git/index")).unwrap();
            let Ok(Scanned::Index(located)) = scan(data.clone()) else {
                panic!("version {version} scans");
            };
            // Else the staged scan would hand every index git writes to libgit2.
            assert!(located.sorted, "version {version}: git's order");
            let Ok(Parsed::Index(index)) = parse(&data) else {
                panic!("version {version} parses");
            };
            let expected: Vec<String> = git(&["ls-files", "--stage", "-z"])
                .split('\0')
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let got: Vec<String> = index
                .entries
                .iter()
                .map(|e| {
                    let oid: String = e.oid.iter().map(|b| format!("{b:02x}")).collect();
                    format!("{:o} {oid} 0\t{}", e.mode, String::from_utf8_lossy(&e.path))
                })
                .collect();
            assert_eq!(got, expected, "version {version}");
            let tree = index.cache_tree.expect("write-tree fills the cache tree");
            assert!(
                tree.oid.is_some() && tree.child(b"a").is_some(),
                "version {version}"
            );
        }
    }

    /// Fuzz finds, kept as regression tests: inputs are index bodies, the checksum appended.
    #[test]
    fn fuzz_regressions_do_not_crash() {
        let cases: [&[u8]; 2] = [
            // A cache-tree node claiming ~2^60 subtrees: allocated that capacity up front.
            include_bytes!("../../fuzz/regressions/index-cache-tree-huge-subtree-count"),
            // Nested cache-tree nodes many thousands deep: recursion without a bound.
            &deep_cache_tree(100_000),
        ];
        for body in cases {
            let mut data = body.to_vec();
            data.extend_from_slice(&Sha1::digest(body));
            let _ = parse(&data);
        }
    }

    fn deep_cache_tree(depth: usize) -> Vec<u8> {
        let mut tree = Vec::new();
        for _ in 0..depth {
            tree.extend_from_slice(b"d\0-1 1\n");
        }
        let mut body = b"DIRC\0\0\0\x02\0\0\0\0TREE".to_vec();
        body.extend_from_slice(&(tree.len() as u32).to_be_bytes());
        body.extend_from_slice(&tree);
        body
    }

    #[test]
    fn varints_follow_git() {
        assert_eq!(varint(&[0x00]), Some((0, 1)));
        assert_eq!(varint(&[0x7f]), Some((127, 1)));
        assert_eq!(varint(&[0x80, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0x80, 0x7f]), Some((255, 2)));
        assert_eq!(varint(&[0x80]), None);
    }

    #[test]
    fn rejects_a_bad_signature_and_truncation_but_trusts_the_checksum_as_git_does() {
        assert!(parse(b"nope").is_err());
        let mut data = b"DIRC\0\0\0\x02\0\0\0\x01".to_vec();
        data.extend_from_slice(&Sha1::digest(&data));
        assert!(parse(&data).is_err(), "one entry announced, none there");
        let mut data = b"DIRC\0\0\0\x02\0\0\0\0".to_vec();
        data.extend_from_slice(&Sha1::digest(&data));
        assert!(matches!(parse(&data), Ok(Parsed::Index(i)) if i.entries.is_empty()));
        let last = data.len() - 1;
        data[last] ^= 1;
        assert!(matches!(parse(&data), Ok(Parsed::Index(_))));
    }
}

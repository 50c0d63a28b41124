//! The history scan's blob reads, straight from the repository's pack files, with delta bases
//! kept for the versions that follow. libgit2 keeps a delta base only up to 1 MiB, 16 MiB in
//! all, and drops every base when that is full: a history that edits large generated files
//! inflated the same bases again for each version it read. Here the bases stay in one cache
//! of [`CACHE_BYTES`] that the scan's threads share, least recently used out first.
//!
//! Only what this reader knows is read here: blobs in packs of index version 2 with 20-byte
//! ids, whose delta chains stay in their pack. Anything else (a loose object, a chain through
//! another pack, a damaged entry) is `None`, and libgit2 reads it, or reports it, as before.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;

/// The bytes of the delta bases kept; the largest one kept is a quarter of it. Twice as much
/// took the openai-python history's peak RSS past its bound (docs/speed.md).
const CACHE_BYTES: usize = 16 << 20;

/// git's limit on a delta chain is far below this; a longer one is a damaged pack.
const LONGEST_CHAIN: usize = 10_000;

/// A pack whose index is larger (a million objects and more) is left to libgit2, which maps
/// its index instead of holding a copy.
const INDEX_UP_TO: u64 = 32 << 20;

const ID_LEN: usize = 20;
const BLOB: u8 = 3;
const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;

/// Every usable pack of one object directory, and the delta bases read from them.
pub struct Packs {
    packs: Vec<Pack>,
    bases: Mutex<Bases>,
}

impl std::fmt::Debug for Packs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packs({} packs)", self.packs.len())
    }
}

impl Packs {
    /// The packs under `objects/pack`; `None` when there is none this reader can use.
    pub fn open(objects: &Path) -> Option<Packs> {
        Packs::open_keeping(objects, CACHE_BYTES)
    }

    fn open_keeping(objects: &Path, budget: usize) -> Option<Packs> {
        let dir = std::fs::read_dir(objects.join("pack")).ok()?;
        let mut packs: Vec<Pack> = dir
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                (path.extension()? == "idx").then(|| Pack::open(&path))?
            })
            .collect();
        // The same order whatever the directory's: an object in two packs is read from one.
        packs.sort_by(|a, b| a.ids.cmp(&b.ids));
        (!packs.is_empty()).then(|| Packs {
            packs,
            bases: Mutex::new(Bases::new(budget)),
        })
    }

    /// The bytes of blob `id`, when it is in a pack and this reader can read it.
    pub fn blob(&self, id: Oid) -> Option<Arc<Vec<u8>>> {
        let (pack, offset) = (self.packs.iter().enumerate())
            .find_map(|(at, pack)| Some((at, pack.offset_of(id.as_bytes())?)))?;
        self.object(pack, offset)
    }

    /// The blob at `offset` of pack `at`: its delta chain walked down to a kept base or a
    /// whole entry, then the deltas applied back up, each result kept as a base.
    fn object(&self, at: usize, offset: u64) -> Option<Arc<Vec<u8>>> {
        let pack = &self.packs[at];
        let mut deltas: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut next = offset;
        let mut object = loop {
            if let Some(base) = self.lock().get((at, next)) {
                break base;
            }
            let entry = pack.entry(next)?;
            let data = inflate(&entry.data, entry.size)?;
            let base = match entry.base {
                Base::Whole(BLOB) => break self.keep((at, next), data),
                Base::Whole(_) => return None,
                Base::At(base) => base,
                Base::Id(id) => pack.offset_of(&id)?,
            };
            deltas.push((next, data));
            if deltas.len() > LONGEST_CHAIN {
                return None;
            }
            next = base;
        };
        while let Some((at_offset, delta)) = deltas.pop() {
            object = self.keep((at, at_offset), apply_delta(&object, &delta)?);
        }
        Some(object)
    }

    /// Keeps `data` as the base at `key`, and returns it shared.
    fn keep(&self, key: (usize, u64), data: Vec<u8>) -> Arc<Vec<u8>> {
        let data = Arc::new(data);
        self.lock().insert(key, Arc::clone(&data));
        data
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bases> {
        // Each entry is written whole: the cache stays consistent after a panic elsewhere.
        self.bases.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Objects read from the packs, by pack and offset, the least recently used dropped first
/// when they hold more than the budget; one larger than a quarter of it is not kept.
struct Bases {
    budget: usize,
    used: usize,
    clock: u64,
    entries: HashMap<(usize, u64), (Arc<Vec<u8>>, u64)>,
    by_use: BTreeMap<u64, (usize, u64)>,
}

impl Bases {
    fn new(budget: usize) -> Bases {
        Bases {
            budget,
            used: 0,
            clock: 0,
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
        }
    }

    fn get(&mut self, key: (usize, u64)) -> Option<Arc<Vec<u8>>> {
        self.clock += 1;
        let (data, used) = self.entries.get_mut(&key)?;
        self.by_use.remove(&*used);
        *used = self.clock;
        self.by_use.insert(self.clock, key);
        Some(Arc::clone(data))
    }

    fn insert(&mut self, key: (usize, u64), data: Arc<Vec<u8>>) {
        if data.len() > self.budget / 4 || self.entries.contains_key(&key) {
            return;
        }
        while self.used + data.len() > self.budget {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some((gone, _)) = self.entries.remove(&oldest) {
                self.used -= gone.len();
            }
        }
        self.clock += 1;
        self.used += data.len();
        self.by_use.insert(self.clock, key);
        self.entries.insert(key, (data, self.clock));
    }
}

/// One pack and its index (version 2), read whole: ids and offsets by position, and every
/// entry's offset in order, which tells where each entry ends.
struct Pack {
    file: File,
    fanout: Vec<u32>,
    ids: Vec<u8>,
    offsets: Vec<u64>,
    ends: Vec<u64>,
}

/// What a pack entry's object is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// A whole object of this type.
    Whole(u8),
    /// A delta on the entry at this offset.
    At(u64),
    /// A delta on the object with this id.
    Id([u8; ID_LEN]),
}

/// One entry: its compressed bytes, their inflated size, and its base.
struct Entry {
    data: Vec<u8>,
    size: usize,
    base: Base,
}

impl Pack {
    fn open(idx_path: &Path) -> Option<Pack> {
        if std::fs::metadata(idx_path).ok()?.len() > INDEX_UP_TO {
            return None;
        }
        let idx = std::fs::read(idx_path).ok()?;
        let file = File::open(idx_path.with_extension("pack")).ok()?;
        let pack_len = file.metadata().ok()?.len();
        let (fanout, ids, offsets) = parse_index(&idx)?;
        let mut header = [0u8; 12];
        file.read_exact_at(&mut header, 0).ok()?;
        let count = u32::from_be_bytes(header[8..12].try_into().ok()?) as usize;
        let version = u32::from_be_bytes(header[4..8].try_into().ok()?);
        if &header[..4] != b"PACK" || !(2..=3).contains(&version) || count != offsets.len() {
            return None;
        }
        let mut ends = offsets.clone();
        ends.push(pack_len.checked_sub(ID_LEN as u64)?);
        ends.sort_unstable();
        if ends.first().is_some_and(|&first| first < 12) {
            return None;
        }
        Some(Pack {
            file,
            fanout,
            ids,
            offsets,
            ends,
        })
    }

    fn offset_of(&self, id: &[u8]) -> Option<u64> {
        let first = *id.first()? as usize;
        let start = match first {
            0 => 0,
            _ => self.fanout[first - 1] as usize,
        };
        let end = self.fanout[first] as usize;
        let (mut low, mut high) = (start, end);
        while low < high {
            let middle = (low + high) / 2;
            match self.ids[middle * ID_LEN..(middle + 1) * ID_LEN].cmp(id) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(self.offsets[middle]),
            }
        }
        None
    }

    /// The entry at `offset`: read up to the next entry's offset, its header parsed.
    fn entry(&self, offset: u64) -> Option<Entry> {
        let next = self.ends.partition_point(|&end| end <= offset);
        let end = *self.ends.get(next)?;
        let mut bytes = vec![0u8; usize::try_from(end - offset).ok()?];
        self.file.read_exact_at(&mut bytes, offset).ok()?;
        let (kind, size, mut at) = entry_header(&bytes)?;
        let base = match kind {
            OFS_DELTA => {
                let (back, used) = ofs_distance(&bytes[at..])?;
                at += used;
                Base::At(offset.checked_sub(back).filter(|&base| base > 0)?)
            }
            REF_DELTA => {
                let id = bytes.get(at..at + ID_LEN)?.try_into().ok()?;
                at += ID_LEN;
                Base::Id(id)
            }
            1..=4 => Base::Whole(kind),
            _ => return None,
        };
        bytes.drain(..at);
        Some(Entry {
            data: bytes,
            size,
            base,
        })
    }
}

/// A version 2 index's fanout, ids and offsets; `None` for anything else (version 1, ids of
/// another length: the size must add up exactly).
fn parse_index(idx: &[u8]) -> Option<(Vec<u32>, Vec<u8>, Vec<u64>)> {
    let word = |at: usize| Some(u32::from_be_bytes(idx.get(at..at + 4)?.try_into().ok()?));
    if idx.get(..8)? != b"\xfftOc\x00\x00\x00\x02" {
        return None;
    }
    let fanout: Vec<u32> = (0..256).map(|i| word(8 + 4 * i)).collect::<Option<_>>()?;
    if fanout.windows(2).any(|pair| pair[0] > pair[1]) {
        return None;
    }
    let count = *fanout.last()? as usize;
    let ids_at = 8 + 4 * 256;
    let small_at = ids_at + count * (ID_LEN + 4);
    let large_at = small_at + count * 4;
    let small: Vec<u32> = (0..count)
        .map(|i| word(small_at + 4 * i))
        .collect::<Option<_>>()?;
    let large_count = small.iter().filter(|&&o| o & 0x8000_0000 != 0).count();
    if idx.len() != large_at + 8 * large_count + 2 * ID_LEN {
        return None;
    }
    let offsets = (small.iter())
        .map(|&o| match o & 0x8000_0000 {
            0 => Some(u64::from(o)),
            _ => {
                let at = large_at + 8 * (o & 0x7fff_ffff) as usize;
                Some(u64::from_be_bytes(idx.get(at..at + 8)?.try_into().ok()?))
            }
        })
        .collect::<Option<Vec<u64>>>()?;
    Some((
        fanout,
        idx[ids_at..ids_at + count * ID_LEN].to_vec(),
        offsets,
    ))
}

/// An entry's type, inflated size and header length.
fn entry_header(bytes: &[u8]) -> Option<(u8, usize, usize)> {
    let first = *bytes.first()?;
    let kind = (first >> 4) & 7;
    let mut size = u64::from(first & 15);
    let (mut shift, mut at, mut byte) = (4u32, 1, first);
    while byte & 0x80 != 0 {
        byte = *bytes.get(at)?;
        size |= u64::from(byte & 0x7f)
            .checked_shl(shift)
            .filter(|_| shift < 57)?;
        (shift, at) = (shift + 7, at + 1);
    }
    Some((kind, usize::try_from(size).ok()?, at))
}

/// How far back an offset delta's base is, and the bytes that said so.
fn ofs_distance(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut byte = *bytes.first()?;
    let (mut distance, mut at) = (u64::from(byte & 0x7f), 1);
    while byte & 0x80 != 0 {
        byte = *bytes.get(at)?;
        distance = (distance.checked_add(1)?).checked_mul(128)? | u64::from(byte & 0x7f);
        at += 1;
    }
    Some((distance, at))
}

/// The zlib stream at the start of `compressed`, which must inflate to exactly `size` bytes.
fn inflate(compressed: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(size);
    let mut stream = Decompress::new(true);
    let status = (stream.decompress_vec(compressed, &mut out, FlushDecompress::Finish)).ok()?;
    (status == Status::StreamEnd && out.len() == size).then_some(out)
}

/// A delta's size fields: a little-endian base-128 number.
fn delta_size(delta: &[u8]) -> Option<(usize, &[u8])> {
    let (mut size, mut shift) = (0u64, 0u32);
    for (at, &byte) in delta.iter().enumerate() {
        size |= u64::from(byte & 0x7f)
            .checked_shl(shift)
            .filter(|_| shift < 57)?;
        shift += 7;
        if byte & 0x80 == 0 {
            return Some((usize::try_from(size).ok()?, &delta[at + 1..]));
        }
    }
    None
}

/// `base` with git's delta applied: copies from the base and inserted bytes, in order.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let (base_len, rest) = delta_size(delta)?;
    let (len, mut ops) = delta_size(rest)?;
    if base_len != base.len() {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, count: usize| {
                let mut value = 0usize;
                for i in 0..count {
                    if bits & (1 << i) != 0 {
                        let (&byte, rest) = ops.split_first()?;
                        ops = rest;
                        value |= usize::from(byte) << (8 * i);
                    }
                }
                Some(value)
            };
            let from = field(op, 4)?;
            let count = match field(op >> 4, 3)? {
                0 => 0x10000,
                count => count,
            };
            out.extend_from_slice(base.get(from..from.checked_add(count)?)?);
        } else if op != 0 {
            let (inserted, rest) = ops.split_at_checked(usize::from(op))?;
            out.extend_from_slice(inserted);
            ops = rest;
        } else {
            return None;
        }
        if out.len() > len {
            return None;
        }
    }
    (out.len() == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Xorshift, git, write};

    /// A repository whose file has many versions, packed with deep delta chains.
    fn packed_history(offset_deltas: bool) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        let mut rng = Xorshift::new(7);
        let mut lines: Vec<String> = (0..3000).map(|i| format!("line {i} of a file\n")).collect();
        for version in 0..40 {
            for _ in 0..20 {
                let at = rng.below(lines.len());
                lines[at] = format!("version {version} changed {}\n", rng.next_u64());
            }
            if version % 7 == 3 {
                lines.drain(100..400);
            }
            write(root, "big.txt", &lines.concat());
            write(
                root,
                &format!("small{}.txt", version % 3),
                &format!("{version}\n"),
            );
            write(root, "empty.txt", "");
            git(root, &["add", "-A"]);
            git(root, &["commit", "-q", "-m", "v"]);
        }
        let offsets = format!("repack.usedeltabaseoffset={offset_deltas}");
        git(
            root,
            &[
                "-c",
                &offsets,
                "repack",
                "-adfq",
                "--depth=50",
                "--window=50",
            ],
        );
        dir
    }

    /// Every blob of the packs reads as libgit2 reads it, in history order and again in
    /// reverse, through a cache small enough to drop bases; ofs and ref deltas alike.
    #[test]
    fn every_packed_blob_reads_as_libgit2_reads_it() {
        for offset_deltas in [true, false] {
            let dir = packed_history(offset_deltas);
            let repo = git2::Repository::open(dir.path()).unwrap();
            let listed = git(dir.path(), &["rev-list", "--objects", "--all", "--reverse"]);
            let blobs: Vec<Oid> = (listed.lines())
                .filter_map(|line| Oid::from_str(line.split(' ').next()?).ok())
                .filter(|id| repo.find_blob(*id).is_ok())
                .collect();
            assert!(blobs.len() > 40, "{}", blobs.len());
            let objects = dir.path().join(".git/objects");
            let packs = Packs::open(&objects).unwrap();
            let pack = &packs.packs[0];
            let deltas = (pack.offsets.iter())
                .filter(|&&at| match pack.entry(at).unwrap().base {
                    Base::At(_) => offset_deltas,
                    Base::Id(_) => !offset_deltas,
                    Base::Whole(_) => false,
                })
                .count();
            assert!(deltas > 30, "{deltas} deltas of the kind asked for");
            for budget in [CACHE_BYTES, 200_000] {
                let packs = Packs::open_keeping(&objects, budget).unwrap();
                for id in blobs.iter().chain(blobs.iter().rev()) {
                    let read = packs.blob(*id).expect("a packed blob");
                    assert!(*read == *repo.find_blob(*id).unwrap().content(), "{id}");
                }
                let kept = packs.lock();
                assert!(kept.used <= budget && !kept.entries.is_empty());
            }
        }
    }

    /// What is not a packed blob is left to libgit2: a loose object, a tree, an unknown id.
    #[test]
    fn what_the_packs_do_not_hold_as_a_blob_is_left_to_libgit2() {
        let dir = packed_history(true);
        let root = dir.path();
        write(root, "loose.txt", "written after the repack\n");
        let loose = Oid::from_str(&git(root, &["hash-object", "-w", "loose.txt"])).unwrap();
        let tree = Oid::from_str(&git(root, &["rev-parse", "HEAD^{tree}"])).unwrap();
        let packs = Packs::open(&root.join(".git/objects")).unwrap();
        assert_eq!(packs.blob(loose), None);
        assert_eq!(packs.blob(tree), None);
        assert_eq!(packs.blob(Oid::from_str(&"ab".repeat(20)).unwrap()), None);
    }

    /// Damaged deltas are refused, not applied past their bounds.
    #[test]
    fn deltas_out_of_bounds_are_refused() {
        let base = b"0123456789";
        // base 10, result 4: copy 4 bytes from offset 2.
        assert_eq!(
            apply_delta(base, &[10, 4, 0x91, 2, 4]).as_deref(),
            Some(&b"2345"[..])
        );
        // insert 3 bytes, then copy 2 from offset 0.
        assert_eq!(
            apply_delta(base, &[10, 5, 3, b'a', b'b', b'c', 0x90, 2]).as_deref(),
            Some(&b"abc01"[..])
        );
        let damaged: [&[u8]; 5] = [
            &[9, 4, 0x91, 2, 4],
            &[10, 4, 0x91, 8, 4],
            &[10, 5, 0x91, 2, 4],
            &[10, 3, 3, b'a', b'b'],
            &[10, 1, 0],
        ];
        for delta in damaged {
            assert_eq!(apply_delta(base, delta), None, "{delta:?}");
        }
    }
}

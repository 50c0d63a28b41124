//! What earlier visits learned about blobs, so that a blob many commits reach is read and
//! searched once: a merge repeats its branch's changes against the first parent, and reverts,
//! cherry-picks and moves bring the same blob back.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use git2::Oid;

/// What a blob turned out to be, for every later commit that reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Text in which no rule can find a secret, whatever lines a change adds: `size` bytes,
    /// `lines` lines.
    Clean { size: u64, lines: u64 },
    /// Binary by git's own test.
    Binary,
}

/// Verdicts by blob id, shared by every thread of one scan. About 64 bytes per distinct blob:
/// a blob with a possible secret is not remembered (it is read again by each commit that
/// reaches it, to find the lines that commit adds).
#[derive(Debug, Default)]
pub struct BlobMemo {
    verdicts: Mutex<HashMap<Oid, Verdict>>,
}

impl BlobMemo {
    pub fn get(&self, id: Oid) -> Option<Verdict> {
        self.lock().get(&id).copied()
    }

    pub fn insert(&self, id: Oid, verdict: Verdict) {
        self.lock().insert(id, verdict);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Oid, Verdict>> {
        // The map stays consistent whatever a panicking thread was doing: each entry is
        // written whole.
        self.verdicts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_by_blob_id() {
        let memo = BlobMemo::default();
        let a = Oid::from_str(&"a".repeat(40)).unwrap();
        let b = Oid::from_str(&"b".repeat(40)).unwrap();
        assert!(memo.is_empty());
        memo.insert(a, Verdict::Clean { size: 3, lines: 1 });
        memo.insert(b, Verdict::Binary);
        assert_eq!(memo.get(a), Some(Verdict::Clean { size: 3, lines: 1 }));
        assert_eq!(memo.get(b), Some(Verdict::Binary));
        assert_eq!(memo.len(), 2);
    }
}

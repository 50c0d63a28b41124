//! Byte buffers kept per thread and lent out for one blob at a time (a staged file's bytes,
//! a text's lowercase copy): a scan's threads fault their pages in once, not once per blob,
//! and a read buffer zeroes only what it has never held.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::thread::LocalKey;

/// A buffer bigger than this goes back to the allocator when returned: a thread keeps at most
/// this much per slot between blobs. A first commit's files are mostly far smaller; at 4 MiB
/// the kept copies of a history's few big blobs (2.9 MB in openai-python) raised its peak RSS
/// from 87 to 94 MB, for no time saved on the first commits.
pub const KEPT_UP_TO: usize = 1 << 20;

/// Where a thread keeps one kind of buffer between loans.
pub type Slot = LocalKey<RefCell<Vec<u8>>>;

/// What becomes of a returned buffer bigger than what its slot keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverBound {
    /// Given back to the allocator, once it is over this many bytes.
    Dropped(usize),
    /// Shrunk in place to this many bytes and kept (glibc remaps a big block's tail away, or
    /// splits a heap block): the pages it keeps are in already, where a dropped buffer had
    /// the next blobs grow a new one and fault its pages in again.
    Shrunk(usize),
}

/// A thread's buffer from `slot`, returned to it when dropped. Its length is whatever the
/// last borrower left: a borrower overwrites what it reads back, or clears it first. Taken
/// twice on one thread without a return, the second loan starts empty (and is correct, only
/// not reused).
#[derive(Debug)]
pub struct Lent {
    bytes: Vec<u8>,
    slot: &'static Slot,
    over: OverBound,
}

impl Lent {
    /// A loan whose buffer is dropped when returned over [`KEPT_UP_TO`].
    pub fn from(slot: &'static Slot) -> Lent {
        Lent::keeping(slot, OverBound::Dropped(KEPT_UP_TO))
    }

    /// A loan from `slot` whose buffer, returned over its bound, becomes `over` says.
    pub fn keeping(slot: &'static Slot, over: OverBound) -> Lent {
        Lent {
            bytes: slot.take(),
            slot,
            over,
        }
    }

    /// A loan of `bytes`, a buffer of the borrower's own, that leaves the thread's buffer in
    /// `slot` for the next loan; kept in its place when returned (as `over` says) if it is
    /// the bigger one.
    pub fn fresh(slot: &'static Slot, over: OverBound, bytes: Vec<u8>) -> Lent {
        Lent { bytes, slot, over }
    }
}

/// A copy is the loan's bytes, returned to the same slot when dropped.
impl Clone for Lent {
    fn clone(&self) -> Lent {
        Lent {
            bytes: self.bytes.clone(),
            slot: self.slot,
            over: self.over,
        }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.bytes);
        match self.over {
            OverBound::Dropped(bound) if bytes.capacity() > bound => return,
            OverBound::Shrunk(bound) if bytes.capacity() > bound => {
                bytes.truncate(bound);
                bytes.shrink_to(bound);
            }
            _ => {}
        }
        // A thread that is ending has no slot left to keep it in.
        let _ = self.slot.try_with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.capacity() < bytes.capacity() {
                *slot = bytes;
            }
        });
    }
}

impl Deref for Lent {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.bytes
    }
}

impl DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static TEST_SLOT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn a_returned_buffer_is_lent_again_with_what_it_held() {
        let mut first = Lent::from(&TEST_SLOT);
        first.extend_from_slice(b"hello");
        let at = first.as_ptr();
        drop(first);
        let again = Lent::from(&TEST_SLOT);
        assert_eq!(again.as_ptr(), at);
        assert_eq!(&again[..], b"hello");
    }

    #[test]
    fn a_second_loan_meanwhile_starts_empty_and_the_bigger_is_kept() {
        let mut outer = Lent::from(&TEST_SLOT);
        outer.resize(100, 1);
        let mut inner = Lent::from(&TEST_SLOT);
        assert!(inner.is_empty() && inner.capacity() == 0);
        inner.resize(10, 2);
        drop(inner);
        let outer_at = outer.as_ptr();
        drop(outer);
        assert_eq!(Lent::from(&TEST_SLOT).as_ptr(), outer_at);
    }

    #[test]
    fn a_buffer_over_the_bound_is_not_kept() {
        let mut big = Lent::from(&TEST_SLOT);
        big.reserve_exact(KEPT_UP_TO + 1);
        drop(big);
        assert_eq!(Lent::from(&TEST_SLOT).capacity(), 0);
    }

    #[test]
    fn a_buffer_over_a_shrinking_bound_is_kept_with_its_first_bytes() {
        let bound = OverBound::Shrunk(KEPT_UP_TO);
        let mut big = Lent::keeping(&TEST_SLOT, bound);
        big.extend((0..KEPT_UP_TO + 5000).map(|i| (i % 251) as u8));
        drop(big);
        let kept = Lent::keeping(&TEST_SLOT, bound);
        assert_eq!((kept.capacity(), kept.len()), (KEPT_UP_TO, KEPT_UP_TO));
        assert!(kept.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    }

    #[test]
    fn a_fresh_buffer_is_kept_only_when_bigger_than_the_slots() {
        let mut kept = Lent::from(&TEST_SLOT);
        kept.resize(100, 1);
        let at = kept.as_ptr();
        drop(kept);
        let bound = OverBound::Shrunk(KEPT_UP_TO);
        let mut small = Lent::fresh(&TEST_SLOT, bound, Vec::with_capacity(10));
        small.push(2);
        drop(small);
        assert_eq!(Lent::from(&TEST_SLOT).as_ptr(), at);
        let big = Lent::fresh(&TEST_SLOT, bound, vec![3; KEPT_UP_TO + 1]);
        drop(big);
        let again = Lent::from(&TEST_SLOT);
        assert_eq!((again.capacity(), again[KEPT_UP_TO - 1]), (KEPT_UP_TO, 3));
    }
}

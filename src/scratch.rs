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

/// A thread's buffer from `slot`, returned to it when dropped. Its length is whatever the
/// last borrower left: a borrower overwrites what it reads back, or clears it first. Taken
/// twice on one thread without a return, the second loan starts empty (and is correct, only
/// not reused).
#[derive(Debug)]
pub struct Lent {
    bytes: Vec<u8>,
    slot: &'static Slot,
}

impl Lent {
    pub fn from(slot: &'static Slot) -> Lent {
        Lent {
            bytes: slot.take(),
            slot,
        }
    }

    /// A loan of `bytes`, a buffer of the borrower's own, that leaves the thread's buffer in
    /// `slot` for the next loan; kept in its place when returned if it is the bigger one (it
    /// is not when over [`KEPT_UP_TO`]).
    pub fn fresh(slot: &'static Slot, bytes: Vec<u8>) -> Lent {
        Lent { bytes, slot }
    }
}

/// A copy is the loan's bytes, returned to the same slot when dropped.
impl Clone for Lent {
    fn clone(&self) -> Lent {
        Lent {
            bytes: self.bytes.clone(),
            slot: self.slot,
        }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if self.bytes.capacity() > KEPT_UP_TO {
            return;
        }
        let bytes = std::mem::take(&mut self.bytes);
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
}

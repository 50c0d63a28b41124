//! A thread the caller lends to the staged comparison: work the calling thread would otherwise
//! share with a thread of its own (the `.gitattributes` look-ups) runs there, and the thread
//! stays for whatever the caller does next with it (a scan's second worker).

/// Work handed to a helper; it sends its answer back through a channel of its own.
pub type Job = Box<dyn FnOnce() + Send>;

/// Somewhere to run a [`Job`] beside the calling thread.
pub trait Helper {
    /// Runs `job` on another thread, or gives it back when there is none to run it.
    fn lend(&self, job: Job) -> std::result::Result<(), Job>;

    /// About `changes` changes are coming (an upper bound): a helper that will work on them
    /// may start now, while the comparison goes on.
    fn expect(&self, changes: usize) {
        let _ = changes;
    }
}

/// No thread to lend: whoever has a job runs it as they would without a helper.
pub struct NoHelper;

impl Helper for NoHelper {
    fn lend(&self, job: Job) -> std::result::Result<(), Job> {
        Err(job)
    }
}

//! A scanning thread started before the changes are known: the staged comparison starts it as
//! soon as it knows of many changes (a first commit's index entries, right after the index is
//! read), lends it the `.gitattributes` look-ups it would otherwise give a thread of its own,
//! and it stays to scan. It opens its repository while the calling thread compares, so a large
//! commit's second core starts scanning with the first, not a thread start and an open later.

use std::cell::{Cell, OnceCell};
use std::sync::OnceLock;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread::{Scope, ScopedJoinHandle};

use super::collect::{
    Collector, PARALLEL_MIN_CHANGES, cores_in, threads_for, visit_change_set, visit_shared,
};
use crate::detect::Scanner;
use crate::error::Result;
use crate::git::{Helper, Job, Repo, WalkOptions, WalkStats};

/// The commit being made: its changes, then their scan. When the comparison starts the early
/// thread (16 changes or more expected) or lends it work (many look-ups), that thread scans
/// too, as the second of the threads [`visit_change_set`] would start; otherwise the changes
/// go to [`visit_change_set`] as before.
pub(crate) fn visit_staged(
    repo: &Repo,
    walk: WalkOptions,
    collector: &mut Collector<'_>,
) -> Result<()> {
    let set = OnceLock::new();
    let cores = OnceLock::new();
    let next = AtomicUsize::new(0);
    let template = collector.fork();
    let mut walked = WalkStats::default();
    std::thread::scope(|scope| {
        let early = Early::new(scope, |jobs: Receiver<Job>| {
            // Asked while the calling thread finishes the comparison, between jobs.
            let scanner = template.scanner();
            let warm_ups = Scanner::warm_ups().map(|warm_up| move || warm_up(scanner));
            let own = run_jobs_then(
                jobs,
                || {
                    cores_in(&cores);
                    Repo::open()
                },
                warm_ups,
            );
            let set = set.get()?;
            if threads_for(set, &cores) < 2 {
                return None;
            }
            Some(own.and_then(|own| visit_shared(&own, set, &next, &template, walk, None)))
        });
        let found = (repo.staged_changes_with(&mut walked, &early)).map(|changes| {
            // Published before the early thread is told that no more jobs come.
            set.get_or_init(|| changes)
        });
        let second = early.finish();
        let changes = match found {
            Ok(changes) => changes,
            Err(err) => {
                second.map(Answer::wait);
                return Err(err);
            }
        };
        collector.stats.add_walk(&walked);
        let threads = threads_for(changes, &cores);
        let Some(second) = second.filter(|_| threads >= 2) else {
            return visit_change_set(repo, changes, walk, None, collector);
        };
        let first_finding = collector.findings.len();
        let first_warning = collector.warnings.len();
        let more: Vec<_> = (2..threads)
            .map(|_| {
                let work = || visit_shared(&Repo::open()?, changes, &next, &template, walk, None);
                scope.spawn(work)
            })
            .collect();
        let mut results = vec![visit_shared(repo, changes, &next, &template, walk, None)];
        results.push(second.wait().unwrap_or_else(|| Ok(template.fork())));
        results.extend(more.into_iter().map(join));
        for result in results {
            collector.absorb(result?);
        }
        collector.sort_from(first_finding, first_warning);
        Ok(())
    })
}

/// What the thread does with the jobs it is lent, and then: its answer is `T`.
type Body<'scope, T> = Box<dyn FnOnce(Receiver<Job>) -> T + Send + 'scope>;

/// A thread of `scope`, spawned at the first job lent to it or when many changes are expected
/// (a small commit does neither and spawns nothing), that runs every job lent and then the
/// rest of its body.
pub(crate) struct Early<'scope, 'env, T> {
    scope: &'scope Scope<'scope, 'env>,
    body: Cell<Option<Body<'scope, T>>>,
    running: OnceCell<(Sender<Job>, Answer<'scope, T>)>,
}

/// What the early thread answers, sent as its body returns: the thread's end (its buffers
/// freed, a few unmaps of up to 2 MiB each, and its stack) is not waited for. The scope still
/// waits for the body; a thread that panicked is joined to pass its panic on.
pub(crate) struct Answer<'scope, T> {
    answer: Receiver<T>,
    thread: ScopedJoinHandle<'scope, ()>,
}

impl<T> Answer<'_, T> {
    /// The body's answer, as soon as it is sent.
    pub(crate) fn wait(self) -> T {
        match self.answer.recv() {
            Ok(answer) => answer,
            // Nothing sent: the body panicked, and joining passes its panic on.
            Err(_) => {
                join(self.thread);
                unreachable!("a body that returned sent its answer")
            }
        }
    }
}

impl<'scope, 'env, T: Send + 'scope> Early<'scope, 'env, T> {
    /// `body` receives the jobs until [`Early::finish`]; what it returns is the thread's answer.
    pub(crate) fn new(
        scope: &'scope Scope<'scope, 'env>,
        body: impl FnOnce(Receiver<Job>) -> T + Send + 'scope,
    ) -> Self {
        Early {
            scope,
            body: Cell::new(Some(Box::new(body))),
            running: OnceCell::new(),
        }
    }

    /// No more jobs: the thread (if one was started) goes on with the rest of its body.
    pub(crate) fn finish(self) -> Option<Answer<'scope, T>> {
        let (jobs, answer) = self.running.into_inner()?;
        drop(jobs);
        Some(answer)
    }
}

impl<'scope, T: Send + 'scope> Helper for Early<'scope, '_, T> {
    /// Enough changes to scan on threads: the thread starts now (its first job does nothing),
    /// to open its repository while the comparison goes on.
    fn expect(&self, changes: usize) {
        if changes >= PARALLEL_MIN_CHANGES && self.running.get().is_none() {
            let _ = self.lend(Box::new(|| {}));
        }
    }

    fn lend(&self, job: Job) -> Result<(), Job> {
        if self.running.get().is_none() {
            let Some(body) = self.body.take() else {
                return Err(job);
            };
            let (jobs, lent) = std::sync::mpsc::channel();
            let (send, answer) = std::sync::mpsc::channel();
            let thread = self.scope.spawn(move || {
                // The receiver is gone only when the caller is unwinding: nobody to answer.
                let _ = send.send(body(lent));
            });
            // Set once: `running` was empty and only this thread fills it.
            let _ = self.running.set((jobs, Answer { answer, thread }));
        }
        match self.running.get() {
            Some((jobs, _)) => jobs.send(job).map_err(|unsent| unsent.0),
            None => Err(job),
        }
    }
}

/// Runs every job of `jobs` as it comes, until no more can come; `meanwhile` runs the first
/// time none is waiting (a job lent is never kept waiting for it), or at the end. After it,
/// each time no job is waiting, the next piece of `idle` runs (a job that comes meanwhile
/// waits for that piece only); what is left of `idle` when no more jobs can come is dropped.
fn run_jobs_then<R>(
    jobs: Receiver<Job>,
    meanwhile: impl FnOnce() -> R,
    idle: impl IntoIterator<Item = impl FnOnce()>,
) -> R {
    loop {
        match jobs.try_recv() {
            Ok(job) => job(),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => return meanwhile(),
        }
    }
    let done = meanwhile();
    let mut idle = idle.into_iter();
    loop {
        match jobs.try_recv() {
            Ok(job) => job(),
            Err(TryRecvError::Empty) => match idle.next() {
                Some(piece) => piece(),
                None => break,
            },
            Err(TryRecvError::Disconnected) => return done,
        }
    }
    for job in jobs {
        job();
    }
    done
}

/// Joins a scoped thread, passing its panic on.
pub(crate) fn join<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::time::Duration;

    /// Nothing lent, no thread; jobs lent run on one other thread, in order, before the rest
    /// of its body, which sees them all done.
    #[test]
    fn the_thread_starts_at_the_first_job_and_runs_them_all_first() {
        let caller = std::thread::current().id();
        std::thread::scope(|scope| {
            let idle = Early::new(scope, |_jobs| 0);
            assert!(idle.finish().is_none());
            let (send, ran) = std::sync::mpsc::channel();
            let early = Early::new(scope, |jobs: Receiver<Job>| {
                let mut count = 0;
                for job in jobs {
                    job();
                    count += 1;
                }
                (std::thread::current().id(), count)
            });
            for n in 0..3 {
                let send = send.clone();
                let job: Job =
                    Box::new(move || send.send((n, std::thread::current().id())).unwrap());
                assert!(early.lend(job).is_ok());
            }
            let answer = early.finish().expect("a job was lent");
            let (thread, count) = answer.wait();
            assert!(thread != caller);
            assert_eq!(count, 3);
            drop(send);
            let order: Vec<_> = ran.iter().collect();
            assert_eq!(order, [(0, thread), (1, thread), (2, thread)]);
        });
    }

    /// A set too small for threads starts none; a large one starts the thread before any
    /// job, with one that does nothing.
    #[test]
    fn a_large_set_expected_starts_the_thread_at_once() {
        std::thread::scope(|scope| {
            let count_jobs = |jobs: Receiver<Job>| jobs.into_iter().map(|job| job()).count();
            let small = Early::new(scope, count_jobs);
            small.expect(PARALLEL_MIN_CHANGES - 1);
            assert!(small.finish().is_none());
            let large = Early::new(scope, count_jobs);
            large.expect(PARALLEL_MIN_CHANGES);
            assert_eq!(large.finish().map(Answer::wait), Some(1));
            let told_twice = Early::new(scope, count_jobs);
            told_twice.expect(PARALLEL_MIN_CHANGES + 1);
            told_twice.expect(PARALLEL_MIN_CHANGES + 1);
            assert_eq!(told_twice.finish().map(Answer::wait), Some(1));
        });
    }

    /// The answer is taken while the thread's buffers are still being freed: a thread-local
    /// whose drop waits to hear that the answer arrived hears it (a join would wait for the
    /// drop, which would then give up waiting).
    #[test]
    fn the_answer_comes_before_the_thread_ends() {
        struct Ending(Option<Receiver<()>>, Sender<bool>);
        impl Drop for Ending {
            fn drop(&mut self) {
                let heard = (self.0.take()).map(|told| told.recv_timeout(Duration::from_secs(5)));
                let _ = self.1.send(matches!(heard, Some(Ok(()))));
            }
        }
        thread_local! {
            static ENDING: RefCell<Option<Ending>> = const { RefCell::new(None) };
        }
        let (tell, told) = std::sync::mpsc::channel();
        let (noted, heard) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            let early = Early::new(scope, move |jobs: Receiver<Job>| {
                ENDING.set(Some(Ending(Some(told), noted)));
                jobs.into_iter().map(|job| job()).count()
            });
            early.expect(PARALLEL_MIN_CHANGES);
            assert_eq!(early.finish().map(Answer::wait), Some(1));
            tell.send(()).unwrap();
        });
        assert_eq!(heard.recv().ok(), Some(true));
    }

    /// A body that panics passes its panic to the caller that waits for its answer.
    #[test]
    fn a_panic_in_the_body_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            std::thread::scope(|scope| {
                let early = Early::new(scope, |_jobs: Receiver<Job>| -> usize {
                    panic!("the body failed")
                });
                early.expect(PARALLEL_MIN_CHANGES);
                early.finish().map(Answer::wait)
            })
        });
        let payload = caught.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"the body failed"));
    }

    /// Jobs already waiting run before the work done meanwhile; jobs that come after it run
    /// after it, and its answer comes back.
    #[test]
    fn jobs_waiting_run_first_and_the_work_meanwhile_once() {
        let (send, jobs) = std::sync::mpsc::channel::<Job>();
        let (note, order) = std::sync::mpsc::channel();
        let noted = |name: &'static str| -> Job {
            let note = note.clone();
            Box::new(move || note.send(name).unwrap())
        };
        send.send(noted("waiting")).unwrap();
        let later = send.clone();
        let after = noted("after");
        drop(send);
        let nothing_idle: [fn(); 0] = [];
        let answer = run_jobs_then(
            jobs,
            || {
                note.send("meanwhile").unwrap();
                later.send(after).unwrap();
                drop(later);
                42
            },
            nothing_idle,
        );
        assert_eq!(answer, 42);
        drop(note);
        assert_eq!(
            order.iter().collect::<Vec<_>>(),
            ["waiting", "meanwhile", "after"]
        );
    }

    /// The idle pieces run after the work meanwhile, one each time no job waits: a job lent
    /// by a piece runs before the next piece, and the pieces left when no job can come any
    /// more do not run.
    #[test]
    fn idle_pieces_run_only_while_no_job_waits() {
        let (send, jobs) = std::sync::mpsc::channel::<Job>();
        let (note, order) = std::sync::mpsc::channel();
        let noted = |name: &'static str| -> Job {
            let note = note.clone();
            Box::new(move || note.send(name).unwrap())
        };
        let lender = RefCell::new(Some(send));
        let lend = |job: Job| (lender.borrow().as_ref()).map(|send| send.send(job).unwrap());
        let piece = |name: &'static str, job: Option<Job>, last: bool| {
            let (note, lend, lender) = (note.clone(), &lend, &lender);
            move || {
                note.send(name).unwrap();
                job.map(lend);
                if last {
                    lender.borrow_mut().take();
                }
            }
        };
        let pieces = [
            piece("idle 1", Some(noted("job 1")), false),
            piece("idle 2", Some(noted("job 2")), true),
            piece("idle 3", None, false),
        ];
        let answer = run_jobs_then(jobs, || note.send("meanwhile").map(|()| 7), pieces);
        assert_eq!(answer.ok(), Some(7));
        drop(note);
        assert_eq!(
            order.iter().collect::<Vec<_>>(),
            ["meanwhile", "idle 1", "job 1", "idle 2", "job 2"]
        );
    }
}

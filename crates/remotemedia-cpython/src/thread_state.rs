//! Engine threads inside CPython: a lasting thread state for each thread that calls Python nodes,
//! and the guard that keeps them all out of the interpreter once it starts shutting down.
//!
//! Attaching from a thread the interpreter has never seen creates a thread state, and detaching
//! destroys it again: on a tokio worker that calls a node per item, that costs more than the call
//! (measured: about 21 µs per item instead of 1.6 µs). Giving the thread a thread state once, and
//! keeping it, makes every later attach just a GIL acquisition.
//!
//! Those thread states belong to threads the interpreter does not know about, so its finalization
//! frees them while the threads live on; a thread that attached afterwards (to clean up a node
//! dropped late, say) would use freed memory or be stopped mid-call by the interpreter. Inside a
//! Python process (the extension), [`install_exit_guard`] registers an `atexit` hook that runs
//! before finalization: it closes the door ([`attach`] refuses from then on) and waits, without
//! the GIL, until every engine thread inside the interpreter has left.
//!
//! This module and `buffers` are the only ones with `unsafe` code.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyCFunction;

thread_local! {
    static KEPT: Cell<bool> = const { Cell::new(false) };
}

/// Set once the interpreter has begun to shut down: no engine thread enters it again.
static CLOSING: AtomicBool = AtomicBool::new(false);
/// Engine threads inside [`attach`] right now.
static INSIDE: AtomicUsize = AtomicUsize::new(0);

/// How long the exit hook waits for engine threads to leave the interpreter (a node call still
/// running at exit); after that the interpreter shuts down regardless.
const EXIT_WAIT: Duration = Duration::from_secs(5);

/// Counts a thread as inside from `enter` until dropped.
struct Inside;

impl Inside {
    fn enter() -> Option<Self> {
        // Count first, then look at the door: the exit hook closes the door first, then waits for
        // the count, so either it sees this thread or this thread sees the closed door.
        INSIDE.fetch_add(1, Ordering::SeqCst);
        let inside = Inside;
        (!CLOSING.load(Ordering::SeqCst)).then_some(inside)
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        INSIDE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `f` attached to the interpreter, from an engine thread; `None` once the interpreter is
/// shutting down (nothing runs then).
pub fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    let _inside = Inside::enter()?;
    Some(Python::attach(f))
}

/// [`attach`] for a thread that calls Python again and again (a node's calls): the thread keeps
/// its thread state between calls.
pub fn attach_kept<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    let _inside = Inside::enter()?;
    keep();
    Some(Python::attach(f))
}

/// Registers the `atexit` hook that keeps engine threads out of the interpreter from the start of
/// its shutdown (see the module docs). Call it once, from the extension module's initialisation.
pub fn install_exit_guard(py: Python<'_>) -> PyResult<()> {
    let hook = PyCFunction::new_closure(
        py,
        Some(c"remotemedia_exit_guard"),
        Some(c"Keeps the remotemedia engine's threads out of the interpreter from now on."),
        |args, _kwargs| {
            close_and_wait(args.py(), EXIT_WAIT);
        },
    )?;
    py.import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}

/// Closes the door and waits (without the GIL, so threads inside can finish) until no engine
/// thread is inside, or `limit` has passed. Returns whether they all left.
fn close_and_wait(py: Python<'_>, limit: Duration) -> bool {
    CLOSING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let started = Instant::now();
        while INSIDE.load(Ordering::SeqCst) > 0 {
            if started.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    })
}

/// Gives the calling thread a thread state that outlives each attach. Call it while not attached;
/// the interpreter must be initialized.
fn keep() {
    KEPT.with(|kept| {
        if kept.get() {
            return;
        }
        kept.set(true);
        // SAFETY: the interpreter is initialized (nodes exist only after a host loaded them). A
        // thread without a thread state cannot hold the GIL, so taking it here is sound and
        // releasing it right after hands nothing away that someone else relies on. The first
        // `PyGILState_Ensure` creates the thread state; never calling the matching
        // `PyGILState_Release` keeps it, so later attaches from this thread reuse it. Threads
        // that already have one (the interpreter's own, or one kept before) are left alone. The
        // exit guard keeps the thread from using the state after finalization frees it.
        unsafe {
            if ffi::PyGILState_GetThisThreadState().is_null() {
                let _ = ffi::PyGILState_Ensure();
                let _ = ffi::PyEval_SaveThread();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test owns the process-wide door (tests in this binary run in parallel threads).
    #[test]
    fn kept_thread_states_are_reused_and_the_exit_guard_closes_the_door() {
        Python::initialize();
        // A fresh thread: no thread state until it attaches; after `attach` it keeps one.
        let kept = std::thread::spawn(|| {
            // SAFETY: reading this thread's state pointer has no preconditions.
            let before = unsafe { ffi::PyGILState_GetThisThreadState() }.is_null();
            let sum = attach_kept(|py| py.eval(c"20 + 22", None, None).and_then(|v| v.extract::<i64>()));
            // SAFETY: as above.
            let first = unsafe { ffi::PyGILState_GetThisThreadState() } as usize;
            attach_kept(|_| ());
            // SAFETY: as above.
            let second = unsafe { ffi::PyGILState_GetThisThreadState() } as usize;
            (before, sum.and_then(Result::ok), first, second)
        })
        .join()
        .expect("thread");
        assert!(kept.0, "a new thread has no thread state");
        assert_eq!(kept.1, Some(42));
        assert_ne!(kept.2, 0, "the thread state outlives the attach");
        assert_eq!(kept.2, kept.3, "and is reused by the next one");

        // A thread inside the interpreter holds the exit hook until it leaves.
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let busy = std::thread::spawn(move || {
            attach(|py| {
                entered_tx.send(()).expect("send");
                py.detach(|| std::thread::sleep(Duration::from_millis(200)));
            })
        });
        entered_rx.recv().expect("entered");
        let started = Instant::now();
        let all_left = Python::attach(|py| close_and_wait(py, Duration::from_secs(10)));
        assert!(all_left);
        assert!(started.elapsed() >= Duration::from_millis(100), "did not wait");
        assert_eq!(busy.join().expect("thread"), Some(()));
        assert!(CLOSING.load(Ordering::SeqCst));
        // From now on nothing enters.
        let refused = std::thread::spawn(|| attach(|_| 1)).join().expect("thread");
        assert_eq!(refused, None);
    }
}

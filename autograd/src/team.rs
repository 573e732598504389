//! A team of helper threads that wait for work by spinning, for the parallel passes of a
//! training step: [`join`] and [`for_each_split`].
//!
//! A training step alternates parallel passes (the matrix products, long sums, the optimizer's
//! update) with short serial ones (bias, activation, softmax). A thread pool whose threads
//! sleep between passes must wake them for each one, and on a virtual machine an idle vCPU
//! takes tens to hundreds of microseconds to get back (the hypervisor has descheduled it).
//! Measured on 2 vCPUs (Intel Xeon, KVM) for the mnist800 step's two large products, split in
//! two: 0.78 and 0.68 ms through rayon's `join`, 0.67 and 0.60 ms through a helper that spun.
//! OpenMP runtimes spin for the same reason (`OMP_WAIT_POLICY`, `KMP_BLOCKTIME`).
//!
//! So the team's helpers (one fewer than the machine has cores) spin for a while after each
//! job ([`SPIN`]), yielding the core to any other runnable thread as they do, and only then
//! park. [`join`] runs its second closure on an idle helper while the caller runs the first;
//! when no helper is idle (all busy, or a nested call) it runs both on the caller. Either way
//! each closure computes the same thing, so results never depend on who ran what.
//!
//! A helper runs a job with the caller's floating-point control register (MXCSR), so
//! [`FlushSubnormals`](crate::FlushSubnormals) reaches the team's work as it reaches the
//! caller's.

use std::cell::UnsafeCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::OnceLock;
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long a helper keeps looking for work after its last job before it parks.
pub const SPIN: Duration = Duration::from_millis(2);
/// How long a helper spins on the CPU before it starts yielding it between looks.
const HOT_SPIN: Duration = Duration::from_micros(50);

/// A helper's state: waiting for work (spinning or parked) ...
const IDLE: u8 = 0;
/// ... claimed by a caller that is writing the job ...
const CLAIMED: u8 = 1;
/// ... the job is posted (and, until `DONE`, being run) ...
const POSTED: u8 = 2;
/// ... and it is done (the caller reads the result and sets the state back to idle).
const DONE: u8 = 3;

/// One helper thread and its mailbox.
struct Helper {
    state: AtomicU8,
    /// Set by the helper before it parks, so that a caller knows to unpark it.
    parked: AtomicBool,
    /// The posted job; written by the claiming caller, read by the helper after `POSTED`.
    job: UnsafeCell<Option<JobRef>>,
    thread: OnceLock<Thread>,
}

// SAFETY: `job` is written only by the one caller that won the `IDLE -> CLAIMED` exchange and
// read only by the helper after it sees `POSTED` (release/acquire), so the cell is never
// accessed from two threads at once.
unsafe impl Sync for Helper {}

/// A type-erased pointer to a job on a caller's stack, and the function that runs it.
#[derive(Clone, Copy)]
struct JobRef {
    data: *const (),
    run: unsafe fn(*const ()),
    /// The caller's MXCSR (0 off x86-64).
    control: u32,
}

// SAFETY: the pointee is a `StackJob` whose closure and result are `Send`; the caller keeps it
// alive until the helper has finished with it (it waits for `DONE`).
unsafe impl Send for JobRef {}

/// A closure and the place for its result, on the stack of the caller of [`join`].
struct StackJob<F, R> {
    f: UnsafeCell<Option<F>>,
    result: UnsafeCell<Option<thread::Result<R>>>,
}

impl<F: FnOnce() -> R, R> StackJob<F, R> {
    /// Runs the job's closure, catching a panic, and stores the outcome.
    ///
    /// # Safety
    /// `data` must point to a live `StackJob<F, R>` that nothing else accesses meanwhile.
    unsafe fn run(data: *const ()) {
        let job = &*(data as *const Self);
        let f = (*job.f.get()).take().expect("a job runs once");
        *job.result.get() = Some(panic::catch_unwind(AssertUnwindSafe(f)));
    }
}

/// The helpers, started on first use.
fn helpers() -> &'static [Helper] {
    static TEAM: OnceLock<Box<[Helper]>> = OnceLock::new();
    TEAM.get_or_init(|| {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        (1..cores)
            .map(|_| Helper {
                state: AtomicU8::new(IDLE),
                parked: AtomicBool::new(false),
                job: UnsafeCell::new(None),
                thread: OnceLock::new(),
            })
            .collect()
    })
}

/// Starts helper `i`'s thread if it has none yet; false if the system would not start one.
fn ensure_started(i: usize) -> bool {
    let helper = &helpers()[i];
    if helper.thread.get().is_some() {
        return true;
    }
    static START: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = START.lock().unwrap_or_else(|e| e.into_inner());
    if helper.thread.get().is_some() {
        return true;
    }
    match thread::Builder::new()
        .name(format!("tapegrad-team-{i}"))
        .spawn(move || work(&helpers()[i]))
    {
        Ok(handle) => {
            let _ = helper.thread.set(handle.thread().clone());
            true
        }
        Err(_) => false,
    }
}

/// A helper's life: wait for a job, run it, repeat.
fn work(helper: &Helper) {
    loop {
        let mut since = Instant::now();
        let mut looks = 0u32;
        while helper.state.load(Ordering::Acquire) != POSTED {
            looks = looks.wrapping_add(1);
            if !looks.is_multiple_of(64) {
                std::hint::spin_loop();
                continue;
            }
            let idle = since.elapsed();
            if idle < HOT_SPIN {
                std::hint::spin_loop();
            } else if idle < SPIN {
                thread::yield_now();
            } else {
                helper.parked.store(true, Ordering::SeqCst);
                if helper.state.load(Ordering::SeqCst) != POSTED {
                    thread::park_timeout(Duration::from_secs(1));
                }
                helper.parked.store(false, Ordering::SeqCst);
                since = Instant::now();
            }
        }
        // SAFETY: the caller that posted the job wrote it before `POSTED` (release, read
        // above with acquire) and keeps it alive until it sees `DONE`.
        let job = unsafe { (*helper.job.get()).take() }.expect("a posted job");
        let before = control::read();
        control::write(job.control);
        // SAFETY: as above; `run` is the `StackJob::run` of the job's own type.
        unsafe { (job.run)(job.data) };
        control::write(before);
        helper.state.store(DONE, Ordering::Release);
    }
}

/// Claims an idle helper, starting its thread if needed.
fn claim() -> Option<usize> {
    helpers().iter().enumerate().find_map(|(i, h)| {
        let won = h
            .state
            .compare_exchange(IDLE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        match won {
            true if ensure_started(i) => Some(i),
            true => {
                h.state.store(IDLE, Ordering::Release);
                None
            }
            false => None,
        }
    })
}

/// Runs `a` on this thread and `b` on an idle helper of the team at the same time, or both
/// here (`a` first) when no helper is idle; returns both results. A panic in either closure
/// is resumed here once both have finished.
///
/// ```
/// let (a, b) = tapegrad_autograd::team::join(|| (1..=10).sum::<u32>(), || 6 * 7);
/// assert_eq!((a, b), (55, 42));
/// ```
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let Some(i) = claim() else {
        return (a(), b());
    };
    let helper = &helpers()[i];
    let job = StackJob {
        f: UnsafeCell::new(Some(b)),
        result: UnsafeCell::new(None),
    };
    // SAFETY: this caller won the claim, so it alone writes the mailbox until it posts.
    unsafe {
        *helper.job.get() = Some(JobRef {
            data: &job as *const StackJob<B, RB> as *const (),
            run: StackJob::<B, RB>::run,
            control: control::read(),
        });
    }
    helper.state.store(POSTED, Ordering::SeqCst);
    if helper.parked.load(Ordering::SeqCst) {
        if let Some(t) = helper.thread.get() {
            t.unpark();
        }
    }
    let ra = panic::catch_unwind(AssertUnwindSafe(a));
    // Wait for `b` whatever happened to `a`: the helper uses `job`, on this stack frame.
    let mut looks = 0u32;
    while helper.state.load(Ordering::Acquire) != DONE {
        looks = looks.wrapping_add(1);
        if looks < 1 << 16 {
            std::hint::spin_loop();
        } else {
            thread::yield_now();
        }
    }
    // SAFETY: `DONE` (acquire) means the helper has stored the result and let go of the job.
    let rb = unsafe { (*job.result.get()).take() }.expect("a finished job has a result");
    helper.state.store(IDLE, Ordering::Release);
    match (ra, rb) {
        (Ok(ra), Ok(rb)) => (ra, rb),
        (Err(p), _) | (_, Err(p)) => panic::resume_unwind(p),
    }
}

/// The number of threads the team can run at once: the caller and its helpers (the
/// machine's cores).
pub fn size() -> usize {
    helpers().len() + 1
}

/// Calls `f` on parts of `slices` cut at the same places, in parallel on the team: the slices
/// (all of one length) are halved while a part is longer than `grain` and `threads` allows
/// more than one thread. For elementwise passes, whose results do not depend on the cut.
///
/// ```
/// let (mut w, g) = (vec![1.0f32; 100_000], vec![0.5f32; 100_000]);
/// tapegrad_autograd::team::for_each_split([&mut w[..]], [&g[..]], 4096, 2, &|[w], [g]| {
///     for (w, g) in w.iter_mut().zip(g.iter()) {
///         *w -= g;
///     }
/// });
/// assert!(w.iter().all(|&w| w == 0.5));
/// ```
///
/// # Panics
/// If the slices' lengths differ.
pub fn for_each_split<T, const M: usize, const K: usize>(
    slices: [&mut [T]; M],
    shared: [&[T]; K],
    grain: usize,
    threads: usize,
    f: &(impl Fn([&mut [T]; M], [&[T]; K]) + Sync),
) where
    T: Send + Sync,
{
    let len = slices
        .first()
        .map(|s| s.len())
        .or(shared.first().map(|s| s.len()))
        .unwrap_or(0);
    assert!(
        slices.iter().all(|s| s.len() == len) && shared.iter().all(|s| s.len() == len),
        "team::for_each_split: slices of different lengths"
    );
    if threads < 2 || len <= grain.max(1) {
        return f(slices, shared);
    }
    let mid = len / 2;
    let mut parts = slices.map(|s| {
        let (l, r) = s.split_at_mut(mid);
        (Some(l), Some(r))
    });
    let left: [&mut [T]; M] = std::array::from_fn(|k| parts[k].0.take().expect("split once"));
    let right: [&mut [T]; M] = std::array::from_fn(|k| parts[k].1.take().expect("split once"));
    let (shared_left, shared_right) = (shared.map(|s| &s[..mid]), shared.map(|s| &s[mid..]));
    let half = threads / 2;
    join(
        || for_each_split(left, shared_left, grain, threads - half, f),
        || for_each_split(right, shared_right, grain, half, f),
    );
}

/// The floating-point control register a job carries from its caller to its helper.
mod control {
    /// The calling thread's control register (MXCSR on x86-64; 0 elsewhere).
    pub(super) fn read() -> u32 {
        #[cfg(target_arch = "x86_64")]
        return crate::subnormals::mxcsr::read();
        #[cfg(not(target_arch = "x86_64"))]
        0
    }

    /// Sets the calling thread's control register to a value [`read`] returned.
    pub(super) fn write(value: u32) {
        #[cfg(target_arch = "x86_64")]
        crate::subnormals::mxcsr::write(value);
        #[cfg(not(target_arch = "x86_64"))]
        let _ = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_returns_both_results_and_runs_nested_joins_without_deadlock() {
        let (a, (b, c)) = join(|| 1, || join(|| 2, || 3));
        assert_eq!((a, b, c), (1, 2, 3));
        for i in 0..1000u64 {
            let (x, y) = join(|| i * 2, || i * 3);
            assert_eq!(x + y, i * 5);
        }
    }

    #[test]
    fn join_resumes_a_panic_of_the_helper_side_after_both_finished() {
        let caught = panic::catch_unwind(|| join(|| 1, || -> u32 { panic!("helper side") }));
        let message = caught.expect_err("the panic reaches the caller");
        assert_eq!(message.downcast_ref::<&str>(), Some(&"helper side"));
        // The team still works afterwards.
        assert_eq!(join(|| 4, || 5), (4, 5));
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn a_helper_runs_a_job_with_the_callers_subnormal_flushing() {
        let tiny = std::hint::black_box(1e-30f32);
        // Several joins, so that whichever side a helper takes, it takes it in both modes.
        for _ in 0..50 {
            let flushed = {
                let _flush = crate::FlushSubnormals::new();
                join(|| tiny * 1e-10, || tiny * 1e-10)
            };
            assert_eq!(flushed, (0.0, 0.0));
            assert_eq!(join(|| tiny * 1e-10, || tiny * 1e-10), (1e-40, 1e-40));
        }
    }

    #[test]
    fn join_from_many_threads_at_once_computes_every_result() {
        let handles: Vec<_> = (0..8u64)
            .map(|t| {
                thread::spawn(move || {
                    (0..200u64)
                        .map(|i| {
                            let (a, b) = join(|| t + i, || t * i);
                            a + b
                        })
                        .sum::<u64>()
                })
            })
            .collect();
        for (t, h) in handles.into_iter().enumerate() {
            let t = t as u64;
            let expected: u64 = (0..200u64).map(|i| t + i + t * i).sum();
            assert_eq!(h.join().unwrap(), expected);
        }
    }

    #[test]
    fn for_each_split_covers_every_element_once_whatever_the_grain_and_threads() {
        for (len, grain, threads) in [(0, 1, 2), (1, 1, 2), (10_001, 7, 2), (999, 100, 3)] {
            let mut w: Vec<u32> = vec![0; len];
            let mut v: Vec<u32> = vec![0; len];
            let g: Vec<u32> = (0..len as u32).collect();
            for_each_split(
                [&mut w[..], &mut v[..]],
                [&g[..]],
                grain,
                threads,
                &|[w, v], [g]| {
                    for ((w, v), g) in w.iter_mut().zip(v.iter_mut()).zip(g.iter()) {
                        *w += g + 1;
                        *v += 1;
                    }
                },
            );
            assert!(w.iter().zip(&g).all(|(w, g)| *w == g + 1), "{len} {grain}");
            assert!(v.iter().all(|&v| v == 1));
        }
    }
}

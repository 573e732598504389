//! A counting global allocator: how many heap bytes the current thread holds now, and the
//! most it has held since the last [`start`].
//!
//! Counted per thread (the readers are single-threaded), so tests running side by side do not
//! see each other's allocations. Only counts if a binary installs it:
//! `#[global_allocator] static METER: Meter = Meter;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Bytes allocated minus bytes freed by this thread (negative if it frees what another
    /// thread allocated).
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    /// The largest `CURRENT` since the last [`start`].
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// The system allocator, counting what the current thread holds.
pub struct Meter;

fn add(delta: isize) {
    // `try_with`: during thread teardown the slots may be gone; skip counting then.
    let _ = CURRENT.try_with(|current| {
        let now = current.get() + delta;
        current.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// adds bookkeeping in thread-local `Cell`s with const initialisers, which never allocate.
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        add(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // While a block moves, old and new are both held: count the new one first.
        add(new_size as isize);
        let p = System.realloc(ptr, layout, new_size);
        if p.is_null() {
            add(-(new_size as isize));
        } else {
            add(-(layout.size() as isize));
        }
        p
    }
}

/// Starts a measurement: the peak is reset to what the thread holds now, which is returned
/// as the baseline for [`peak_since`].
pub fn start() -> isize {
    let now = CURRENT.with(Cell::get);
    PEAK.with(|peak| peak.set(now));
    now
}

/// The most bytes held above `baseline` since [`start`] returned it.
pub fn peak_since(baseline: isize) -> usize {
    PEAK.with(Cell::get).saturating_sub(baseline).max(0) as usize
}

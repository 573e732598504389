//! The packing buffers: one pair per thread, kept for the thread's life and grown only when a
//! product needs more, so a training loop's steady state allocates nothing.

use std::cell::RefCell;

use crate::Element;

/// A cache line, so that packed panels start 64-byte aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// Lines enough for `len` elements of `T`.
fn lines<T>(len: usize) -> usize {
    (len * std::mem::size_of::<T>()).div_ceil(64)
}

thread_local! {
    /// This thread's buffers for packed A and packed B.
    static BUFFERS: RefCell<(Vec<Line>, Vec<Line>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Calls `f` with room for `a_len` and `b_len` elements of `T` (contents unspecified), from
/// this thread's buffers when they are free (they are not if `f` itself multiplies).
pub(crate) fn with<T: Element, R>(
    a_len: usize,
    b_len: usize,
    f: impl FnOnce(*mut T, *mut T) -> R,
) -> R {
    let run =
        |bufs: &mut (Vec<Line>, Vec<Line>)| f(room(&mut bufs.0, a_len), room(&mut bufs.1, b_len));
    BUFFERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut bufs) => run(&mut bufs),
        Err(_) => run(&mut (Vec::new(), Vec::new())),
    })
}

thread_local! {
    /// This thread's buffer for a partial product ([`with_partial`]).
    static PARTIAL: RefCell<Vec<Line>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with room for `len` elements of `T` (contents unspecified), from this thread's
/// partial-product buffer when it is free.
pub(crate) fn with_partial<T: Element, R>(len: usize, f: impl FnOnce(*mut T) -> R) -> R {
    let run = |buf: &mut Vec<Line>| f(room(buf, len));
    PARTIAL.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => run(&mut buf),
        Err(_) => run(&mut Vec::new()),
    })
}

/// `buf` grown (never shrunk) to hold `len` elements of `T`, as a pointer to its first: `T`
/// (f32 or f64) needs at most 8-byte alignment, and the lines are 64-byte aligned.
fn room<T: Element>(buf: &mut Vec<Line>, len: usize) -> *mut T {
    if buf.len() < lines::<T>(len) {
        buf.resize(lines::<T>(len), Line([0; 64]));
    }
    buf.as_mut_ptr().cast()
}

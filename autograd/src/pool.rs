//! Reusable tensor buffers, so that a tape reused across training steps stops allocating.

use ndarray::{ArrayD, IxDyn};

use crate::Element;

/// Buffers freed by [`Tape::clear`](crate::Tape::clear) and by backward, handed out again to
/// later ops of the same size.
///
/// A steady training loop records the same ops with the same shapes every step, so after the
/// first step every request finds a buffer of exactly its size.
#[derive(Debug, Default)]
pub(crate) struct Pool<T> {
    free: Vec<Vec<T>>,
}

impl<T: Element> Pool<T> {
    /// An array of `shape` with unspecified (but initialised) contents: the caller overwrites
    /// every element.
    pub fn dirty(&mut self, shape: &[usize]) -> ArrayD<T> {
        let len = shape.iter().product();
        let mut buf = self.take(len);
        buf.resize(len, T::zero());
        ArrayD::from_shape_vec(IxDyn(shape), buf).expect("buffer length equals the shape's size")
    }

    /// Returns an array's buffer for reuse.
    pub fn give(&mut self, array: ArrayD<T>) {
        let (buf, _) = array.into_raw_vec_and_offset();
        if buf.capacity() > 0 {
            self.free.push(buf);
        }
    }

    /// A buffer of length `len` if one of exactly that length is free, else a buffer with
    /// enough capacity, else a new one. The contents are left as they were.
    fn take(&mut self, len: usize) -> Vec<T> {
        let pick = self
            .free
            .iter()
            .rposition(|b| b.len() == len)
            .or_else(|| self.free.iter().rposition(|b| b.capacity() >= len));
        match pick {
            Some(i) => {
                let mut buf = self.free.swap_remove(i);
                buf.truncate(len);
                buf
            }
            None => Vec::with_capacity(len),
        }
    }
}

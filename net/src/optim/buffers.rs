//! [`ParameterBuffers`]: one state buffer per parameter, created at the first step and never
//! resized afterwards.

use tapegrad_autograd::Element;

use super::OptimError;

/// A named state buffer per parameter (Adam's `m`, a momentum's velocity): zeros for each
/// parameter at its first update, then checked to keep its parameter's length.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterBuffers<T> {
    optimizer: &'static str,
    name: &'static str,
    buffers: Vec<Vec<T>>,
}

impl<T: Element> ParameterBuffers<T> {
    /// No buffers yet, for the optimizer `optimizer`'s state `name` (as errors name them).
    pub fn new(optimizer: &'static str, name: &'static str) -> Self {
        ParameterBuffers {
            optimizer,
            name,
            buffers: Vec::new(),
        }
    }

    /// The buffer of parameter `k`, of length `len`: zeros when parameter `k` is updated for the
    /// first time (the parameters must come in order from 0), an error when the buffer exists
    /// with another length or parameters are skipped.
    pub fn get(&mut self, k: usize, len: usize) -> Result<&mut [T], OptimError> {
        if k == self.buffers.len() {
            self.buffers.push(vec![T::zero(); len]);
        }
        let found = self.buffers.len();
        let Some(buffer) = self.buffers.get_mut(k) else {
            return Err(OptimError::StateCount {
                optimizer: self.optimizer,
                buffer: self.name,
                expected: k,
                found,
            });
        };
        if buffer.len() != len {
            return Err(OptimError::StateLength {
                optimizer: self.optimizer,
                buffer: self.name,
                parameter: k,
                expected: len,
                found: buffer.len(),
            });
        }
        Ok(buffer)
    }

    /// The buffers, one per parameter updated so far.
    pub fn as_vecs(&self) -> &[Vec<T>] {
        &self.buffers
    }

    /// Replaces the buffers with saved ones for parameters of `sizes` elements, saved after
    /// `steps` steps: none before the first step, else exactly one per parameter of its
    /// length.
    pub fn restore(
        &mut self,
        buffers: Vec<Vec<T>>,
        sizes: &[usize],
        steps: u64,
    ) -> Result<(), OptimError> {
        if steps > 0 || !buffers.is_empty() {
            if buffers.len() != sizes.len() {
                return Err(OptimError::StateCount {
                    optimizer: self.optimizer,
                    buffer: self.name,
                    expected: sizes.len(),
                    found: buffers.len(),
                });
            }
            for (parameter, (b, &expected)) in buffers.iter().zip(sizes).enumerate() {
                if b.len() != expected {
                    return Err(OptimError::StateLength {
                        optimizer: self.optimizer,
                        buffer: self.name,
                        parameter,
                        expected,
                        found: b.len(),
                    });
                }
            }
        }
        self.buffers = buffers;
        Ok(())
    }
}

/// Takes the saved buffers of `names` from `state`'s list, checking their count.
pub(super) fn take_saved<T>(
    optimizer: &'static str,
    names: &'static [&'static str],
    saved: Vec<Vec<Vec<T>>>,
) -> Result<std::vec::IntoIter<Vec<Vec<T>>>, OptimError> {
    if saved.len() != names.len() {
        return Err(OptimError::StateCount {
            optimizer,
            buffer: "buffers",
            expected: names.len(),
            found: saved.len(),
        });
    }
    Ok(saved.into_iter())
}

//! The contract between the engine and a `CustomOp`: the buffers it is handed (zeroed, one
//! per input of that input's shape, none for inputs without a gradient), and its errors
//! (variant and full message) returned from recording or backward.

use std::sync::Arc;

use crate::common::{assert_error, FOREIGN};
use ndarray::{array, ArrayD, ArrayViewD, ArrayViewMutD, IxDyn, Zip};
use tapegrad_autograd::{CustomOp, Error, Result, Tape};

/// Custom ops that fail, or check what the engine hands them, in one way each.
enum Faulty {
    /// output_shape refuses its inputs.
    Shape,
    /// forward refuses its inputs.
    Forward,
    /// backward fails.
    Backward,
    /// backward asserts it gets one zeroed buffer of its input's shape per input.
    CheckBuffers,
}

impl CustomOp<f64> for Faulty {
    fn name(&self) -> &str {
        "faulty"
    }
    fn output_shape(&self, inputs: &[ArrayViewD<'_, f64>]) -> Result<IxDyn> {
        match self {
            Faulty::Shape => Err(Error::CustomOp {
                op: "faulty".into(),
                message: format!("needs a matrix, got shape {:?}", inputs[0].shape()),
            }),
            _ => Ok(inputs[0].raw_dim()),
        }
    }
    fn forward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        mut out: ArrayViewMutD<'_, f64>,
    ) -> Result<()> {
        assert!(
            out.iter().all(|&v| v == 0.0),
            "the output buffer is not zeroed"
        );
        match self {
            Faulty::Forward => Err(Error::CustomOp {
                op: "faulty".into(),
                message: "inputs must be positive".into(),
            }),
            _ => {
                out.assign(&inputs[0]);
                Ok(())
            }
        }
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        match self {
            Faulty::Backward => Err(Error::CustomOp {
                op: "faulty".into(),
                message: "no derivative at this point".into(),
            }),
            _ => {
                assert_eq!(grads.len(), inputs.len());
                for (g, x) in grads.iter_mut().zip(inputs) {
                    let g = g.as_mut().expect("every input is a parameter");
                    assert_eq!(g.shape(), x.shape());
                    assert!(
                        g.iter().all(|&v| v == 0.0),
                        "a gradient buffer is not zeroed"
                    );
                    g.assign(grad);
                }
                Ok(())
            }
        }
    }
}

#[test]
fn custom_op_backward_gets_one_zeroed_buffer_of_each_inputs_shape() {
    let tape = Tape::<f64>::new();
    let (a, b) = (
        tape.param(ArrayD::zeros(vec![2, 3])),
        tape.param(ArrayD::zeros(vec![2, 3])),
    );
    let y = tape.custom(Faulty::CheckBuffers, &[a, b]).unwrap();
    let g = y.sum().backward().unwrap();
    assert_eq!(g[a], ArrayD::ones(vec![2, 3]));
    assert_eq!(g[b], ArrayD::ones(vec![2, 3]));
    // The same input twice: both buffers add up in its gradient.
    let y = tape.custom(Faulty::CheckBuffers, &[a, a]).unwrap();
    assert_eq!(
        y.sum().backward().unwrap()[a],
        ArrayD::from_elem(vec![2, 3], 2.0)
    );
}

#[test]
fn custom_op_output_shape_error_is_returned_and_records_nothing() {
    let tape = Tape::<f64>::new();
    let a = tape.param(ArrayD::zeros(vec![6]));
    assert_error(
        tape.custom(Faulty::Shape, &[a]),
        Error::CustomOp {
            op: "faulty".into(),
            message: "needs a matrix, got shape [6]".into(),
        },
        "faulty: needs a matrix, got shape [6]",
    );
    assert_eq!(tape.len(), 1);
}

#[test]
fn custom_op_forward_error_is_returned_and_records_nothing() {
    let tape = Tape::<f64>::new();
    let a = tape.param(ArrayD::zeros(vec![2]));
    assert_error(
        tape.custom(Faulty::Forward, &[a]),
        Error::CustomOp {
            op: "faulty".into(),
            message: "inputs must be positive".into(),
        },
        "faulty: inputs must be positive",
    );
    assert_eq!(tape.len(), 1);
}

#[test]
fn custom_op_backward_error_is_returned_by_backward() {
    let tape = Tape::<f64>::new();
    let a = tape.param(ArrayD::zeros(vec![2]));
    let y = tape.custom(Faulty::Backward, &[a]).unwrap();
    assert_error(
        y.sum().backward(),
        Error::CustomOp {
            op: "faulty".into(),
            message: "no derivative at this point".into(),
        },
        "faulty: no derivative at this point",
    );
}

#[test]
fn variables_of_another_tape_in_a_custom_op_are_foreign() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let a = t1.param(ArrayD::zeros(vec![2]));
    let b = t2.param(ArrayD::zeros(vec![2]));
    assert_error(
        t1.custom(Faulty::CheckBuffers, &[a, b]),
        Error::ForeignVariable { op: "custom op" },
        &format!("custom op: {FOREIGN}"),
    );
}

/// `Σ (a - b)²` that computes only the gradients it is given buffers for, recording which.
struct SquaredDistance {
    asked: Arc<std::sync::Mutex<Vec<bool>>>,
}

impl CustomOp<f64> for SquaredDistance {
    fn name(&self) -> &str {
        "squared_distance"
    }
    fn output_shape(&self, _inputs: &[ArrayViewD<'_, f64>]) -> Result<IxDyn> {
        Ok(IxDyn(&[]))
    }
    fn forward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        mut out: ArrayViewMutD<'_, f64>,
    ) -> Result<()> {
        let d = &inputs[0] - &inputs[1];
        out.fill(d.mapv(|v| v * v).sum());
        Ok(())
    }
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        *self.asked.lock().unwrap() = grads.iter().map(Option::is_some).collect();
        let g = grad.iter().next().copied().unwrap_or(0.0);
        // d/da = 2g(a - b), d/db = -2g(a - b); computed only where a buffer is given.
        for (k, sign) in [(0, 2.0), (1, -2.0)] {
            if let Some(dst) = &mut grads[k] {
                Zip::from(dst)
                    .and(&inputs[0])
                    .and(&inputs[1])
                    .for_each(|d, &a, &b| *d = sign * g * (a - b));
            }
        }
        Ok(())
    }
}

#[test]
fn custom_op_backward_gets_buffers_only_for_inputs_that_need_gradients() {
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tape = Tape::<f64>::new();
    let a = tape.param(array![1.0, 4.0]);
    let target = tape.constant(array![0.0, 1.0]);
    let op = SquaredDistance {
        asked: Arc::clone(&asked),
    };
    let g = a.custom(op, &[target]).unwrap().backward().unwrap();
    // Only `a` needs a gradient: the constant target's share is never computed.
    assert_eq!(*asked.lock().unwrap(), vec![true, false]);
    assert_eq!(g[a], array![2.0, 6.0].into_dyn()); // 2(a - b)
    assert!(g.get(target).is_none());
}

//! How the tape behaves as a whole: which variables get gradients, fan-out, a million-op
//! chain, reuse across steps (clear / recycle, shared leaves) and the DOT export.

use std::sync::Arc;

use ndarray::{array, Array2, ArrayD, ArrayViewD, ArrayViewMutD, Ix2};
use tapegrad_autograd::{CustomOp, Result, Tape, Var};

#[test]
fn constant_operand_of_matmul_gets_no_gradient() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(array![[1.0, 2.0], [3.0, -4.0]]);
    let w = tape.param(array![[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]]);
    let grads = x.matmul(w).unwrap().sum().backward().unwrap();
    assert!(grads.get(x).is_none());
    assert!(!x.requires_grad());
    // dW = Xᵀ · 1: each row of dW is the column sum of X.
    assert_eq!(
        grads[w],
        array![[4.0, 4.0, 4.0], [-2.0, -2.0, -2.0]].into_dyn()
    );
}

#[test]
fn computation_that_depends_on_no_parameter_gives_no_gradients_at_all() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(array![[1.0, 2.0], [3.0, 4.0]]);
    let c = tape.constant(array![[1.0], [-1.0]]);
    let unused = tape.param(array![1.0, 2.0]);
    let loss = x.matmul(c).unwrap().relu().sum();
    assert!(!loss.requires_grad());
    let grads = loss.backward().unwrap();
    for v in [x, c, unused] {
        assert!(grads.get(v).is_none(), "{v:?} got a gradient");
    }
}

#[test]
fn fan_out_accumulates_exactly_for_x_times_x_plus_x() {
    let tape = Tape::<f64>::new();
    let x = tape.param(array![2.0, -3.0, 0.5]);
    let w = tape.constant(array![1.0, 2.0, 0.5]);
    let y = x.mul(x).unwrap().add(x).unwrap(); // dy/dx = 2x + 1
    assert_eq!(y.value(), array![6.0, 6.0, 0.75].into_dyn());
    let grads = y.sum().backward().unwrap();
    assert_eq!(grads[x], array![5.0, -5.0, 2.0].into_dyn());
    // With a non-uniform upstream gradient w: w ⊙ (2x + 1).
    let grads = y.mul(w).unwrap().sum().backward().unwrap();
    assert_eq!(grads[x], array![5.0, -10.0, 1.0].into_dyn());
}

#[test]
fn backward_from_a_parameter_itself_gives_one() {
    let tape = Tape::<f64>::new();
    let x = tape.param(array![[4.0]]);
    assert_eq!(x.backward().unwrap()[x], array![[1.0]].into_dyn());
}

#[test]
fn million_op_chain_backward_does_not_overflow_the_stack_and_is_exact() {
    const BLOCKS: usize = 250_001; // 4 ops each: 1,000,004 ops
    let tape = Tape::<f64>::new();
    let x = tape.param(array![3.0]);
    let mut y = x;
    for _ in 0..BLOCKS {
        // y -> -(0.5 (2y + 1)) = -y - 0.5: every step exact, derivative -1 per block.
        y = y.scale(2.0).add_scalar(1.0).scale(0.5).neg();
    }
    let loss = y.scale(3.0).sum();
    assert_eq!(tape.len(), 1 + 4 * BLOCKS + 2);
    // An odd number of blocks: y = -x - 0.5, loss = 3y.
    assert_eq!(loss.item().unwrap(), 3.0 * (-3.0 - 0.5));
    let grads = loss.backward().unwrap();
    assert_eq!(grads[x], array![-3.0].into_dyn());
}

/// Data of a small two-layer-net step; the input is shared with the tape through an `Arc`.
struct Step {
    x: Arc<Array2<f64>>,
    params: Vec<ArrayD<f64>>,
    labels: Vec<usize>,
}

impl Step {
    fn new() -> Self {
        let wave = |n: usize, f: f64| (0..n).map(move |k| (k as f64 * f).sin());
        let arr = |shape: &[usize], f: f64| {
            ArrayD::from_shape_vec(shape, wave(shape.iter().product(), f).collect()).unwrap()
        };
        Step {
            x: Arc::new(Array2::from_shape_vec((6, 5), wave(30, 0.37).collect()).unwrap()),
            params: vec![
                arr(&[5, 8], 0.91),
                arr(&[8], 1.3),
                arr(&[8, 4], 0.53),
                arr(&[4], 2.1),
            ],
            labels: vec![0, 3, 1, 2, 2, 0],
        }
    }

    /// Records the step on `tape`, returning the loss and every parameter's gradient.
    fn run(&self, tape: &Tape<f64>) -> (f64, Vec<ArrayD<f64>>) {
        let x = tape.constant(Arc::clone(&self.x));
        let p: Vec<_> = self.params.iter().map(|a| tape.param(a.clone())).collect();
        let h = x.matmul(p[0]).unwrap().add(p[1]).unwrap().relu();
        let scores = h.matmul(p[2]).unwrap().add(p[3]).unwrap();
        let loss = scores.cross_entropy(&self.labels).unwrap();
        let grads = loss.backward().unwrap();
        let g: Vec<_> = p.iter().map(|&v| grads[v].clone()).collect();
        // Recycle, then make sure a second backward after recycling still works.
        tape.recycle(grads);
        let again = loss.backward().unwrap();
        for (k, &v) in p.iter().enumerate() {
            assert_eq!(again[v], g[k], "backward after recycle, parameter {k}");
        }
        tape.recycle(again);
        (loss.item().unwrap(), g)
    }
}

fn bits(a: &ArrayD<f64>) -> Vec<u64> {
    a.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn cleared_tape_gives_bit_identical_loss_and_gradients_across_steps() {
    let step = Step::new();
    let (loss0, grads0) = step.run(&Tape::new()); // a fresh tape, for reference
    let mut tape = Tape::new();
    for k in 0..3 {
        let (loss, grads) = step.run(&tape);
        assert_eq!(loss.to_bits(), loss0.to_bits(), "loss of step {k}");
        for (g, g0) in grads.iter().zip(&grads0) {
            assert_eq!(g.shape(), g0.shape());
            assert_eq!(bits(g), bits(g0), "gradients of step {k}");
        }
        tape.clear();
        assert!(tape.is_empty());
    }
}

#[test]
fn arc_shared_leaves_are_not_copied_and_are_released_by_clear() {
    let data = Arc::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let weight = Arc::new(array![[0.5], [-0.5]]);
    let mut tape = Tape::<f64>::new();
    {
        let x = tape.constant(Arc::clone(&data));
        let w = tape.param(Arc::clone(&weight));
        assert_eq!(Arc::strong_count(&data), 2, "the tape holds one reference");
        assert_eq!(Arc::strong_count(&weight), 2);
        // The tape reads the caller's buffer itself.
        assert_eq!(x.with_value(|v| v.as_ptr()), data.as_ptr());
        assert_eq!(w.with_value(|v| v.as_ptr()), weight.as_ptr());
        let grads = x.matmul(w).unwrap().sum().backward().unwrap();
        assert_eq!(grads[w], array![[4.0], [6.0]].into_dyn());
    }
    tape.clear();
    assert_eq!(Arc::strong_count(&data), 1, "clear releases shared leaves");
    assert_eq!(Arc::strong_count(&weight), 1);
    assert_eq!(
        *data,
        array![[1.0, 2.0], [3.0, 4.0]],
        "shared data untouched"
    );
}

#[test]
fn owned_leaves_are_moved_in_not_copied() {
    let tape = Tape::<f32>::new();
    let a = Array2::<f32>::ones((64, 64));
    let ptr = a.as_ptr();
    let x = tape.param(a);
    assert_eq!(x.with_value(|v| v.as_ptr()), ptr);
}

#[test]
fn take_buffer_hands_out_buffers_that_clear_and_give_buffer_returned() {
    let mut tape = Tape::<f32>::new();
    let mut batch = tape.take_buffer(&[2, 3]);
    assert_eq!(batch.shape(), &[2, 3]);
    batch.fill(1.5);
    let ptr = batch.as_ptr();
    assert_eq!(tape.constant(batch).sum().item().unwrap(), 9.0);
    tape.clear(); // the leaf's buffer goes back to the pool...
    let again = tape.take_buffer(&[3, 2]);
    assert_eq!(again.as_ptr(), ptr, "...and is handed out again");
    tape.give_buffer(again);
    assert_eq!(tape.take_buffer(&[6]).as_ptr(), ptr);
}

#[test]
fn gradients_from_before_clear_do_not_answer_for_new_variables() {
    let mut tape = Tape::<f64>::new();
    let grads = {
        let w = tape.param(array![1.0, 2.0]);
        w.square().sum().backward().unwrap()
    };
    tape.clear();
    let fresh = tape.param(array![10.0, 20.0]); // index 0 again
                                                // `fresh` was never part of the recording `grads` came from.
    assert!(
        grads.get(fresh).is_none(),
        "stale gradient {:?}",
        grads.get(fresh)
    );
    assert!(grads.wrt(fresh).is_err());
}

/// `y = 2x`, as a user-defined op.
struct Double;

impl CustomOp<f64> for Double {
    fn name(&self) -> &str {
        "double \"2x\""
    }
    fn forward(
        &self,
        inputs: &[ArrayViewD<'_, f64>],
        mut out: ArrayViewMutD<'_, f64>,
    ) -> Result<()> {
        out.zip_mut_with(&inputs[0], |y, &x| *y = 2.0 * x);
        Ok(())
    }
    fn backward(
        &self,
        _inputs: &[ArrayViewD<'_, f64>],
        _output: &ArrayViewD<'_, f64>,
        grad: &ArrayViewD<'_, f64>,
        grads: &mut [Option<ArrayViewMutD<'_, f64>>],
    ) -> Result<()> {
        if let Some(dx) = &mut grads[0] {
            dx.zip_mut_with(grad, |d, &g| *d = 2.0 * g);
        }
        Ok(())
    }
}

/// Records a small net with every kind of node; returns the tape's DOT text.
fn dot_of_small_net() -> String {
    let tape = Tape::<f64>::new();
    let x = tape.constant_named("X", ArrayD::zeros(vec![2, 3]));
    let w = tape.param_named("W", ArrayD::zeros(vec![3, 4]));
    let b = tape.param(ArrayD::zeros(vec![4]));
    let h: Var<'_, f64> = x.matmul(w).unwrap().add(b).unwrap().relu(); // #3 #4 #5
    let d = tape.custom(Double, &[h]).unwrap(); // #6
    let _loss = d.cross_entropy(&[1, 3]).unwrap(); // #7 log_softmax, #8 pick, #9 mean, #10 neg
    let _const_only = x.exp(); // #11: depends on no parameter
    tape.to_dot()
}

#[test]
fn dot_export_shows_ops_shapes_styles_and_edges() {
    let dot = dot_of_small_net();
    assert!(dot.starts_with("digraph tape {\n"), "{dot}");
    assert!(dot.ends_with("}\n"), "{dot}");
    let nodes = [
        r##"n0 [label="#0 constant X\n[2, 3]", style=filled, fillcolor=lightgrey];"##,
        r##"n1 [label="#1 param W\n[3, 4]", style=filled, fillcolor=orange];"##,
        r##"n2 [label="#2 param\n[4]", style=filled, fillcolor=orange];"##,
        r##"n3 [label="#3 matmul\n[2, 4]", style=bold];"##,
        r##"n4 [label="#4 add\n[2, 4]", style=bold];"##,
        r##"n5 [label="#5 relu\n[2, 4]", style=bold];"##,
        r##"n6 [label="#6 double \"2x\"\n[2, 4]", style=bold];"##,
        r##"n7 [label="#7 log_softmax\n[2, 4]", style=bold];"##,
        r##"n8 [label="#8 pick\n[2]", style=bold];"##,
        r##"n9 [label="#9 mean\n[]", style=bold];"##,
        r##"n10 [label="#10 neg\n[]", style=bold];"##,
        r##"n11 [label="#11 exp\n[2, 3]"];"##, // no gradient flows: not bold
    ];
    for node in nodes {
        assert!(
            dot.contains(&format!("  {node}\n")),
            "missing {node} in\n{dot}"
        );
    }
    let edges = [
        (0, 3),
        (1, 3),
        (3, 4),
        (2, 4),
        (4, 5),
        (5, 6),
        (6, 7),
        (7, 8),
        (8, 9),
        (9, 10),
        (0, 11),
    ];
    for (from, to) in edges {
        let edge = format!("  n{from} -> n{to};\n");
        assert!(dot.contains(&edge), "missing edge {edge} in\n{dot}");
    }
    assert_eq!(
        dot.matches(" -> ").count(),
        edges.len(),
        "no other edges:\n{dot}"
    );
    assert_eq!(
        dot.matches("[label=").count(),
        nodes.len(),
        "no other nodes:\n{dot}"
    );
}

#[test]
fn param_from_a_reference_to_an_arc_shares_the_data_without_copying() {
    let w = Arc::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let x = Arc::new(array![0.5, -0.5]);
    let mut tape = Tape::<f64>::new();
    {
        let wv = tape.param(&w);
        let xv = tape.constant(&x);
        assert_eq!(Arc::strong_count(&w), 2);
        assert_eq!(Arc::strong_count(&x), 2);
        // The tape reads the caller's buffer itself.
        assert_eq!(wv.with_value(|v| v.as_ptr()), w.as_ptr());
        assert_eq!(xv.with_value(|v| v.as_ptr()), x.as_ptr());
        let _again = tape.param(&w); // each recording is one more reference, still no copy
        assert_eq!(Arc::strong_count(&w), 3);
        let g = wv.add(xv).unwrap().sum().backward().unwrap();
        assert_eq!(g[wv], ndarray::Array2::<f64>::ones((2, 2)).into_dyn());
    }
    tape.clear();
    assert_eq!(Arc::strong_count(&w), 1);
    assert_eq!(Arc::strong_count(&x), 1);
}

#[test]
fn updates_through_make_mut_after_clear_do_not_copy() {
    let mut w = Arc::new(Array2::<f64>::ones((3, 2)));
    let data = w.as_ptr();
    let mut tape = Tape::<f64>::new();
    for _ in 0..3 {
        let dw = {
            let wv = tape.param(&w);
            let mut g = wv.square().add_scalar(1.0).sum().backward().unwrap();
            g.take_as::<Ix2>(wv).unwrap()
        };
        tape.clear();
        Arc::make_mut(&mut w).scaled_add(-0.25, &dw); // w -= 0.25 · 2w
        assert_eq!(w.as_ptr(), data, "make_mut copied the parameter");
    }
    assert_eq!(Arc::strong_count(&w), 1);
    assert_eq!(*w, Array2::from_elem((3, 2), 0.125)); // 1 · (1/2)³: the updates landed
}

#[test]
fn make_mut_before_clear_copies_so_the_pointer_check_can_see_a_copy() {
    // The control for the test above: while the tape still shares `w`, make_mut must copy.
    let mut w = Arc::new(Array2::<f64>::zeros((3, 2)));
    let data = w.as_ptr();
    let tape = Tape::<f64>::new();
    let _wv = tape.param(&w);
    Arc::make_mut(&mut w).fill(1.0);
    assert_ne!(w.as_ptr(), data);
    assert_eq!(Arc::strong_count(&w), 1); // w now owns a fresh copy; the tape has the old one
}

/// `with_value` holds a handle to the value, not the tape, so its closure may record ops, run
/// backward and read other values (this was a `RefCell already borrowed` panic).
#[test]
fn recording_and_backward_inside_with_value_work() {
    let tape = Tape::<f64>::new();
    let x = tape.param(array![1.0, 2.0, 3.0]);
    let (y, dx) = x.with_value(|v| {
        let y = x.scale(v[2]).sum(); // recorded while x's value is borrowed
        let g = y.backward().expect("backward inside with_value");
        let nested = y.with_value(|w| w[[]]);
        (nested, g[x].clone())
    });
    assert_eq!(y, 18.0);
    assert_eq!(dx, array![3.0, 3.0, 3.0].into_dyn());
    assert_eq!(tape.len(), 3);
}

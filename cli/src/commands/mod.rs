//! One module per subcommand.

pub mod bench;
pub mod eval;
pub mod gradcheck;
pub mod graph;
pub mod picture;
pub mod predict;
pub mod train;
pub mod trained_on;
pub mod tune;

/// Sets the number of threads of the matrix products and the other parallel passes of a step
/// (the tape's kernel and team), and of ndarray's products
/// (matrixmultiply reads `MATMUL_NUM_THREADS` once, at its first product, so this must run
/// before any).
pub fn set_threads(threads: Option<usize>) {
    if let Some(n) = threads {
        std::env::set_var("MATMUL_NUM_THREADS", n.max(1).to_string());
        tapegrad_autograd::set_threads(n.max(1));
    }
}

# Sourced by run.sh and epoch.sh: sets VENV to the peers' virtual environment, made once from
# requirements.txt (about 6 GB: PyTorch's wheel brings CUDA libraries; only the CPU is used),
# at $TAPEGRAD_PEERS_VENV or target/peers-venv. Expects ROOT and HERE to be set.
VENV="${TAPEGRAD_PEERS_VENV:-$ROOT/target/peers-venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "making the peers' virtual environment in $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
fi
# OpenBLAS tuning variables some machines set slow a current NumPy down; every engine gets the
# same thread count.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" JAX_PLATFORMS=cpu
export TF_CPP_MIN_LOG_LEVEL=3

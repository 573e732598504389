#!/usr/bin/env bash
# Times one SGD training step of tapegrad (`tapegrad bench`) beside NumPy, PyTorch and JAX, in
# turns over several rounds, and prints the table of the README's Performance section: median
# ms per step per shape, GFLOP/s, the ratio tape / best peer in every round, the CPU model, the
# SIMD level the kernel dispatched to and the machine's FMA ceiling, measured just before the
# tape at every shape of every round (the highest of those measurements; with the tape's share
# of it per round).
#
# usage: benches/peers/run.sh [--rounds 3] [--budget 1] [--threads 2]
#                             [--shapes "tiny cifar mnist800 large"] [--isa avx2]
# --isa avx2 measures every engine at AVX2 on an AVX-512 machine, as far as each lets itself be
# limited: tapegrad's kernel (`bench --isa`), OpenBLAS (OPENBLAS_CORETYPE=Haswell), PyTorch
# (ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS, ONEDNN_MAX_CPU_ISA) and XLA's code generation
# (--xla_cpu_max_isa); the FMA ceiling is then fma_peak's 256-bit figure. XLA hands its matrix
# products to YNNPACK, which ignores --xla_cpu_max_isa (perf shows
# ynn::dot_fp32_5x64x1_1x16x1_avx512 under it), so YNNPACK's fusions are turned off: the products
# then go to oneDNN, which keeps to ONEDNN_MAX_CPU_ISA.
# The peers run in a virtual environment made once from requirements.txt (about 6 GB, several
# minutes), at $TAPEGRAD_PEERS_VENV or target/peers-venv. Results: target/peers/*.jsonl.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/benches/peers"
ROUNDS=3 BUDGET=1 THREADS=2 SHAPES="tiny cifar mnist800 large" LIMIT=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --budget) BUDGET="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --shapes) SHAPES="$2"; shift 2 ;;
    --isa) LIMIT="$2"; shift 2 ;;
    *) echo "run.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done

OUT="$ROOT/target/peers"
mkdir -p "$OUT"
# shellcheck source=venv.sh
. "$HERE/venv.sh"
ISA_FLAG=() WIDTH=512
case "$LIMIT" in
  "") ;;
  avx2)
    ISA_FLAG=(--isa avx2) WIDTH=256
    export OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 \
      ONEDNN_MAX_CPU_ISA=AVX2 \
      XLA_FLAGS="--xla_cpu_max_isa=AVX2 --xla_cpu_experimental_ynn_fusion_type=" ;;
  *) echo "run.sh: --isa takes avx2 (or nothing: the widest the CPU has)" >&2; exit 2 ;;
esac
(cd "$ROOT" && cargo build --release -q -p tapegrad-cli)
TAPE="$ROOT/target/release/tapegrad"
cc -O2 -fopenmp "$HERE/fma_peak.c" -o "$OUT/fma_peak" \
  || { echo "run.sh: no C compiler with OpenMP; the FMA ceiling is not measured" >&2; rm -f "$OUT/fma_peak"; }

RESULTS="$OUT/results-$(date +%Y%m%d-%H%M%S).jsonl"
# The FMA ceiling now: the best of one thread and $THREADS (two vCPUs may share one core's FMA
# units), at the widest vector width the run allows. Measured beside the tape at every shape
# of every round: on a shared host one measurement can fall far below the others.
ceiling() {
  [ -x "$OUT/fma_peak" ] || { echo 0; return; }
  { "$OUT/fma_peak" 1; "$OUT/fma_peak" "$THREADS"; } | python3 -c 'import json,sys; print(max(d["f32_gflops"] for d in map(json.loads, sys.stdin) if d["fma_width_bits"] <= int(sys.argv[1])))' "$WIDTH"
}
ENGINES=(tape numpy torch jax)
for r in $(seq 1 "$ROUNDS"); do
  # Rotate the order each round, so that no engine always runs after the same neighbour.
  off=$(( (r - 1) % ${#ENGINES[@]} ))
  order=("${ENGINES[@]:off}" "${ENGINES[@]:0:off}")
  for shape in $SHAPES; do
    for e in "${order[@]}"; do
      echo "round $r/$ROUNDS  $shape  $e" >&2
      if [ "$e" = tape ]; then
        echo '{"kind":"ceiling","round":'"$r"',"shape":"'"$shape"'","gflops":'"$(ceiling)"'}' >> "$RESULTS"
        "$TAPE" bench --json --shape "$shape" --budget "$BUDGET" --threads "$THREADS" "${ISA_FLAG[@]}" \
          | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(json.dumps({"kind":"step","engine":"tape","round":'"$r"',"shape":d["shape"],"ms":d["tape_ms"],"flops":d["flops"],"isa":d["isa"]}))' >> "$RESULTS"
      else
        "$VENV/bin/python" "$HERE/py_peers.py" "$e" "$shape" --budget "$BUDGET" --threads "$THREADS" \
          | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(json.dumps({"kind":"step","engine":"'"$e"'","round":'"$r"',"shape":d["shape"],"ms":d["ms"]}))' >> "$RESULTS"
      fi
    done
  done
done

FMA=$(ceiling)
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ISA=$(grep -m1 '"isa"' "$RESULTS" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["isa"])')
python3 -c 'import json,sys; print(json.dumps({"kind":"machine","cpu":sys.argv[1],"isa":sys.argv[2],"threads":int(sys.argv[3]),"fma_ceiling_gflops":float(sys.argv[4]),"rounds":int(sys.argv[5]),"date":sys.argv[6]}))' \
  "$CPU" "$ISA" "$THREADS" "$FMA" "$ROUNDS" "$(date -u +%Y-%m-%d)" >> "$RESULTS"
echo "results: $RESULTS" >&2
python3 "$HERE/table.py" "$RESULTS"

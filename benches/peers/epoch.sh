#!/usr/bin/env bash
# Times whole training epochs of the h=800 net on MNIST-format data (MNIST or Fashion-MNIST,
# 55,000 training images): `tapegrad train` beside PyTorch eager (torch_epoch.py), in turns
# over several rounds, with SGD momentum and with Adam, batch 128, 2 threads. An epoch is the
# shuffle, the steps and the evaluation on the 5,000 validation images, on both sides.
#
# usage: benches/peers/epoch.sh DIR [--rounds 3] [--epochs 4] [--threads 2]
#   DIR holds train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz, e.g. Debian's
#   dataset-fashion-mnist: /usr/share/datasets/fashion-mnist
# The peers' virtual environment is the one of run.sh (venv.sh). Results: target/peers/epochs-*.jsonl.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/benches/peers"
[ $# -ge 1 ] || { echo "usage: $0 DIR [--rounds 3] [--epochs 4] [--threads 2]" >&2; exit 2; }
DIR="$1"; shift
ROUNDS=3 EPOCHS=4 THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --epochs) EPOCHS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    *) echo "epoch.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ "$EPOCHS" -ge 2 ] || { echo "epoch.sh: --epochs must be at least 2" >&2; exit 2; }

OUT="$ROOT/target/peers"
mkdir -p "$OUT"
# shellcheck source=venv.sh
. "$HERE/venv.sh"
(cd "$ROOT" && cargo build --release -q -p tapegrad-cli)
TAPE="$ROOT/target/release/tapegrad"
RESULTS="$OUT/epochs-$(date +%Y%m%d-%H%M%S).jsonl"
RUN="$OUT/epoch-run"
for r in $(seq 1 "$ROUNDS"); do
  for opt in momentum adam; do
    lr=0.05; [ "$opt" = adam ] && lr=0.001
    echo "round $r/$ROUNDS  $opt  tape" >&2
    # A run of EPOCHS epochs and one of a single epoch: the difference of their wall times is
    # EPOCHS - 1 whole epochs (evaluation, checkpoint and progress included) without the
    # loading and the final test; metrics.csv's seconds are each epoch's shuffle and steps.
    wall=()
    for e in "$EPOCHS" 1; do
      t0=$(date +%s.%N)
      "$TAPE" train --data "mnist:$DIR" --hidden 800 --optimizer "$opt" --lr "$lr" --reg 0 \
        --schedule constant --batch-size 128 --epochs "$e" --threads "$THREADS" -q \
        --out "$RUN-$e" --overwrite > /dev/null
      wall+=("$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$(date +%s.%N)")")
    done
    python3 - "$RUN-$EPOCHS" "$opt" "$r" "$EPOCHS" "${wall[0]}" "${wall[1]}" >> "$RESULTS" <<'PY'
import csv, json, sys
run, opt, r, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
wall_all, wall_one = float(sys.argv[5]), float(sys.argv[6])
steps = [float(row["seconds"]) for row in csv.DictReader(open(f"{run}/metrics.csv"))]
print(json.dumps({"engine": "tape", "optimizer": opt, "round": r,
                  "epoch_s": (wall_all - wall_one) / (epochs - 1),
                  "steps_s": sum(steps) / len(steps)}))
PY
    echo "round $r/$ROUNDS  $opt  torch" >&2
    "$VENV/bin/python" "$HERE/torch_epoch.py" "$DIR" --optimizer "$opt" --epochs "$EPOCHS" \
      --threads "$THREADS" \
      | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); m=lambda k: sum(d[k])/len(d[k]); print(json.dumps({"engine":"torch","optimizer":d["optimizer"],"round":'"$r"',"epoch_s":m("epoch_s"),"steps_s":m("steps_s")}))' >> "$RESULTS"
  done
done
echo "results: $RESULTS" >&2
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
python3 - "$RESULTS" "$CPU" "$THREADS" "$EPOCHS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"CPU: {sys.argv[2]}; threads: {sys.argv[3]}; {sys.argv[4]} epochs per run; h=800, batch 128\n")
print("| optimizer | tapegrad s/epoch (steps only) | PyTorch s/epoch (steps only) | tapegrad / PyTorch, per round |")
print("|---|---|---|---|")
for opt in ("momentum", "adam"):
    tape = {d["round"]: d for d in rows if d["engine"] == "tape" and d["optimizer"] == opt}
    torch = {d["round"]: d for d in rows if d["engine"] == "torch" and d["optimizer"] == opt}
    rounds = sorted(set(tape) & set(torch))
    ratios = " / ".join(f"{tape[r]['epoch_s'] / torch[r]['epoch_s']:.2f}" for r in rounds)
    med = lambda xs: statistics.median(xs)
    print(f"| {opt} | {med([tape[r]['epoch_s'] for r in rounds]):.3f} "
          f"({med([tape[r]['steps_s'] for r in rounds]):.3f}) | "
          f"{med([torch[r]['epoch_s'] for r in rounds]):.3f} "
          f"({med([torch[r]['steps_s'] for r in rounds]):.3f}) | {ratios} |")
PY

#!/usr/bin/env python3
"""Prints the table of a benches/peers/run.sh results file (JSON lines): per shape the median
over rounds of each engine's ms per step, with GFLOP/s and the per-round ratios tape / best peer;
then the tape's share of the FMA ceiling in every round. The ceiling is measured just before
the tape at every shape of every round and taken as the highest of those measurements: another
tenant of a shared host can only slow a measurement down (one of a run's came out at half the
others), so the highest is the closest to what the cores can do, and one measurement at the
end of a run, as before, could fall far below it (154.7 GFLOP/s where the same machine gives
220-235: shares above 100%).

usage: table.py RESULTS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

PEERS = [("numpy", "NumPy f32"), ("torch", "PyTorch"), ("jax", "JAX jit")]


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    meta = next(r for r in rows if r.get("kind") == "machine")
    ms = defaultdict(dict)  # (shape, engine) -> {round: ms}
    ceilings = defaultdict(dict)  # shape -> {round: GFLOP/s measured just before the tape}
    flops = {}
    for r in rows:
        if r.get("kind") == "step":
            ms[(r["shape"], r["engine"])][r["round"]] = r["ms"]
        if r.get("kind") == "ceiling" and r["gflops"]:
            ceilings[r["shape"]][r["round"]] = r["gflops"]
        if "flops" in r:
            flops[r["shape"]] = r["flops"]
    shapes = list(dict.fromkeys(r["shape"] for r in rows if r.get("kind") == "step"))
    every = [g for per_round in ceilings.values() for g in per_round.values()]
    if every and meta["fma_ceiling_gflops"]:
        every.append(meta["fma_ceiling_gflops"])  # run.sh measures once more at the end
    fma = max(every) if every else meta["fma_ceiling_gflops"]
    ceiling = "not measured"
    if every:
        ceiling = (f"{fma:.1f} GFLOP/s (the highest of {len(every)} measurements, "
                   f"median {statistics.median(every):.1f}, lowest {min(every):.1f})")
    elif fma:
        ceiling = f"{fma} GFLOP/s"
    print(f"CPU: {meta['cpu']}; SIMD: {meta['isa']}; threads: {meta['threads']}; "
          f"FMA ceiling (f32): {ceiling}; {meta['rounds']} rounds; {meta['date']}")
    print()
    print("ms per step, median of the rounds (GFLOP/s of the step's matrix products)")
    print()
    head = ["shape", "tape"] + [name for _, name in PEERS] + ["tape / best peer, per round"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for s in shapes:
        cells = [s]
        for engine in ["tape"] + [p for p, _ in PEERS]:
            v = ms[(s, engine)]
            if not v:
                cells.append("failed")
                continue
            med = statistics.median(v.values())
            cell = f"{med:.4g}"
            if s in flops:
                cell += f" ({flops[s] / med / 1e6:.0f})"
            cells.append(cell)
        ratios = []
        for rnd in sorted(ms[(s, "tape")]):
            best = [ms[(s, p)][rnd] for p, _ in PEERS if rnd in ms[(s, p)]]
            if best:
                ratios.append(f"{ms[(s, 'tape')][rnd] / min(best):.2f}")
        cells.append(" / ".join(ratios) or "-")
        print("| " + " | ".join(cells) + " |")
    if not fma:
        return
    print()
    if every:
        print(f"The tape's GFLOP/s as a share of the FMA ceiling ({fma:.1f}: fma_peak.c, best of "
              f"1 and {meta['threads']} threads), per round:")
        for s in shapes:
            if s not in flops or not ms[(s, "tape")]:
                continue
            shares = [f"{100 * flops[s] / t / 1e6 / fma:.0f}%"
                      for _, t in sorted(ms[(s, "tape")].items())]
            print(f"- {s}: " + " / ".join(shares))
        return
    print(f"GFLOP/s against the FMA ceiling of {fma} GFLOP/s (fma_peak.c, best of 1 and "
          f"{meta['threads']} threads): tape at " + ", ".join(
              f"{s} {100 * flops[s] / statistics.median(ms[(s, 'tape')].values()) / 1e6 / fma:.0f}%"
              for s in shapes if s in flops and ms[(s, "tape")]))

if __name__ == "__main__":
    main(sys.argv[1])

#!/usr/bin/env python3
"""The Python peers of tapegrad's training-step benchmark (adapted from the project's shared
peers folder).

Net: z1 = X W1 + b1; a1 = relu(z1); z2 = a1 W2 + b2; p = softmax(z2)
     L = mean_i(-log p[i, y_i]) + lam * (sum W1^2 + sum W2^2)      (lam = 1e-3)
One step = forward with the loss + backward (W1, b1, W2, b2, not X) + SGD (lr = 1e-3), f32.
Data N(0,1), weights 1e-2 N(0,1), biases 0, as `tapegrad bench` (net/src/bench_workload.rs).

usage: py_peers.py <peer> <shape> [--budget S] [--threads T]
peers: numpy (closed form on OpenBLAS), numpy64, torch (eager autograd), jax (jit)
Prints one JSON line: the median seconds per step. One peer per process, so that thread pools
stay apart.
"""
import argparse
import json
import os
import time

LAM = 1e-3
LR = 1e-3

SHAPES = {
    "tiny": (64, 64, 100, 10),
    "cifar": (200, 3072, 100, 10),
    "mnist800": (128, 784, 800, 10),
    "large": (1024, 3072, 1024, 10),
}


def make_data(shape, dtype="float32", seed=0):
    import numpy as np

    n, d, h, c = SHAPES[shape]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = rng.integers(0, c, size=n)
    W1 = (1e-2 * rng.standard_normal((d, h))).astype(dtype)
    b1 = np.zeros(h, dtype)
    W2 = (1e-2 * rng.standard_normal((h, c))).astype(dtype)
    b2 = np.zeros(c, dtype)
    return X, y, [W1, b1, W2, b2]


def peer_numpy(shape, threads, dtype):
    import numpy as np
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    X, y, P = make_data(shape, dtype)
    n = X.shape[0]
    rows = np.arange(n)

    def step():
        W1, b1, W2, b2 = P
        z1 = X @ W1 + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2 + b2
        z2 -= z2.max(axis=1, keepdims=True)
        e = np.exp(z2)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) - z2[rows, y]) + LAM * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dz2 = e / s
        dz2[rows, y] -= 1
        dz2 /= n
        dW2 = a1.T @ dz2 + 2 * LAM * W2
        db2 = dz2.sum(axis=0)
        da1 = dz2 @ W2.T
        dz1 = da1 * (z1 > 0)
        dW1 = X.T @ dz1 + 2 * LAM * W1
        db1 = dz1.sum(axis=0)
        W1 -= LR * dW1
        b1 -= LR * db1
        W2 -= LR * dW2
        b2 -= LR * db2
        return float(loss)

    return step


def peer_torch(shape, threads):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    X, y, P = make_data(shape)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    params = [torch.from_numpy(p).requires_grad_(True) for p in P]

    def step():
        W1, b1, W2, b2 = params
        a1 = torch.relu(X @ W1 + b1)
        z2 = a1 @ W2 + b2
        loss = F.cross_entropy(z2, y) + LAM * (W1.square().sum() + W2.square().sum())
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(LR * p.grad)
                p.grad = None
        return loss.item()

    return step


def peer_jax(shape, threads):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    # XLA's CPU client takes its threads from the machine; pin them like the others.
    os.environ.setdefault(
        "XLA_FLAGS", f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
    )
    import jax
    import jax.numpy as jnp

    X, y, P = make_data(shape)
    X, y = jnp.asarray(X), jnp.asarray(y)

    def loss_fn(params, X, y):
        W1, b1, W2, b2 = params
        a1 = jax.nn.relu(X @ W1 + b1)
        logp = jax.nn.log_softmax(a1 @ W2 + b2, axis=1)
        nll = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
        return nll + LAM * (jnp.sum(W1 * W1) + jnp.sum(W2 * W2))

    @jax.jit
    def train_step(params, X, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, X, y)
        return [p - LR * g for p, g in zip(params, grads)], loss

    state = {"params": [jnp.asarray(p) for p in P]}

    def step():
        new, loss = train_step(state["params"], X, y)
        jax.block_until_ready(new)
        state["params"] = new
        return float(loss)

    return step


PEERS = {
    "numpy": lambda s, t: peer_numpy(s, t, "float32"),
    "numpy64": lambda s, t: peer_numpy(s, t, "float64"),
    "torch": peer_torch,
    "jax": peer_jax,
}


def median(xs):
    xs = sorted(xs)
    k = len(xs)
    return xs[k // 2] if k % 2 else 0.5 * (xs[k // 2 - 1] + xs[k // 2])


def bench(peer, shape, budget, threads):
    step = PEERS[peer](shape, threads)
    # Warm-up as `tapegrad bench`: three steps (JIT compilation happens here) and a fifth of the
    # budget; then timed steps for the budget, at least five.
    t0 = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - t0 < 0.2 * budget:
        step()
        warm += 1
    times = []
    t1 = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - t1 < budget:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print(json.dumps({"peer": peer, "shape": shape, "ms": median(times) * 1e3, "steps": len(times)}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=sorted(PEERS))
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("--budget", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    bench(a.peer, a.shape, a.budget, a.threads)


if __name__ == "__main__":
    main()

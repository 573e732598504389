#!/usr/bin/env python3
"""Seconds per training epoch of the two-layer net in PyTorch eager, for benches/peers/epoch.sh.

The job `tapegrad train` does on MNIST-format data: pixels / 255, the training mean image
subtracted, the first 55,000 training images for training and the last 5,000 for validation;
z1 = X W1 + b1, relu, z2 = a1 W2 + b2, mean cross-entropy; minibatches of 128 in a fresh
random order every epoch; SGD with momentum 0.9 or Adam. An epoch here is what it is for
tapegrad: the shuffle, the steps, and the evaluation of validation loss and accuracy.

usage: torch_epoch.py DIR --optimizer momentum|adam [--epochs 3] [--hidden 800] [--threads 2]
Prints one JSON line: {"engine": "torch", "optimizer": ..., "epoch_s": [...], "steps_s": [...]}
(each epoch's seconds with and without the evaluation).
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--optimizer", choices=["momentum", "adam"], required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=800)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    x = idx(f"{args.dir}/train-images-idx3-ubyte.gz").reshape(60000, -1).astype(np.float32) / 255
    y = idx(f"{args.dir}/train-labels-idx1-ubyte.gz").astype(np.int64)
    x -= x[:55000].mean(axis=0)
    xtr, ytr = torch.from_numpy(x[:55000]), torch.from_numpy(y[:55000])
    xva, yva = torch.from_numpy(x[55000:]), torch.from_numpy(y[55000:])

    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 10)
    )
    if args.optimizer == "momentum":
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    seconds, steps = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 128):
            batch = order[i: i + 128]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xtr[batch]), ytr[batch])
            loss.backward()
            opt.step()
        steps.append(time.perf_counter() - start)
        with torch.no_grad():
            scores = net(xva)
            val_loss = loss_fn(scores, yva).item()
            val_acc = (scores.argmax(1) == yva).float().mean().item()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({
        "engine": "torch", "optimizer": args.optimizer, "epoch_s": seconds, "steps_s": steps,
        "val_loss": val_loss, "val_accuracy": val_acc, "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A small numpy re-implementation of the seed recipe (docs/course.md), written for aqcast's
training benchmark: same data preparation, same 2-2 deep RNN, BPTT, SGD 0.05, batch 64.

Prints one line: `numpy epochs=E windows=N seconds=S windows_per_s=R val_loss=V`.
With --evaluate it then scores the best weights on 2014 by the course's recursive (oracle)
protocol and prints `numpy seed=K r2 p8=... p4=... p2=... p1=...`: an independent check of the
spread of the seed recipe across random seeds.
Usage: seed_numpy.py CSV [EPOCHS] [SEED] [--evaluate]
"""
import csv
import sys
import time

import numpy as np

WIND = {"cv": 0.0, "NE": 3.0, "SE": 6.0, "NW": 9.0, "SW": 12.0}
STEPS = 24


def prepare(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    pm = [None if r["pm2.5"] in ("NA", "") else float(r["pm2.5"]) for r in rows]
    out = np.zeros(len(pm))
    prev_i, prev_v, i = -1, 0.0, 0
    while i < len(pm):
        if pm[i] is not None:
            out[i], prev_i, prev_v = pm[i], i, pm[i]
            i += 1
            continue
        j = i
        while j < len(pm) and pm[j] is None:
            j += 1
        nxt = pm[j] if j < len(pm) else prev_v
        for k in range(i, j):
            out[k] = prev_v + (nxt - prev_v) * (k - prev_i) / (j - prev_i)
        i = j
    wind = np.array([WIND[r["cbwd"]] for r in rows])
    iws = np.array([float(r["Iws"]) for r in rows])
    speed = iws.copy()
    same = wind[1:] == wind[:-1]
    speed[1:][same] = iws[1:][same] - iws[:-1][same]
    x = np.stack([out, [float(r["DEWP"]) for r in rows], [float(r["TEMP"]) for r in rows],
                  [float(r["PRES"]) for r in rows], wind, speed], axis=1).astype(np.float32)
    y = np.append(out[1:], 2 * out[-1] - out[-2]).astype(np.int32).astype(np.float64)
    split = sum(1 for r in rows if int(r["year"]) < 2014)
    lo, hi = x.min(axis=0), x.max(axis=0)
    x = (x - lo) / (hi - lo)
    y = (y - y.min()) / (y.max() - y.min())
    return windows(x[:split], y[:split]), windows(x[split:], y[split:])


def windows(x, y):
    n = len(x) - STEPS
    idx = np.arange(n)[:, None] + np.arange(STEPS)[None, :]
    return x[idx].astype(np.float64), y[idx[:, -1]].reshape(-1, 1)


def forward(X, U, Q, W1, W2, V):
    T = X.shape[1]
    s1, s2 = [], []
    for t in range(T):
        h1 = X[:, t] @ U
        if t > 0:
            h1 = h1 + s1[-1] @ W1
        s1.append(np.tanh(h1))
        h2 = s1[-1] @ Q
        if t > 0:
            h2 = h2 + s2[-1] @ W2
        s2.append(np.tanh(h2))
    return s1, s2, s2[-1] @ V


def backward(X, Y, U, Q, W1, W2, V, s1, s2, a):
    T = X.shape[1]
    dz = a - Y
    dV = s2[-1].T @ dz
    dU, dQ, dW1, dW2 = (np.zeros_like(U), np.zeros_like(Q), np.zeros_like(W1), np.zeros_like(W2))
    dh2 = (dz @ V.T) * (1 - s2[-1] ** 2)
    dh1 = (dh2 @ Q.T) * (1 - s1[-1] ** 2)
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            dh2 = (dh2 @ W2.T) * (1 - s2[t] ** 2)
            dh1 = (dh2 @ Q.T + dh1 @ W1.T) * (1 - s1[t] ** 2)
        dQ += s1[t].T @ dh2
        dU += X[:, t].T @ dh1
        if t > 0:
            dW1 += s1[t - 1].T @ dh1
            dW2 += s2[t - 1].T @ dh2
    return dU, dQ, dW1, dW2, dV


def recursive_r2(XT, YT, params, p):
    """The course's protocol (docs/course.md): blocks of p test windows; the k-th window of a block sees the
    block's first k forecasts in place of its last k PM2.5 inputs."""
    count = len(XT) - len(XT) % p
    A = np.zeros((count, 1))
    for i in range(0, count, p):
        block = XT[i:i + p].copy()
        for k in range(p):
            block[k, STEPS - k:, 0] = A[i:i + k, 0]
            A[i + k, 0] = forward(block[k:k + 1], *params)[2][0, 0]
    return 1 - ((A - YT[:count]) ** 2).mean() / YT[:count].var()


def main():
    args = [a for a in sys.argv[1:] if a != "--evaluate"]
    path = args[0]
    epochs = int(args[1]) if len(args) > 1 else 100
    seed = int(args[2]) if len(args) > 2 else 5
    rng = np.random.default_rng(seed)
    (X, Y), (XT, YT) = prepare(path)
    val = rng.integers(0, len(X), 1000)
    U, Q, W1, W2, V = (rng.normal(size=s) for s in [(6, 2), (2, 2), (2, 2), (2, 2), (2, 1)])
    params = [U, Q, W1, W2, V]
    best, best_params = np.inf, None
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for b in range(0, len(X), 64):
            bi = order[b:b + 64]
            xb, yb = X[bi], Y[bi]
            s1, s2, a = forward(xb, *params)
            grads = backward(xb, yb, *params, s1, s2, a)
            for p, g in zip(params, grads):
                p -= 0.05 * g / len(bi)
        _, _, a = forward(X[val], *params)
        loss = float(((a - Y[val]) ** 2).mean() / 2)
        if loss < best:
            best, best_params = loss, [p.copy() for p in params]
    seconds = time.perf_counter() - start
    print(f"numpy epochs={epochs} windows={len(X)} seconds={seconds:.3f} "
          f"windows_per_s={epochs * len(X) / seconds:.0f} val_loss={best:.6f}", flush=True)
    if "--evaluate" in sys.argv:
        r2 = " ".join(f"p{p}={recursive_r2(XT, YT, best_params, p):.4f}" for p in (8, 4, 2, 1))
        print(f"numpy seed={seed} r2 {r2}")


if __name__ == "__main__":
    main()

"""A two-hidden-layer MLP trained in pure NumPy, with fastact in every layer.

    python examples/mlp_numpy.py --epochs 30

Data: two interleaved spirals (binary classification, 2-D inputs). Network:

    x -> Linear(2, H) -> PReLU (one learned slope per unit, through prelu_grad's grad_weight)
      -> Linear(H, H) -> ReLU
      -> Linear(H, 1) -> loss = mean(-logsigmoid(y * z)),  y in {-1, +1}

Forward passes call fastact's forward functions, backward passes their fused ``_grad`` functions
(``grad_output * f'(x)`` in one pass); the loss is logsigmoid's, so its gradient is
``logsigmoid_grad``. Each epoch prints the loss, the training accuracy and the share of dead ReLU
units (zero for every training sample), from ``fastact.dead_fraction``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import fastact


def two_spirals(n: int = 2000, noise: float = 0.25, seed: int = 0):
    """(X float32 (n, 2), y in {-1, +1} (n,)): two interleaved spirals."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0, 1, n // 2)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    X = np.concatenate([arm, -arm]) + rng.normal(0, noise / (3 * np.pi), (2 * (n // 2), 2))
    y = np.concatenate([np.ones(n // 2), -np.ones(n // 2)])
    perm = rng.permutation(len(y))
    return X[perm].astype(np.float32), y[perm].astype(np.float32)


def init(hidden: int = 64, seed: int = 1, dtype=np.float32) -> dict:
    """He-initialised weights, zero biases, PReLU slopes 0.25 (torch's default)."""
    rng = np.random.default_rng(seed)

    def he(fan_in, fan_out):
        return (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(dtype)

    return {
        "W1": he(2, hidden), "b1": np.zeros(hidden, dtype), "a1": np.full(hidden, 0.25, dtype),
        "W2": he(hidden, hidden), "b2": np.zeros(hidden, dtype),
        "W3": he(hidden, 1), "b3": np.zeros(1, dtype),
    }


def forward(p: dict, X):
    """(per-sample logits, cache for backward)."""
    z1 = X @ p["W1"] + p["b1"]
    h1 = fastact.prelu(z1, p["a1"])        # per-unit slope: the channel axis is axis 1
    z2 = h1 @ p["W2"] + p["b2"]
    h2 = fastact.relu(z2)
    z3 = (h2 @ p["W3"] + p["b3"])[:, 0]
    return z3, (X, z1, h1, z2, h2)


def loss_and_grads(p: dict, X, y):
    """(mean loss, logits, gradient of the mean loss for every parameter, last hidden output)."""
    z3, (X, z1, h1, z2, h2) = forward(p, X)
    m = y * z3
    loss = float(-np.mean(fastact.logsigmoid(m)))
    # d loss / d z3 = -y * logsigmoid'(y z3) / n
    dz3 = -y * fastact.logsigmoid_grad(np.full_like(m, 1.0 / len(y)), m)
    g = {"W3": h2.T @ dz3[:, None], "b3": np.array([dz3.sum()], dz3.dtype)}
    dh2 = dz3[:, None] @ p["W3"].T
    dz2 = fastact.relu_grad(dh2, z2)
    g["W2"], g["b2"] = h1.T @ dz2, dz2.sum(axis=0)
    dh1 = dz2 @ p["W2"].T
    dz1, g["a1"] = fastact.prelu_grad(dh1, z1, p["a1"])
    g["W1"], g["b1"] = X.T @ dz1, dz1.sum(axis=0)
    return loss, z3, g, h2


def train(epochs: int = 30, hidden: int = 64, lr: float = 0.05, batch: int = 128,
          n: int = 2000, seed: int = 0, echo=print) -> list[dict]:
    """Adam on minibatches; returns one dict per epoch (loss, accuracy, dead_fraction)."""
    X, y = two_spirals(n, seed=seed)
    p = init(hidden, seed=seed + 1)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(w) for k, w in p.items()}
    rng = np.random.default_rng(seed + 2)
    b1, b2, eps, step = 0.9, 0.999, 1e-8, 0
    history = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch):
            idx = order[start:start + batch]
            _, _, g, h2 = loss_and_grads(p, X[idx], y[idx])
            step += 1
            for k in p:
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
                mh, vh = m[k] / (1 - b1 ** step), v[k] / (1 - b2 ** step)
                p[k] -= (lr * mh / (np.sqrt(vh) + eps)).astype(p[k].dtype)
        loss, z3, _, _ = loss_and_grads(p, X, y)
        row = {"epoch": epoch, "loss": loss, "accuracy": float(np.mean(np.sign(z3) == y)),
               "dead_fraction": fastact.dead_fraction(h2)}
        history.append(row)
        echo(f"epoch {epoch:3d}  loss {loss:.4f}  accuracy {row['accuracy']:.3f}  "
             f"dead ReLU units {row['dead_fraction']:.3f}")
    return history


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train(args.epochs, args.hidden, args.lr, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train a NumPy MLP whose activation's forward and backward are fastgrad's.

A two-hidden-layer MLP (NumPy matmuls) learns a synthetic classification task: points
drawn from a standard normal, labelled by a fixed random "teacher" network. The hidden
activation runs either through fastgrad (``fg.gelu(h, out=...)`` forward,
``fg.gelu_backward(g, h, out=...)`` backward, writing into the step's buffers) or through
the plain NumPy reference (``fastgrad.reference``), from the same initial weights and the
same batches: the two loss curves lie on top of each other.

python examples/mlp.py [--activation gelu] [--steps 300] [--plot loss.png]
"""

import argparse
import time

import numpy as np

import fastgrad as fg


def make_data(n, n_in=32, n_classes=4, seed=0):
    """(x, labels): standard normal points, labelled by the argmax of a random teacher."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in))
    teacher = rng.standard_normal((n_in, n_classes))
    return x, np.argmax(np.tanh(x @ teacher), axis=1)


class MLP:
    """n_in -> hidden -> hidden -> n_classes, softmax cross-entropy, plain SGD. The
    activation's forward and backward come from ``fastgrad`` or ``fastgrad.reference``."""

    def __init__(self, sizes, activation, impl, seed=1):
        rng = np.random.default_rng(seed)
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.weights = [rng.standard_normal((a, b)) * np.sqrt(2.0 / a) for a, b in pairs]
        self.biases = [np.zeros(b) for b in sizes[1:]]
        module = fg if impl == "fastgrad" else fg.reference
        self.forward_fn = getattr(module, activation)
        self.backward_fn = getattr(module, activation + "_backward")
        self.fastgrad = impl == "fastgrad"

    def _act(self, h):
        if self.fastgrad:
            return self.forward_fn(h, out=np.empty_like(h))
        return self.forward_fn(h)

    def step(self, x, labels, learning_rate):
        """One SGD step on a batch; returns its mean cross-entropy before the update."""
        pre, post = [], [x]
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = post[-1] @ w + b
            pre.append(h)
            post.append(self._act(h))
        logits = post[-1] @ self.weights[-1] + self.biases[-1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        n = x.shape[0]
        loss = -np.mean(np.log(p[np.arange(n), labels]))
        g = p
        g[np.arange(n), labels] -= 1
        g /= n
        for i in range(len(self.weights) - 1, -1, -1):
            grad_w, grad_b = post[i].T @ g, g.sum(axis=0)
            if i:
                g = g @ self.weights[i].T
                if self.fastgrad:
                    self.backward_fn(g, pre[i - 1], out=g)  # in place: g becomes dL/dh
                else:
                    g = self.backward_fn(g, pre[i - 1])
            self.weights[i] -= learning_rate * grad_w
            self.biases[i] -= learning_rate * grad_b
        return loss


def train(activation="gelu", impl="fastgrad", steps=300, batch=128, hidden=64, seed=0):
    """The loss of every step, training from fixed weights on fixed batches."""
    x, labels = make_data(batch * 16, seed=seed)
    model = MLP((x.shape[1], hidden, hidden, int(labels.max()) + 1), activation, impl)
    rng = np.random.default_rng(seed + 1)
    losses = []
    for _ in range(steps):
        chosen = rng.integers(0, x.shape[0], batch)
        losses.append(model.step(x[chosen], labels[chosen], learning_rate=0.1))
    return np.array(losses)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activation", default="gelu")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--plot", help="write the two loss curves to this PNG")
    args = parser.parse_args()
    curves = {}
    for impl in ("fastgrad", "numpy"):
        train(args.activation, impl, steps=2)  # warm-up, untimed: the first calls compile
        start = time.perf_counter()
        curves[impl] = train(args.activation, impl, args.steps)
        seconds = time.perf_counter() - start
        print(f"{impl:8s}: loss {curves[impl][0]:.4f} -> {curves[impl][-1]:.4f} in {seconds:.2f} s")
    gap = np.max(np.abs(curves["fastgrad"] - curves["numpy"]))
    print(f"largest difference between the two loss curves: {gap:.2e}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        for impl, style in (("fastgrad", "-"), ("numpy", "--")):
            ax.plot(curves[impl], style, label=impl)
        ax.set_xlabel("step")
        ax.set_ylabel("cross-entropy")
        ax.set_title(f"MLP with {args.activation}: fastgrad vs the NumPy reference")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)


if __name__ == "__main__":
    main()

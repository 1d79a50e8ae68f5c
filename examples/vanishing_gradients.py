"""Vanishing gradients: how much gradient reaches each layer of a deep MLP.

The activation curves' derivatives (``plots/<name>_grad.png``) say it in one layer:
sigmoid's derivative is at most 1/4 and tanh's at most 1, and in the tails both are close
to 0; relu's is 0 or 1. Chained through 30 layers, that decides whether the first layers
learn. Here a 30-layer MLP (width 128, each activation with its customary initialisation:
weight variance 1/fan_in for sigmoid and tanh, LeCun's; 2/fan_in for relu and gelu, He's,
which makes up for the half of the inputs they zero) runs one batch forward, and the
gradient of the mean of its output is sent back with fastgrad's ``f_backward``; the
figure shows the norm of the gradient arriving at each layer's input, relative to the
last layer's.

python examples/vanishing_gradients.py [--out plots/vanishing_gradients.png]
(``make plots`` draws it)
"""

import argparse

import numpy as np

import fastgrad as fg

ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
# weight variance times fan_in: LeCun's 1 for the saturating ones, He's 2 for relu, gelu
INIT_GAIN = {"sigmoid": 1.0, "tanh": 1.0, "relu": 2.0, "gelu": 2.0}


def gradient_norms(activation, depth=30, width=128, batch=256, seed=0):
    """||dL/d(input of layer l)|| for l = 0 .. depth-1, L the mean of the last output."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(INIT_GAIN[activation] / width)
    weights = [rng.standard_normal((width, width)) * scale for _ in range(depth)]
    forward = getattr(fg, activation)
    backward = getattr(fg, activation + "_backward")
    h = rng.standard_normal((batch, width))
    pre = []
    for w in weights:
        pre.append(h @ w)
        h = forward(pre[-1])
    g = np.full_like(h, 1.0 / h.size)
    norms = np.empty(depth)
    for layer in range(depth - 1, -1, -1):
        g = backward(g, pre[layer]) @ weights[layer].T  # through the activation, then w
        norms[layer] = np.linalg.norm(g)
    return norms


def figure(path, depth=30):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for activation in ACTIVATIONS:
        norms = gradient_norms(activation, depth)
        ax.plot(np.arange(depth), norms / norms[-1], marker="o", ms=3, label=activation)
    ax.set_yscale("log")
    ax.set_xlabel("layer (0 = first)")
    ax.set_ylabel("gradient norm at the layer's input\n/ at the last layer's input")
    ax.set_title(f"Vanishing gradients in a {depth}-layer MLP (width 128)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="plots/vanishing_gradients.png")
    parser.add_argument("--depth", type=int, default=30)
    args = parser.parse_args()
    for activation in ACTIVATIONS:
        norms = gradient_norms(activation, args.depth)
        print(f"{activation:8s}: first layer / last layer = {norms[0] / norms[-1]:.3g}")
    print("wrote", figure(args.out, args.depth))


if __name__ == "__main__":
    main()

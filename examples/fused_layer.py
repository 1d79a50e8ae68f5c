"""A dense layer's activation fused into your own @njit loops, after the matmul.

fastgrad's functions work inside @njit code: on a scalar each call is the activation's
scalar function, inlined into the loop, which LLVM vectorises. Here the bias, gelu and
gelu's derivative take one pass over the layer's pre-activations (forward), and the
input gradient one more (backward), where the NumPy way is ``h = x @ w; h += b;
fg.gelu_fwd_grad(h, out=(y, d))``. Used by ``tests/test_njit.py`` and
``bench/test_njit.py``.

python examples/fused_layer.py
"""

import numpy as np
from numba import njit

import fastgrad as fg


@njit
def dense_gelu_forward(h, b, y, d):
    """y, d = gelu(h + b), gelu'(h + b), row by row (h = x @ w)"""
    for i in range(h.shape[0]):
        hi, yi, di = h[i], y[i], d[i]
        for j in range(hi.size):
            yi[j], di[j] = fg.gelu_fwd_grad(hi[j] + b[j])


@njit
def dense_gelu_backward(g, h, b, out):
    """out = grad_out * gelu'(h + b): the gradient arriving at h"""
    for i in range(h.shape[0]):
        gi, hi, oi = g[i], h[i], out[i]
        for j in range(hi.size):
            oi[j] = fg.gelu_backward(gi[j], hi[j] + b[j])


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 784)).astype(np.float32)
    w = (rng.standard_normal((784, 256)) / np.sqrt(784)).astype(np.float32)
    b = rng.standard_normal(256).astype(np.float32)
    h = x @ w
    y, d = np.empty_like(h), np.empty_like(h)
    dense_gelu_forward(h, b, y, d)
    want_y, want_d = fg.gelu_fwd_grad(h + b)
    print(
        "same bits as fg.gelu_fwd_grad(h + b):",
        np.array_equal(y, want_y),
        np.array_equal(d, want_d),
    )


if __name__ == "__main__":
    main()

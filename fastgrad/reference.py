"""Plain NumPy versions of every activation and derivative.

These are written the way a NumPy user would write them (the seed article's style), made
stable only where the plain form overflows. They are the speed baseline of ``bench/`` and
a readable specification; accuracy is judged against mpmath, not against these (for
example ``sigmoid_grad`` below uses y*(1-y), which cancels to 0 in the tails).

For each activation ``f`` there are ``f(x)``, ``f_grad(x)``, ``f_backward(grad_out, x)``
(= grad_out * f_grad(x)) and ``f_fwd_grad(x)`` (= (f(x), f_grad(x))), as in ``fastgrad``.
"""

import math

import numpy as np

from ._table import TABLE


def relu(x):
    return np.maximum(x, 0)


def relu_grad(x):
    return (x > 0).astype(x.dtype)


def sigmoid(x):
    # exp(-|x|) never overflows; the naive 1/(1+exp(-x)) warns for x < -88 in float32.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)


def softplus(x, beta=1.0, threshold=None):
    # log(1 + exp(z)) overflows for z > 88 (float32); max(z, 0) + log1p(exp(-|z|)) does not.
    z = x * x.dtype.type(beta)
    y = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / x.dtype.type(beta)
    return y if threshold is None else np.where(z > threshold, x, y)


def softplus_grad(x, beta=1.0, threshold=None):
    z = x * x.dtype.type(beta)
    d = sigmoid(z)
    return d if threshold is None else np.where(z > threshold, 1, d).astype(x.dtype)


def tanh(x):
    return np.tanh(x)


def tanh_grad(x):
    return 1 - np.tanh(x) ** 2


def silu(x):
    return x * sigmoid(x)


def silu_grad(x):
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


# NumPy has no erf: the reference calls Python's math.erf element by element (exact, and
# slow: this is the baseline a NumPy-only user has; SciPy's erf is a separate peer).
_erf = np.frompyfunc(math.erf, 1, 1)


def _ncdf(x):
    return (0.5 * (1 + _erf(x.astype(np.float64) / np.sqrt(2)))).astype(x.dtype)


def gelu(x):
    return x * _ncdf(x)


def gelu_grad(x):
    return _ncdf(x) + x * np.exp(-0.5 * x * x) / x.dtype.type(np.sqrt(2 * np.pi))


def _make_backward(grad):
    def backward(grad_out, x, **params):
        return grad_out * grad(x, **params)

    return backward


def _make_fwd_grad(forward, grad):
    def fwd_grad(x, **params):
        return forward(x, **params), grad(x, **params)

    return fwd_grad


for _name in (act.name for act in TABLE):
    _forward, _grad = globals()[_name], globals()[_name + "_grad"]
    globals()[_name + "_backward"] = _make_backward(_grad)
    globals()[_name + "_fwd_grad"] = _make_fwd_grad(_forward, _grad)
    globals()[_name + "_backward"].__name__ = _name + "_backward"
    globals()[_name + "_fwd_grad"].__name__ = _name + "_fwd_grad"

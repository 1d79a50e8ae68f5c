"""Plain NumPy versions of every activation and derivative.

These are written the way a NumPy user would write them from the formula, made stable
only where the plain form overflows. They are the speed baseline of ``bench/`` and
a readable specification; accuracy is judged against mpmath, not against these (for
example ``sigmoid_grad`` below uses y*(1-y), which cancels to 0 in the tails).

For each activation ``f`` there are ``f(x)``, ``f_grad(x)``, ``f_backward(grad_out, x)``
(= grad_out * f_grad(x)) and ``f_fwd_grad(x)`` (= (f(x), f_grad(x))), as in ``fastgrad``;
for sigmoid, tanh and relu also ``f_backward_from_output(grad_out, y)``.
"""

import math

import numpy as np

from ._gated import GATE_FIRST, GATED
from ._kinds import kinds_of
from ._table import ALIASES, BY_NAME, TABLE


def _c(x, value):
    """A constant in x's dtype (keeps float32 arithmetic in float32)."""
    return x.dtype.type(value)


def relu(x):
    return np.maximum(x, 0)


def relu_grad(x):
    return (x > 0).astype(x.dtype)


def relu6(x):
    return np.minimum(np.maximum(x, 0), _c(x, 6))


def relu6_grad(x):
    return ((x > 0) & (x < 6)).astype(x.dtype)


def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, x * _c(x, negative_slope))


def leaky_relu_grad(x, negative_slope=0.01):
    return np.where(x > 0, _c(x, 1), _c(x, negative_slope))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, _c(x, min_val), _c(x, max_val))


def hardtanh_grad(x, min_val=-1.0, max_val=1.0):
    return ((x > min_val) & (x < max_val)).astype(x.dtype)


def threshold(x, threshold, value):
    return np.where(x > threshold, x, _c(x, value))


def threshold_grad(x, threshold, value):
    return (x > threshold).astype(x.dtype)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, _c(x, alpha) * np.expm1(np.minimum(x, 0)))


def elu_grad(x, alpha=1.0):
    return np.where(x > 0, _c(x, 1), _c(x, alpha) * np.exp(np.minimum(x, 0)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    return _c(x, _SELU_SCALE) * elu(x, _SELU_ALPHA)


def selu_grad(x):
    return _c(x, _SELU_SCALE) * elu_grad(x, _SELU_ALPHA)


def celu(x, alpha=1.0):
    return np.where(x > 0, x, _c(x, alpha) * np.expm1(np.minimum(x, 0) / _c(x, alpha)))


def celu_grad(x, alpha=1.0):
    return np.where(x > 0, _c(x, 1), np.exp(np.minimum(x, 0) / _c(x, alpha)))


def sigmoid(x):
    # exp(-|x|) never overflows; the naive 1/(1+exp(-x)) warns for x < -88 in float32.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)


def log_sigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def log_sigmoid_grad(x):
    return 1 - sigmoid(x)


def softplus(x, beta=1.0, threshold=None):
    # log(1 + exp(z)) overflows for z > 88 (float32); max(z, 0) + log1p(exp(-|z|)) does not.
    z = x * _c(x, beta)
    y = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / _c(x, beta)
    return y if threshold is None else np.where(z > threshold, x, y)


def softplus_grad(x, beta=1.0, threshold=None):
    z = x * _c(x, beta)
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


def mish(x):
    return x * np.tanh(softplus(x))


def mish_grad(x):
    t = np.tanh(softplus(x))
    return t + x * sigmoid(x) * (1 - t * t)


# NumPy has no erf: the reference calls Python's math.erf element by element (exact, and
# slow: this is the baseline a NumPy-only user has; SciPy's erf is a separate peer).
_erf = np.frompyfunc(math.erf, 1, 1)


def _ncdf(x):
    return (0.5 * (1 + _erf(x.astype(np.float64) / np.sqrt(2)))).astype(x.dtype)


_SQRT_2_PI = math.sqrt(2 / math.pi)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_c(x, _SQRT_2_PI) * (x + _c(x, 0.044715) * x**3)))
    return x * _ncdf(x)


def gelu_grad(x, approximate="none"):
    if approximate == "tanh":
        t = np.tanh(_c(x, _SQRT_2_PI) * (x + _c(x, 0.044715) * x**3))
        slope = _c(x, _SQRT_2_PI) * (1 + _c(x, 3 * 0.044715) * x * x)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * slope
    return _ncdf(x) + x * np.exp(-0.5 * x * x) / _c(x, np.sqrt(2 * np.pi))


def hardsigmoid(x):
    return relu6(x + 3) / _c(x, 6)


def hardsigmoid_grad(x):
    return np.where((x > -3) & (x < 3), _c(x, 1 / 6), _c(x, 0))


def hardswish(x):
    return x * relu6(x + 3) / _c(x, 6)


def hardswish_grad(x):
    middle = x / _c(x, 3) + _c(x, 0.5)
    return np.where(x <= -3, _c(x, 0), np.where(x < 3, middle, _c(x, 1)))


def softsign(x):
    return x / (1 + np.abs(x))


def softsign_grad(x):
    return 1 / (1 + np.abs(x)) ** 2


def tanhshrink(x):
    return x - np.tanh(x)


def tanhshrink_grad(x):
    return np.tanh(x) ** 2


def softshrink(x, lambd=0.5):
    lambd = _c(x, lambd)
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, _c(x, 0)))


def softshrink_grad(x, lambd=0.5):
    return (np.abs(x) > lambd).astype(x.dtype)


def hardshrink(x, lambd=0.5):
    return np.where(np.abs(x) > lambd, x, _c(x, 0))


def hardshrink_grad(x, lambd=0.5):
    return (np.abs(x) > lambd).astype(x.dtype)


# The backward from the output (PyTorch's contract, for the activations whose autograd
# saves y): the formulas as PyTorch writes them.
def sigmoid_backward_from_output(grad_out, y):
    return grad_out * (1 - y) * y


def tanh_backward_from_output(grad_out, y):
    return grad_out * (1 - y * y)


def relu_backward_from_output(grad_out, y):
    return grad_out * relu_grad(y)


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

# PyTorch's other names (swish, logsigmoid), as in ``fastgrad``: the same functions
for _alias, _name in ALIASES.items():
    for _kind in kinds_of(BY_NAME[_name]):
        globals()[_alias + _kind.suffix] = globals()[_name + _kind.suffix]


# ------------------------------------------------- the gated activations (``_gated``)
# f(a) * b for two arrays, or for the two halves of one array along ``dim`` (GLU:
# a * sigmoid(b)), as a NumPy user writes them from the product rule.


def glu(x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    return a * sigmoid(b)


def glu_backward(grad_out, x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    s = sigmoid(b)
    return np.concatenate([grad_out * s, grad_out * a * s * (1 - s)], axis=dim)


def _make_gated(name, activation):
    forward, grad = globals()[activation], globals()[activation + "_grad"]

    def gated(a, b, **params):
        return forward(a, **params) * b

    def gated_backward(grad_out, a, b, **params):
        return grad_out * b * grad(a, **params), grad_out * forward(a, **params)

    def packed(x, dim=-1, **params):
        return gated(*np.split(x, 2, axis=dim), **params)

    def packed_backward(grad_out, x, dim=-1, **params):
        return np.concatenate(gated_backward(grad_out, *np.split(x, 2, axis=dim), **params), dim)

    for fn, suffix in (
        (gated, ""),
        (gated_backward, "_backward"),
        (packed, "_packed"),
        (packed_backward, "_packed_backward"),
    ):
        fn.__name__ = name + suffix
        globals()[name + suffix] = fn


for _row in GATED:
    if _row.gate == GATE_FIRST:  # glu's forms are above
        _make_gated(_row.name, _row.activation)


# ------------------------------------------------------------------ PReLU (``_prelu``)


def _channel_weight(x, weight):
    """The weight broadcast against x along dimension 1 (one channel below 2-D)."""
    w = np.asarray(weight, x.dtype).reshape(-1)
    if w.size == 1 or x.ndim < 2:
        return w.reshape(()) if w.size == 1 else w
    return w.reshape((1, -1) + (1,) * (x.ndim - 2))


def prelu(x, weight):
    return np.where(x > 0, x, _channel_weight(x, weight) * x)


def prelu_backward(grad_out, x, weight):
    w = _channel_weight(x, weight)
    grad_x = np.where(x > 0, grad_out, w * grad_out)
    terms = np.where(x > 0, 0, x * grad_out)
    axes = tuple(i for i in range(x.ndim) if not (i == 1 and np.size(weight) > 1))
    return grad_x, terms.sum(axis=axes).reshape(np.shape(weight))


# ----------------------------------------------------------- softmax along an axis
# The formulas a NumPy user writes, shifted by the max so that finite x never overflows
# (SciPy's ``scipy.special.softmax`` is these).


def softmax(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=dim, keepdims=True)


def softmin(x, dim):
    return softmax(-x, dim)


def log_softmax(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def logsumexp(x, dim, keepdim=False):
    m = np.max(x, axis=dim, keepdims=True)
    result = m + np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True))
    return result if keepdim else np.squeeze(result, axis=dim)


def softmax_backward(grad_out, y, dim):
    return y * (grad_out - np.sum(grad_out * y, axis=dim, keepdims=True))


def softmin_backward(grad_out, y, dim):
    return -softmax_backward(grad_out, y, dim)


def log_softmax_backward(grad_out, y, dim):
    return grad_out - np.exp(y) * np.sum(grad_out, axis=dim, keepdims=True)


def logsumexp_backward(grad_out, x, result, dim, keepdim=False):
    if not keepdim:
        grad_out, result = np.expand_dims(grad_out, dim), np.expand_dims(result, dim)
    return grad_out * np.exp(x - result)

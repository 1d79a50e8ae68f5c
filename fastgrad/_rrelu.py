"""RReLU, PyTorch's randomized leaky ReLU: ``rrelu``, ``rrelu_fwd_grad`` (the output and
the slopes drawn, which the backward needs) and ``rrelu_backward``.

    eval (training=False):  y = x where x > 0, else x * (lower + upper) / 2
                            (PyTorch's leaky_relu with that slope)
    training=True:          y = x where not x <= 0, else x * r,
                            r ~ Uniform(lower, upper) drawn per element
    dy/dx                   1 where not x <= 0, else the slope (r, or (lower+upper)/2)

PyTorch's training kernel tests ``x <= 0`` (-0.0 takes a slope, y = -0.0 * r = -0.0; NaN
keeps slope 1), its eval (leaky_relu) ``x > 0`` (NaN takes the mean slope): each mode
follows it, the backward too (``fastgrad.leaky_relu_backward`` gives NaN at NaN).
The slopes are drawn in the calling thread from ``generator`` (a NumPy
``Generator``, or a seed for ``numpy.random.default_rng``; None: fresh entropy), one per
element of x in C order whatever its sign, so a generator in a given state gives the same
slopes whatever x's values and whatever the thread count. Each result is one correctly
rounded product.
"""

import numpy as np

from ._arrays import COMPUTE_DTYPE, _coerce, check_out, store

LOWER, UPPER = 1.0 / 8.0, 1.0 / 3.0


def _quiet():
    """A subnormal or infinite product is a result, not an error: no warning."""
    return np.errstate(over="ignore", under="ignore", invalid="ignore")


def _bounds(lower, upper, fn):
    for name, value in (("lower", lower), ("upper", upper)):
        if not isinstance(value, (int, float, np.floating, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{fn}: {name} must be a real number, got {type(value).__name__}")
    lower, upper = float(lower), float(upper)
    if not (np.isfinite(lower) and np.isfinite(upper)) or lower > upper:
        raise ValueError(
            f"{fn}: lower and upper must be finite with lower <= upper, got {lower}, {upper}"
        )
    return lower, upper


def _generator(generator, fn):
    if generator is None or isinstance(generator, (int, np.integer)):
        return np.random.default_rng(generator)
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(
        f"{fn}: generator must be a numpy.random.Generator, a seed or None, got "
        f"{type(generator).__name__}"
    )


def _draw_slopes(x, lower, upper, generator, compute):
    """(slopes, keep) for training: dy/dx per element, r ~ U(lower, upper) where x <= 0
    and 1 elsewhere."""
    slopes = generator.random(x.shape, dtype=compute)
    slopes *= compute.type(upper - lower)
    slopes += compute.type(lower)
    np.copyto(slopes, compute.type(1.0), where=~(x <= 0))
    return slopes


def _slopes(x, lower, upper, training, generator, fn):
    compute = COMPUTE_DTYPE[x.dtype]
    if training:
        return _draw_slopes(x, lower, upper, _generator(generator, fn), compute)
    # eval is PyTorch's leaky_relu, which tests x > 0: NaN takes the mean slope here
    slopes = np.full(x.shape, compute.type((lower + upper) / 2.0))
    np.copyto(slopes, compute.type(1.0), where=x > 0)
    return slopes


def _into(out, value, result, fn, what="out"):
    if out is None:
        if value.dtype != result:
            with np.errstate(over="ignore", under="ignore"):
                value = value.astype(result)
        return value[()] if value.ndim == 0 else value
    store(out, value)
    return out


def rrelu(x, lower=LOWER, upper=UPPER, training=False, *, generator=None, out=None):
    """RReLU: x where x > 0, else x times a slope in [lower, upper].

    training=False: the slope (lower + upper) / 2 (``fastgrad.leaky_relu``, as PyTorch);
    training=True: a slope r ~ Uniform(lower, upper) per element with x <= 0, drawn from
    ``generator`` (a NumPy Generator, a seed, or None), the same whatever the thread
    count. Use ``rrelu_fwd_grad`` to keep the slopes for the backward.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> fg.rrelu(np.array([-2.0, 0.0, 3.0])).round(6)
        array([-0.458333,  0.      ,  3.      ])
    """
    return _forward("rrelu", x, lower, upper, training, generator, out, None)[0]


def rrelu_fwd_grad(x, lower=LOWER, upper=UPPER, training=False, *, generator=None, out=None):
    """RReLU's output and its slopes dy/dx: (y, slopes), slopes 1 where not x <= 0, else
    the slope drawn (training) or (lower + upper) / 2 (eval). The slopes are what
    PyTorch's autograd keeps (its ``noise``): pass them to ``rrelu_backward``.
    out: a pair (y, slopes), either may be None."""
    fn = "rrelu_fwd_grad"
    if out is not None and (not isinstance(out, tuple) or len(out) != 2):
        raise TypeError(f"{fn}: out must be a pair of arrays (y, slopes)")
    out_y, out_d = (None, None) if out is None else out
    return _forward(fn, x, lower, upper, training, generator, out_y, out_d)


def _forward(fn, x, lower, upper, training, generator, out_y, out_d):
    lower, upper = _bounds(lower, upper, fn)
    x, result = _coerce(x, fn, "x")
    for what, o in (("out[0]", out_y), ("out[1]", out_d)):
        if o is not None:
            check_out(o, x.shape, result, fn, what)
    compute = COMPUTE_DTYPE[result]
    xc = x.astype(compute, copy=False)
    slopes = _slopes(xc, lower, upper, training, generator, fn)
    with _quiet():
        y = np.multiply(xc, slopes)  # x * 1 is x; each product rounded once
    return _into(out_y, y, result, fn, "out[0]"), _into(out_d, slopes, result, fn, "out[1]")


def rrelu_backward(grad_out, x, lower=LOWER, upper=UPPER, training=False, *, slopes=None, out=None):
    """RReLU's input gradient: grad_out * dy/dx. training=False: dy/dx is 1 where not
    x <= 0, else (lower + upper) / 2; training=True: the ``slopes`` that
    ``rrelu_fwd_grad`` returned with the output (required: the slopes were random).

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> x = np.array([-2.0, 0.0, 3.0])
        >>> y, slopes = fg.rrelu_fwd_grad(x, training=True, generator=0)
        >>> bool((fg.rrelu_backward(np.ones(3), x, training=True, slopes=slopes) == slopes).all())
        True
    """
    fn = "rrelu_backward"
    lower, upper = _bounds(lower, upper, fn)
    x, result = _coerce(x, fn, "x")
    g, g_result = _coerce(grad_out, fn, "grad_out")
    result = np.promote_types(result, g_result)
    compute = COMPUTE_DTYPE[result]
    if training:
        if slopes is None:
            raise ValueError(
                f"{fn}: training=True needs the slopes drawn in the forward "
                "(rrelu_fwd_grad returns them)"
            )
        d, _ = _coerce(slopes, fn, "slopes")
        if d.shape != x.shape:
            raise ValueError(f"{fn}: slopes has shape {d.shape}, x has shape {x.shape}")
        d = d.astype(compute, copy=False)
    else:
        if slopes is not None:
            raise ValueError(f"{fn}: slopes are only used with training=True")
        d = _slopes(x.astype(compute, copy=False), lower, upper, False, None, fn)
    try:
        shape = np.broadcast_shapes(g.shape, x.shape)
    except ValueError:
        raise ValueError(f"{fn}: grad_out has shape {g.shape}, x has shape {x.shape}") from None
    if shape != x.shape:
        raise ValueError(f"{fn}: grad_out has shape {g.shape}, x has shape {x.shape}")
    if out is not None:
        check_out(out, x.shape, result, fn)
    with _quiet():
        grad = np.multiply(g.astype(compute, copy=False), d)
    return _into(out, grad, result, fn)

"""A derivative next to its zero, where the general form cancels (silu', mish', gelu's
tanh form'): (x - x0)*P(x - centre) on a span around the root x0, P a fitted polynomial
and x0 in two parts (``derive_coefficients``), so the result keeps full relative accuracy right up
to the root."""

from .._jit import scalar
from .compensated import two_sum
from .fma import fma
from .polynomial import polynomial


def near_root(form):
    """A scalar (x, d) -> d, replaced by the root form where x is in the span. ``form``: a
    generated ``*_ROOT_FORM`` constant in the dtype (``FloatFormat.const``): ``root`` in hi
    and lo parts, the ``span``'s ends, the ``center`` ``poly`` P is centred on."""
    root_hi, root_lo = form["root"]
    span_lo, span_hi = form["span"]
    center = form["center"]
    p_of = polynomial(form["poly"])

    @scalar
    def replace_near_root(x, d):
        p = p_of(x - center)
        dx, dx_err = two_sum(x, -root_hi)
        root_form = fma(p, dx, p * (dx_err - root_lo))
        return root_form if (span_lo <= x and x <= span_hi) else d

    return replace_near_root

"""Derive the constants of fastgrad's elementary functions and activations.

Run ``python tools/derive_coefficients.py > fastgrad/_math/coefficients.py`` to regenerate
them; ``tests/test_math.py`` checks that the committed file matches.

Each polynomial is a Chebyshev fit (``mpmath.chebyfit``, 50 digits; within a few percent
of the minimax error) of the smallest degree whose relative error is below a quarter ulp
of the dtype, so the rounding of the evaluation dominates the total error:

- EXP_Q: exp(r) = 1 + r + r^2*Q(r) on |r| <= ln2/2, what exp's range reduction leaves.
- LOG1P_P: log(f) = 2*atanh(s) = 2s + s*z*P(z), z = s^2, s = (f-1)/(f+1),
  f in [sqrt(1/2), sqrt(2)).
- NORMAL_TAIL: the upper tail of the standard normal, Q(t) = P(Z > t) =
  exp(-t^2/2) * G(t) for t >= 0, with G(t) = T(w)/(t + K), T a polynomial in
  w - NORMAL_CENTRE, w = (t - K)/(t + K): the map takes the half-line [0, inf) to
  [-1, 1), and T is smooth and bounded away from 0 there, so rounding errors in w are
  not magnified (fitting G itself in w would be: G falls like (1 - w)). K is chosen to
  minimise the degree.
- NORMAL_SMALL: Q(t) = 1/2 - t*A(t^2) for t <= NORMAL_SMALL_MAX, where Q is near 1/2
  and the three roundings of the product form above would cost up to 6 ulps.
- TANH_SMALL: tanh(x) = x + x^3*P(x^2) for |x| <= TANH_SMALL_MAX, where 1 - 2E/(1 + E)
  (E = exp(-2|x|)) would cancel.
- ERF_SMALL: erf(u) = u*E(u^2) for |u| <= ERF_SMALL_MAX, where 1 - erfc(u) would cancel.
- GELU_ROOT_POLY: gelu's derivative Phi(x) + x*phi(x) is 0 at x = -GELU_ROOT; near it the
  two terms cancel, so for t = -x in [0, GELU_ROOT_SPAN] it is computed as
  (GELU_ROOT - t) * B(t - GELU_ROOT_CENTER), with GELU_ROOT split in a hi and a lo part.
- SILU_ROOT_FORM: silu's derivative sigma(x)*(1 + x*sigma(-x)) is 0 at its minimum x0,
  where the bracket cancels; for x in the form's span it is computed as
  (x - x0) * P(x - center), x0 in two parts (the form's "root") and P its "poly".
- GELU_TANH_ROOT_FORM, MISH_ROOT_FORM: the same for the derivatives of gelu's tanh form
  and of mish, zero at their minima.
- TANHSHRINK_SMALL: x - tanh(x) = x^3*P(x^2) for |x| < 1, where the difference cancels.
- GELU_TANH_C, GELU_TANH_K: sqrt(8/pi) and 0.044715 in two parts (gelu's tanh form).
"""

import inspect

import mpmath as mp

mp.mp.dps = 50

PRECISION = {"float32": 24, "float64": 53}
# How many low bits LN2_HI leaves zero, so that k*LN2_HI is exact for every exponent k the
# dtype has (|k| < 2^8 for float32, < 2^11 for float64).
LN2_HI_ZERO_BITS = {"float32": 9, "float64": 11}
# Largest t for which the normal tail matters: |t|*Q(t) is below half the smallest
# subnormal beyond it (checked in tests/test_math.py).
NORMAL_TAIL_MAX = {"float32": 14.5, "float64": 39.0}
ERF_SMALL_MAX = 0.75
TANH_SMALL_MAX = 0.55
NORMAL_SMALL_MAX = 0.8
GELU_ROOT_SPAN = 1.5
GELU_ROOT_CENTER = 0.75
TANHSHRINK_SMALL_MAX = 1.0

SQRT_2PI_INV = 1 / mp.sqrt(2 * mp.pi)
GELU_TANH_C = mp.sqrt(8 / mp.pi)
GELU_TANH_K = mp.mpf("0.044715")


def _exp_q(r):
    """Q(r) = (exp(r) - 1 - r) / r^2, with its series limit at r = 0."""
    if abs(r) < mp.mpf("1e-20"):
        return mp.mpf(1) / 2 + r / 6
    return (mp.exp(r) - 1 - r) / r**2


def _log_p(z):
    """P(z) = (2*atanh(s) - 2s) / (s*z) with s = sqrt(z), its series limit at z = 0."""
    if z < mp.mpf("1e-40"):
        return mp.mpf(2) / 3 + 2 * z / 5
    s = mp.sqrt(z)
    return 2 * (mp.atanh(s) / s - 1) / z


def _normal_g(t):
    """G(t) = Q(t) * exp(t^2/2)."""
    return mp.erfc(t / mp.sqrt(2)) / 2 * mp.exp(t * t / 2)


def _normal_tail_t(k):
    def tail(w):
        t = k * (1 + w) / (1 - w)
        return _normal_g(t) * (t + k)

    return tail


def _normal_a(z):
    """A(z) = (Phi(t) - 1/2)/t with z = t^2, its series limit at 0."""
    if z < mp.mpf("1e-40"):
        return SQRT_2PI_INV * (1 - z / 6)
    t = mp.sqrt(z)
    return (mp.ncdf(t) - mp.mpf(1) / 2) / t


def _tanh_p(z):
    """P(z) = (tanh(x) - x)/x^3 with z = x^2, its series limit at 0."""
    if z < mp.mpf("1e-40"):
        return -mp.mpf(1) / 3 + 2 * z / 15
    x = mp.sqrt(z)
    return (mp.tanh(x) - x) / x**3


def _erf_e(z):
    if z < mp.mpf("1e-40"):
        return 2 / mp.sqrt(mp.pi) * (1 - z / 3)
    u = mp.sqrt(z)
    return mp.erf(u) / u


def gelu_root():
    """t0 > 0 with G(t0) = t0 * phi(0): gelu'(-t0) = 0."""
    return mp.findroot(lambda t: _normal_g(t) - t * SQRT_2PI_INV, 0.75)


def silu_root():
    """x0 < 0 with 1 + x0 + exp(x0) = 0: silu'(x0) = 0."""
    return mp.findroot(lambda x: 1 + x + mp.exp(x), -1.28)


def _gelu_grad(x):
    return mp.ncdf(x) + x * mp.npdf(x)


def _silu_grad(x):
    s = 1 / (1 + mp.exp(-x))
    return s * (1 + x / (1 + mp.exp(x)))


def gelu_tanh_grad(x):
    """d/dx of x*sigmoid(z), z = sqrt(8/pi)*(x + 0.044715*x^3)."""
    z = GELU_TANH_C * (x + GELU_TANH_K * x**3)
    slope = GELU_TANH_C * (1 + 3 * GELU_TANH_K * x**2)
    return 1 / (1 + mp.exp(-z)) * (1 + x * slope / (1 + mp.exp(z)))


def mish_grad(x):
    t = mp.tanh(mp.log1p(mp.exp(x)))
    return t + x / (1 + mp.exp(-x)) * (1 - t * t)


# The derivatives computed near their root as (x - root) * P(x - center) on a span
# (``fastgrad._math.root.near_root``): the constant's name, the derivative, its root (the
# activation's minimum), the span and the centre, so that the monomials of P stay below 1
# and Horner does not cancel. The spans reach where the general form of the derivative
# exceeds ~2.5 ulps (measured in harness/accuracy.py); silu's, for example, is off by about
# 1.5e-8/|x - x0| relative in float32 (exp's error through sigma(-x), against a bracket
# of slope ~1), ~2.7 ulps in all at 0.33 from the root.
NEAR_ROOT_FORMS = (
    ("SILU_ROOT_FORM", _silu_grad, silu_root, (-1.6, -0.95), -1.275),
    (
        "GELU_TANH_ROOT_FORM",
        gelu_tanh_grad,
        lambda: mp.findroot(gelu_tanh_grad, -0.75),
        (-1.4, -0.3),
        -0.85,
    ),
    ("MISH_ROOT_FORM", mish_grad, lambda: mp.findroot(mish_grad, -1.19), (-1.5, -0.9), -1.2),
)


def _near_root_form(grad, root, span, center, dtype):
    """(the form's constants, P's max abs error): root in two parts, span, centre, P."""
    poly, err = _fit(
        _shifted(_over_root(grad, root, 1), center), span[0] - center, span[1] - center, dtype
    )
    form = {
        "root": split(root, dtype),
        "span": span,
        "center": center,
        "poly": tuple(float(c) for c in poly),
    }
    return form, err


def _tanhshrink_p(z):
    """P(z) = (x - tanh(x))/x^3 with z = x^2, its series limit at 0."""
    if z < mp.mpf("1e-40"):
        return mp.mpf(1) / 3 - 2 * z / 15
    x = mp.sqrt(z)
    return (x - mp.tanh(x)) / x**3


def _shifted(fn, center):
    return lambda u: fn(u + center)


def _over_root(fn, root, sign):
    """x -> fn(x) / (sign*(x - root)), with its limit (a derivative) at the root."""

    def quotient(x):
        if abs(x - root) < mp.mpf("1e-30"):
            return mp.diff(fn, root) / sign
        return fn(x) / (sign * (x - root))

    return quotient


def _chebyfit(fn, lo, hi, degree):
    """Coefficients highest degree first, and the max abs error. (mpmath 1.3 returns that
    order; 1.4 asks for it explicitly. PyTorch's sympy pins mpmath below 1.4.)"""
    if "asc" in inspect.signature(mp.chebyfit).parameters:
        return mp.chebyfit(fn, [lo, hi], degree + 1, error=True, asc=False)
    return mp.chebyfit(fn, [lo, hi], degree + 1, error=True)


def _fit(fn, lo, hi, dtype, scale=None, relative=False):
    """The lowest-degree fit whose error is below 2^-(precision + 2) relative to ``scale``
    (default: the smallest |fn| at the ends and the middle), or, with ``relative``,
    relative to fn itself on a grid of 400 points."""
    lo, hi = mp.mpf(lo), mp.mpf(hi)
    scale = scale or min(abs(fn(lo)), abs(fn(hi)), abs(fn((lo + hi) / 2)))
    target = mp.mpf(2) ** -(PRECISION[dtype] + 2)
    grid = [(x, fn(x)) for x in mp.linspace(lo, hi, 400)] if relative else None
    for degree in range(1, 40):
        coeffs, err = _chebyfit(fn, lo, hi, degree)
        if relative:
            err = max(abs(mp.polyval(coeffs, x) - y) / abs(y) for x, y in grid)
            if err < target:
                return list(coeffs), err
        elif err / scale < target:
            return list(coeffs), err
    raise ValueError("no fit below degree 40")


def _normal_tail(dtype):
    """(K, centre, coefficients, relative error) for the K that needs the lowest degree;
    T is fitted in v = w - centre, the middle of w's range, which keeps Horner's
    intermediate sums small next to T."""
    best = None
    for k in (2, 3, 4, 5, 6):
        k = mp.mpf(k)
        w_hi = (NORMAL_TAIL_MAX[dtype] - k) / (NORMAL_TAIL_MAX[dtype] + k)
        centre = mp.mpf(float((w_hi - 1) / 2))
        shifted = _shifted(_normal_tail_t(k), centre)
        coeffs, err = _fit(shifted, -1 - centre, w_hi - centre, dtype, relative=True)
        if best is None or len(coeffs) < len(best[2]):
            best = (k, centre, coeffs, err)
    return best


def split(value, dtype):
    """value = hi + lo, hi rounded to the dtype and lo the rounded remainder."""
    import numpy as np

    F = np.float32 if dtype == "float32" else np.float64
    hi = F(float(value))
    lo = F(float(value - mp.mpf(float(hi))))
    return float(hi), float(lo)


def ln2_split(dtype):
    """ln2 = LN2_HI + LN2_LO, LN2_HI with few enough bits that k*LN2_HI is exact."""
    ln2 = mp.log(2)
    bits = PRECISION[dtype] - LN2_HI_ZERO_BITS[dtype]
    scale = mp.mpf(2) ** bits
    hi = mp.floor(ln2 * scale) / scale
    return float(hi), float(ln2 - hi)


def constants():
    """{name: value or tuple}, for every dtype."""
    half_ln2 = mp.log(2) / 2
    z_max = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2
    t0 = gelu_root()
    roots = {name: root() for name, _, root, _, _ in NEAR_ROOT_FORMS}
    out = {}
    for dtype in PRECISION:
        suffix = "_" + dtype.upper()
        fits = {
            # Q and P enter their results multiplied by r^2 <= (ln2/2)^2 and by
            # s*z <= (z_max/2) * 2s: their errors count that much less.
            "EXP_Q": _fit(
                _exp_q, -half_ln2, half_ln2, dtype, scale=mp.exp(-half_ln2) / half_ln2**2
            ),
            "LOG1P_P": _fit(_log_p, 0, z_max, dtype, scale=2 / z_max),
            "ERF_SMALL": _fit(_erf_e, 0, ERF_SMALL_MAX**2, dtype),
            "NORMAL_SMALL": _fit(_normal_a, 0, NORMAL_SMALL_MAX**2, dtype),
            # x^3 * P(x^2) is at most a third of tanh(x) there: P's error counts a third
            "TANH_SMALL": _fit(_tanh_p, 0, TANH_SMALL_MAX**2, dtype, scale=mp.mpf(1)),
            # gelu'(-t) = (t0 - t) * B(t - center): centred, so that the monomials stay
            # below 1 and Horner does not cancel.
            "GELU_ROOT_POLY": _fit(
                _shifted(_over_root(lambda t: _gelu_grad(-t), t0, -1), GELU_ROOT_CENTER),
                -GELU_ROOT_CENTER,
                GELU_ROOT_SPAN - GELU_ROOT_CENTER,
                dtype,
            ),
            # x^3*P(x^2) is the whole result: P's error counts in full, relative to P
            "TANHSHRINK_SMALL": _fit(
                _tanhshrink_p, 0, TANHSHRINK_SMALL_MAX**2, dtype, relative=True
            ),
        }
        k, centre, coeffs, err = _normal_tail(dtype)
        fits["NORMAL_TAIL"] = (coeffs, err)
        out["NORMAL_CENTRE" + suffix] = (float(centre), None)
        for name, (coeffs, err) in fits.items():
            out[name + suffix] = (tuple(float(c) for c in coeffs), err)
        out["NORMAL_K" + suffix] = (float(k), None)
        out["NORMAL_TAIL_MAX" + suffix] = (NORMAL_TAIL_MAX[dtype], None)
        out["ERF_SMALL_MAX" + suffix] = (ERF_SMALL_MAX, None)
        out["TANH_SMALL_MAX" + suffix] = (TANH_SMALL_MAX, None)
        out["NORMAL_SMALL_MAX" + suffix] = (NORMAL_SMALL_MAX, None)
        out["GELU_ROOT_SPAN" + suffix] = (GELU_ROOT_SPAN, None)
        out["GELU_ROOT_CENTER" + suffix] = (GELU_ROOT_CENTER, None)
        for name, grad, _, span, center in NEAR_ROOT_FORMS:
            out[name + suffix] = _near_root_form(grad, roots[name], span, center, dtype)
        out["LN2_HI" + suffix], out["LN2_LO" + suffix] = ((v, None) for v in ln2_split(dtype))
        for name, value in (
            ("SQRT2", mp.sqrt(2)),
            ("GELU_ROOT", t0),
            ("GELU_TANH_C", GELU_TANH_C),
            ("GELU_TANH_K", GELU_TANH_K),
        ):
            hi, lo = split(value, dtype)
            out[name + "_HI" + suffix], out[name + "_LO" + suffix] = (hi, None), (lo, None)
    return out


def render():
    lines = [
        '"""Constants of the elementary functions and activations, polynomials highest',
        'degree first. Generated by ``python tools/derive_coefficients.py``: do not edit."""',
        "",
    ]
    for name, (value, err) in constants().items():
        if isinstance(value, dict):
            lines.append(
                f"# (x - root) * poly(x - center) on span; poly: Chebyshev fit, degree "
                f"{len(value['poly']) - 1}, max abs error {mp.nstr(err, 3)}"
            )
            lines.append(f"{name} = {{")
            for key, item in value.items():
                if key == "poly":
                    lines.append(f'    "{key}": (')
                    lines.extend(f"        {c!r}," for c in item)
                    lines.append("    ),")
                else:
                    lines.append(f'    "{key}": {item!r},')
            lines.append("}")
        elif isinstance(value, tuple):
            kind = "relative" if name.startswith("NORMAL_TAIL") else "abs"
            lines.append(
                f"# Chebyshev fit, degree {len(value) - 1}, max {kind} error {mp.nstr(err, 3)}"
            )
            lines.append(f"{name} = (")
            lines.extend(f"    {c!r}," for c in value)
            lines.append(")")
        else:
            lines.append(f"{name} = {value!r}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")

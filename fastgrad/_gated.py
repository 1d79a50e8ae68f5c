"""The gated activations: the table of GLU's family, ``f(u) * v`` for two halves.

A gated activation multiplies one array, passed through an activation of the main table
(``_table.TABLE``: its scalar functions, its accuracy level, its kink convention), by a
second array element by element:

    y = f(u) * v
    dy/du = grad_out * v * f'(u)        (f' as the activation's own backward: relu's
                                         +0.0 off its slope, whatever grad_out's sign)
    dy/dv = grad_out * f(u)

Which input is ``u`` is each row's fact: ``swiglu(a, b) = silu(a) * b`` (LLaMA's
feed-forward block, ``silu(x W1) * (x W3)``) gates ``b`` with ``a``; PyTorch's
``glu(x) = a * sigmoid(b)``, with ``a``, ``b`` the two halves of ``x`` along ``dim``,
gates the first half with the second. The products are taken in PyTorch's autograd order
(``grad_out * v`` first, then the activation's backward of that; ``grad_out * f(u)``), so
each result is the composed PyTorch computation's within the bounds below.

Accuracy (in ulps of the true value, float32 and float64): f(u) carries the activation's
bound ``m`` (4 ulps, 0.5 for the correctly rounded piecewise ones), each product one more
rounding; an error of ``k`` ulps of an intermediate is at most ``2k`` ulps of the result
(a result's ulp is at least half its intermediate's, relative to the value), so:
forward and the gradient of ``v``: ``2m + 0.5``; the gradient of ``u`` (two products):
``2m + 1``. ``GatedActivation.bounds`` states them; the tests hold every output to them
against mpmath.
"""

from dataclasses import dataclass

from ._table import BY_NAME

# which input of the public function is the activation's argument u
GATE_FIRST = "first"  # f(a) * b: swiglu, geglu, reglu
GATE_SECOND = "second"  # a * f(b): glu (PyTorch's)


@dataclass(frozen=True)
class GatedActivation:
    name: str
    activation: str  # the row of ``_table.TABLE`` whose f and f' gate
    title: str  # as plots and tables show it
    gate: str = GATE_FIRST
    # gelu's ``approximate`` for geglu: the activation's variant, chosen per call
    variant: bool = False
    # how PyTorch spells it (parity tests and benchmarks): ``F.<torch_function>`` where
    # PyTorch has the op (glu), else the composition ``F.<activation>(a) * b``
    torch_function: str | None = None

    @property
    def base(self):
        """The activation's row in the main table."""
        return BY_NAME[self.activation]

    @property
    def memory_bound(self):
        return self.base.memory_bound

    def bounds(self):
        """{output: ulps} the accuracy tests hold each result to (module docstring)."""
        m = self.base.max_ulps
        return {"forward": 2 * m + 0.5, "grad_u": 2 * m + 1.0, "grad_v": 2 * m + 0.5}

    def which_is_u(self, first, second):
        """(u, v) from the public function's (first, second) inputs."""
        return (first, second) if self.gate == GATE_FIRST else (second, first)


# fmt: off
GATED = (
    GatedActivation("glu", "sigmoid", "GLU", gate=GATE_SECOND, torch_function="glu"),
    GatedActivation("swiglu", "silu", "SwiGLU"),
    GatedActivation("geglu", "gelu", "GeGLU", variant=True),
    GatedActivation("reglu", "relu", "ReGLU"),
)
# fmt: on
GATED_BY_NAME = {g.name: g for g in GATED}

"""The kinds of public function every activation has: the second table, beside the
activation table (``_table.py``); fastgrad's functions are their product.

Each row says what the public function is called (the activation's name + ``suffix``),
which arrays it takes, which loop template (``_templates``: the shape of its loop, how
many arrays it reads and writes) computes it with which of the activation's scalar
functions, and what its docstring says it computes and returns. The kernels, the
wrappers (``_api``), the @njit overloads (``_numba``), the compile step, the benchmarks,
the plots and the tests all read this table: adding a kind is one row here and, if no
template fits, one template in ``_templates``.
"""

from dataclasses import dataclass

from ._templates import MAP, PAIR, SCALED, LoopTemplate

# The scalar functions an activation's math provides (``KernelSet.scalars``).
FORWARD_SCALAR = "forward"
DERIVATIVE_SCALAR = "derivative"
FROM_OUTPUT_SCALAR = "derivative_from_output"  # activations with ``from_output`` only
# grad_out times the derivative: the product, or (activations whose PyTorch backward
# selects 0 where the derivative is 0, ``zero_gradient_selected``) +0.0 there
GRADIENT_PRODUCT = "gradient_product"


@dataclass(frozen=True)
class Kind:
    name: str  # as the kernels, benchmarks and plots name it
    suffix: str  # the public function is the activation's name + suffix
    inputs: tuple  # the array arguments, in order (of the function and of its kernel)
    template: LoopTemplate  # the shape of its loop (``_templates``)
    scalars: tuple  # (template global, scalar function) pairs the template is bound to
    summary: str  # what it computes, for the docstring's first line
    returns: str  # what it returns, for the docstring
    needs_from_output: bool = False  # only for activations with ``from_output``

    @property
    def outputs(self):
        """How many arrays the kernel writes (its last array arguments)."""
        return self.template.outputs


# One row a kind, written as a table: name, suffix, inputs, template, scalars;
# then summary and returns.
# fmt: off
FORWARD = Kind("forward", "", ("x",), MAP, (("_f", FORWARD_SCALAR),),
               "forward, y = f(x)", "y = f(x)")
GRAD = Kind("grad", "_grad", ("x",), MAP, (("_f", DERIVATIVE_SCALAR),),
            "derivative, dy/dx", "dy/dx at x")
BACKWARD = Kind("backward", "_backward", ("grad_out", "x"), SCALED,
                (("_df", DERIVATIVE_SCALAR), ("_times", GRADIENT_PRODUCT)),
                "backward, grad_out * dy/dx",
                "grad_out * dy/dx at x (the input gradient of a backward pass)")
FWD_GRAD = Kind("fwd_grad", "_fwd_grad", ("x",), PAIR,
                (("_f", FORWARD_SCALAR), ("_df", DERIVATIVE_SCALAR)),
                "forward and derivative in one pass, (y, dy/dx)",
                "the pair (y, dy/dx), computed in one pass over memory")
BACKWARD_FROM_OUTPUT = Kind("backward_from_output", "_backward_from_output", ("grad_out", "y"),
                            SCALED,
                            (("_df", FROM_OUTPUT_SCALAR), ("_times", GRADIENT_PRODUCT)),
                            "backward from the output, grad_out * dy/dx given y = f(x)",
                            "grad_out * dy/dx given the forward's output y = f(x) (PyTorch's\n"
                            "contract; the accuracy trade is under 'Given the output' below)",
                            needs_from_output=True)
# fmt: on

KINDS = (FORWARD, GRAD, BACKWARD, FWD_GRAD, BACKWARD_FROM_OUTPUT)
BY_KIND_NAME = {kind.name: kind for kind in KINDS}
BY_SUFFIX = {kind.suffix: kind for kind in KINDS}


def kinds_of(activation):
    """The kinds the activation has: all, but the from-output one only where the
    activation's derivative is given as a function of its output (``from_output``)."""
    return tuple(k for k in KINDS if not k.needs_from_output or activation.from_output)

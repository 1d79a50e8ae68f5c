"""fastgrad: activation functions and their gradients as compiled, vectorised kernels.

For each activation ``f`` in the table (``fastgrad.TABLE``): ``f(x)``, ``f_grad(x)``,
``f_backward(grad_out, x)``, ``f_fwd_grad(x)``, all with ``out=``, and for sigmoid, tanh
and relu ``f_backward_from_output(grad_out, y)`` (PyTorch's contract). Kernels compile on
first use per dtype (and are cached on disk); importing fastgrad compiles nothing.
``fastgrad.reference`` holds the plain NumPy versions.
"""

from . import (
    _bias,
    _bias_numba,
    _gated_api,
    _gated_numba,
    _numba,
    _prelu_numba,
    _rrelu_numba,
    _softmax_numba,
    reference,
)
from ._accuracy import LEVELS as ACCURACY_LEVELS
from ._accuracy import get_accuracy, set_accuracy
from ._prelu import prelu, prelu_backward
from ._rrelu import rrelu, rrelu_backward, rrelu_fwd_grad
from ._softmax import PUBLIC as _SOFTMAX_FUNCTIONS
from ._table import ALIASES as _ALIASES
from ._table import TABLE
from ._threads import get_num_threads, set_num_threads

__version__ = "0.1.0"


def _public_functions():
    """{public name: function}: the table's activations x kinds, and their aliases."""
    from ._api import build_public_functions
    from ._kinds import kinds_of
    from ._table import ALIASES, BY_NAME

    functions = build_public_functions(TABLE)
    # PyTorch's other names (swish for silu, logsigmoid): the same function objects
    functions.update(
        {
            alias + kind.suffix: functions[name + kind.suffix]
            for alias, name in ALIASES.items()
            for kind in kinds_of(BY_NAME[name])
        }
    )
    return functions


_functions = _public_functions()
# the gated activations (GLU's family, ``_gated``): their own table, their own shapes
_gated_functions = _gated_api.build_gated_functions()
_gated_numba.register_gated(_gated_functions)
# The public functions are the table's: adding an activation to the table adds its
# functions here, with nothing to edit in this file.
globals().update(_functions)
globals().update(_gated_functions)
# PReLU (a learnable weight per channel) and RReLU (random slopes in training), in
# @njit code too
_prelu_numba.register_prelu(prelu, prelu_backward)
_rrelu_numba.register_rrelu(rrelu, rrelu_fwd_grad, rrelu_backward)
# softmax and its relatives along an axis, in @njit code too
_softmax_numba.register_softmax({f.__name__: f for f in _SOFTMAX_FUNCTIONS})
globals().update({f.__name__: f for f in _SOFTMAX_FUNCTIONS})
# the dense layer's epilogue for every activation: f_bias, f_bias_fwd_grad,
# f_bias_backward (``_bias``)
_bias_functions = _bias.build_bias_functions(TABLE, _ALIASES)
globals().update(_bias_functions)
_bias_numba.register_bias(_bias_functions, TABLE)

# ... and makes them callable inside the user's @njit code (Numba overloads)
_numba.register_all(_functions, TABLE)

__all__ = [
    "ACCURACY_LEVELS",
    "TABLE",
    "get_accuracy",
    "get_num_threads",
    "reference",
    "set_accuracy",
    "set_num_threads",
    *_functions,
    *_gated_functions,
    "prelu",
    "prelu_backward",
    "rrelu",
    "rrelu_fwd_grad",
    "rrelu_backward",
    *(f.__name__ for f in _SOFTMAX_FUNCTIONS),
    *_bias_functions,
]

"""fastgrad: activation functions and their gradients as compiled, vectorised kernels.

For each activation ``f`` in the table (``fastgrad.TABLE``): ``f(x)``, ``f_grad(x)``,
``f_backward(grad_out, x)``, ``f_fwd_grad(x)``, all with ``out=``. Kernels compile on
first use per dtype (and are cached on disk); importing fastgrad compiles nothing.
``fastgrad.reference`` holds the plain NumPy versions.
"""

from . import reference
from ._api import build_public_functions
from ._table import TABLE
from ._threads import get_num_threads, set_num_threads

_functions = build_public_functions(TABLE)

relu = _functions["relu"]
relu_grad = _functions["relu_grad"]
relu_backward = _functions["relu_backward"]
relu_fwd_grad = _functions["relu_fwd_grad"]

sigmoid = _functions["sigmoid"]
sigmoid_grad = _functions["sigmoid_grad"]
sigmoid_backward = _functions["sigmoid_backward"]
sigmoid_fwd_grad = _functions["sigmoid_fwd_grad"]

softplus = _functions["softplus"]
softplus_grad = _functions["softplus_grad"]
softplus_backward = _functions["softplus_backward"]
softplus_fwd_grad = _functions["softplus_fwd_grad"]

__all__ = [
    "TABLE",
    "get_num_threads",
    "reference",
    "set_num_threads",
    *_functions,
]
__version__ = "0.1.0"

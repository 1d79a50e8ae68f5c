"""The math of each activation: scalar forward and derivative, side by side.

Each activation is a function ``name(F, m) -> (forward, derivative)`` that builds the two
scalar functions for one dtype: ``F`` is the NumPy scalar type (np.float32 or np.float64),
so constants are written ``F(1)`` and never promote a float32 computation to float64, and
``m`` is ``fastgrad._math.elementary(F)``, the vectorisable exp/log1p of that dtype.
Both scalars take ``(x, a, b)``: ``a`` and ``b`` are the activation's numeric parameters
(unused slots are ignored), so every activation fits the same array kernels.
The docstring of each builder is the math statement shown in the public docstrings.
"""

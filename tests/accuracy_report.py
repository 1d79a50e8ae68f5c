"""Print the maximum error in ulps of every forward and derivative (mpmath oracle).

    python tests/accuracy_report.py        (or: make accuracy)

The same sweep ``test_accuracy.py`` asserts on: uniform points in [-40, 40], log-spaced
magnitudes out to the dtype's largest finite value (both signs), [1e-3, 800] log-spaced
(both signs), and the special values; ulps as defined in ``oracle.ulp_errors``.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from conftest import param_sets, public  # noqa: E402
from oracle import truth, ulp_errors  # noqa: E402
from test_accuracy import rounded, sweep  # noqa: E402

from fastgrad._table import TABLE  # noqa: E402


def main():
    print("| activation | parameters | dtype | forward max ulps | derivative max ulps |")
    print("|---|---|---|---|---|")
    for act in TABLE:
        for params in param_sets(act):
            for dtype in (np.float32, np.float64):
                xs = sweep(dtype)
                outs = public(act, "_fwd_grad")(xs, **params)
                worst = [
                    ulp_errors(got, truth(act.name, which, xs, rounded(params, dtype)), dtype).max()
                    for which, got in enumerate(outs)
                ]
                label = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
                print(
                    f"| {act.name} | {label} | {np.dtype(dtype).name} | "
                    f"{worst[0]:.2f} | {worst[1]:.2f} |"
                )


if __name__ == "__main__":
    main()

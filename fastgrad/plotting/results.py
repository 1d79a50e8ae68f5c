"""The one reader of pytest-benchmark JSON (``make bench`` writes it): the speed figures
(``speed``) and the benchmark report (``bench/report.py``) read results through it.

Each benchmark records what it measured in ``extra_info``: a kernel call has
``activation``, ``kind``, ``dtype``, ``n`` and ``impl``; a whole program's step (the MLP,
the side-by-side studies) names its ``program`` and its own keys.
"""

import json
import pathlib


class BenchResults:
    """One saved run: its benchmarks' medians, keyed by what they measured."""

    def __init__(self, bench_json):
        data = json.loads(pathlib.Path(bench_json).read_text())
        self._benchmarks = data["benchmarks"]
        self.machine_info = data.get("machine_info", {})

    def kernel_medians(self):
        """{(activation, kind, dtype, n, impl): median seconds} of the kernel calls."""
        medians = {}
        for b in self._benchmarks:
            info = b["extra_info"]
            if "program" in info:
                continue
            key = (info["activation"], info["kind"], info["dtype"], info["n"], info["impl"])
            medians[key] = b["stats"]["median"]
        return medians

    def program(self, name, key):
        """{tuple of ``key``'s fields: extra info plus ``median``} of program ``name``."""
        rows = {}
        for b in self._benchmarks:
            info = b["extra_info"]
            if info.get("program") == name:
                rows[tuple(info[k] for k in key)] = dict(info, median=b["stats"]["median"])
        return rows


def load_medians(bench_json):
    """{(activation, kind, dtype, n, impl): median seconds} from pytest-benchmark JSON."""
    return BenchResults(bench_json).kernel_medians()

"""The measuring harness, shared by the tests, the benchmarks and the tools, and not part
of the installed package: the mpmath oracle (``oracle``), the peers PyTorch and ONNX
Runtime (``peers``, ``torch_peers``), the accuracy and parity sweeps (``accuracy``,
``parity``), what they run (``cases``: dtypes, parameter sets, a dtype's hard places)
and the machine they ran on (``machine``).
"""

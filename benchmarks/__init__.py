"""valuegrad's benchmark suite: ``python -m benchmarks [--quick|--tiny]``.

valuegrad's native engine (compiled by Cython), its pure-Python engine and
``valuegrad.compile``, side by side with micrograd and PyTorch in one run. See
`benchmarks.runner` for what is measured and how, `benchmarks.engines` for how each
row's engine is chosen and checked, `benchmarks.report` for the report and
`benchmarks.targets` for the figures against the project's goals.
"""

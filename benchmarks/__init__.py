"""valuegrad's benchmark suite against micrograd and PyTorch: ``python -m benchmarks [--quick|--tiny]``.

See `benchmarks.runner` for what is measured and how, and for the interface of
the compiled-valuegrad demo (``benchmarks/demo_compiled.py``).
"""

"""Benchmark scripts (not tests): each measures its candidates side by side in one process and writes a
results file that ``benchmarks.report`` turns into the README's results section."""

"""`make bench`: the data generator (`python -m dev.bench.seed`) and the benchmark runner (`python -m dev.bench`)."""

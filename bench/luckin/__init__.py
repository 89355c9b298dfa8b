"""One merchant at Luckin Coffee's scale on PostgreSQL, for ``bench/bench_luckin.py``.

``build.py`` writes the dataset into its own database (``siyu_bench_luckin``) once and
reuses it between runs; see its docstring.
"""

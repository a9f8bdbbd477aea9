"""Tabular benchmarks: every member of a space trained once per seed into one Parquet table (`build.tabulate`,
`python -m runners.tabulate`), and searches replayed against it, through Ray Tune (`runners.search --benchmark`)
or in this process (`replay`)."""
from nasbench.tabular.replay import replay
from nasbench.tabular.table import Table, TableError, TableRow

__all__ = ["Table", "TableError", "TableRow", "replay"]

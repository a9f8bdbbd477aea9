"""Tune's per-trial logs of a search. A trained search keeps Tune's defaults (CSV, JSON and TensorBoard files in each
Ray trial folder); a search replayed from a table keeps the CSV and JSON files (Tune's end-of-run analysis reads
them) but writes no TensorBoard event files of replayed curves, which cost the driver ~17 ms a trial on 2 cores,
more than the rest of a replayed trial."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from nasbench.search.settings import SearchSettings

NO_DEFAULT_LOGGERS = "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"  # Tune's switch, read when a run starts


def trial_loggers(settings: SearchSettings) -> list:
    """The logger callbacks a search passes to Tune itself: CSV and JSON for a replay, none (Tune's) otherwise."""
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    return [CSVLoggerCallback(), JsonLoggerCallback()] if settings.benchmark else []


@contextlib.contextmanager
def default_loggers(settings: SearchSettings) -> Iterator[None]:
    """Around `Tuner.fit`: Tune's default loggers off for a replay (`trial_loggers` stand in for them), the
    environment as it was afterwards."""
    if not settings.benchmark:
        yield
        return
    before = os.environ.get(NO_DEFAULT_LOGGERS)
    os.environ[NO_DEFAULT_LOGGERS] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(NO_DEFAULT_LOGGERS, None)
        else:
            os.environ[NO_DEFAULT_LOGGERS] = before

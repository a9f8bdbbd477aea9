"""A tabular benchmark on disk: one Parquet row per (genome key, training seed) with per-epoch curves as lists, plus
a JSON manifest beside it (`<name>.manifest.json`) saying how the table was built.

`TableRow` is the row; its fields are the columns, in order, and `SCHEMA` their Arrow types. `read_table` opens a
table for lookups by genome key; a genome it does not hold is a one-line `TableError`."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nasbench import atomic
from nasbench.curves import Curve, TableError, TableIndex
from nasbench.curves import final as final  # where it was
from nasbench.genome import Genome

FORMAT = 1  # the manifest's "format": bumped when the columns change meaning


@dataclasses.dataclass(frozen=True)
class TableRow:
    """One training of one member: its ids, analytic cost, measured latency and per-epoch curves."""

    key: str                    # Genome.key()
    seed: int                   # the training seed (initialisation, batch order, dropout)
    genome: str                 # Genome.to_str()
    genome_json: str            # Genome.to_json()
    flops: int                  # analytic FLOPs (== fvcore: one multiply-add is one FLOP)
    params: int                 # analytic parameter count
    latency_ms: float           # measured CPU forward latency, batch 1
    val_accuracy: list[float]   # per epoch, on the validation split (what a search selects on)
    val_loss: list[float]
    test_accuracy: list[float]  # per epoch, on the test split (for reports, never for selection)
    test_loss: list[float]
    train_loss: list[float]
    time_s: list[float]         # training wall time up to the end of each epoch (test evaluation left out)
    wall_time_s: float          # the whole trial: data, latency, build, training
    failure_reason: str = ""    # why training stopped before its last epoch ("" when it finished)

    @property
    def epochs(self) -> int:
        return len(self.val_accuracy)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(cls, values) -> TableRow:
        """A row from a mapping holding every field (other keys are ignored)."""
        return cls(**{name: values[name] for name in COLUMNS})


ARROW_TYPES = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "list[float]": pa.list_(pa.float64())}
SCHEMA = pa.schema([(f.name, ARROW_TYPES[f.type]) for f in dataclasses.fields(TableRow)])
COLUMNS = tuple(SCHEMA.names)
CURVES = tuple(f.name for f in dataclasses.fields(TableRow) if f.type == "list[float]")


def manifest_path(path: str | Path) -> Path:
    """`<name>.manifest.json` beside `<name>.parquet`."""
    path = Path(path)
    return path.with_name(f"{path.stem}.manifest.json")


def write_rows(path: str | Path, rows: Iterable[TableRow]) -> None:
    """The table, atomically: rows sorted by key and seed, so a table's bytes depend only on its rows."""
    ordered = sorted(rows, key=lambda r: (r.key, r.seed))
    columns = {name: [getattr(r, name) for r in ordered] for name in COLUMNS}
    with atomic.atomic_path(path) as tmp:
        pq.write_table(pa.table(columns, schema=SCHEMA), tmp, compression="zstd")


def read_rows(path: str | Path) -> list[TableRow]:
    """Every row of a table file; TableError naming the file when it is missing or not a table."""
    return [TableRow.from_mapping(row) for row in _read_arrow(Path(path)).to_pylist()]


def write_manifest(path: str | Path, manifest: dict) -> None:
    atomic.write_text(manifest_path(path), json.dumps(manifest, indent=2))


def read_manifest(path: str | Path) -> dict:
    """The manifest of table `path`; TableError naming the file when it is missing or damaged."""
    where = manifest_path(path)
    if not where.is_file():
        raise TableError(f"{where} is missing: every table needs its manifest (python -m runners.tabulate writes "
                         "both)")
    manifest = atomic.read_json(where, TableError)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TableError(f"{where} is not a manifest of format {FORMAT}; rebuild the table")
    return manifest


def require_file(path: str | Path) -> Path:
    """`path`, or TableError when no file is there."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path} does not exist; pass a table built by python -m runners.tabulate")
    return path


def _read_arrow(path: Path) -> pa.Table:
    require_file(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise TableError(f"{path} is not a Parquet file ({str(exc).splitlines()[0]})") from None
    missing = [name for name in COLUMNS if name not in table.column_names]
    if missing:
        raise TableError(f"{path} is not a tabular benchmark: column {missing[0]} is missing")
    return table.select(list(COLUMNS))


class Table:
    """A table opened for lookups: `lookup(genome)` gives a member's recorded trainings, seed by seed."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.frame: pd.DataFrame = _read_arrow(self.path).to_pandas()
        self.manifest = read_manifest(self.path)
        curves: dict[str, list[Curve]] = {}
        records: dict[str, dict] = {}  # genome JSON -> the fields of its trial record known before training
        json_of_key: dict[str, str] = {}
        for row in self.frame.itertuples(index=False):
            curves.setdefault(row.key, []).append(
                Curve(int(row.seed), tuple(row.val_accuracy), tuple(row.test_accuracy), tuple(row.time_s),
                      float(row.latency_ms), row.failure_reason))
            records[row.genome_json] = {"genome": row.genome, "genome_json": row.genome_json, "key": row.key,
                                        "params": int(row.params), "flops": int(row.flops)}
            json_of_key.setdefault(row.key, row.genome_json)
        if not curves:
            raise TableError(f"{self.path} holds no rows; build it with python -m runners.tabulate")
        self.index = TableIndex(self.path.name, self.space, records, curves, json_of_key)  # what replay workers get

    @property
    def space(self) -> str:
        return self.manifest["space"]

    @property
    def input(self) -> dict:
        """in_chans, resolution and num_classes of every genome in the table."""
        return self.manifest["input"]

    @property
    def epochs(self) -> int:
        return int(self.manifest["settings"]["epochs"])

    def __len__(self) -> int:
        return len(self.index.curves)

    def __contains__(self, key: str) -> bool:
        return key in self.index.curves

    def lookup(self, genome: Genome) -> list[Curve]:
        """The recorded trainings of `genome`, seed by seed; TableError naming it when the table lacks it."""
        return self.find(genome.to_json())[1]

    def find(self, genome_json: str) -> tuple[dict, list[Curve]]:
        """The trial record's genome fields (ids, analytic params and FLOPs, as tabulated) and the recorded
        trainings of the genome `Genome.to_json()` wrote; TableError naming it when the table lacks it."""
        return self.index.find(genome_json)

"""The model card of a retrain folder: card.json (read back by `load_model` and the exporter, checked field by field)
and card.md, the same facts for people."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import statistics
from pathlib import Path

from nasbench import atomic
from nasbench.cost import analytic_cost
from nasbench.gene import GenomeError
from nasbench.genome import Genome

CARD_FILE = "card.json"
CARD_MARKDOWN = "card.md"
FORMAT = "nasbench-card/1"

# the fields every card has: dotted path -> type (a number may be an int or a float)
REQUIRED = {"format": str, "model": dict, "model.weights": str, "model.selected_seed": int, "genome": dict,
            "genome.string": str, "genome.json": dict, "genome.key": str, "cost": dict, "cost.params": int,
            "cost.flops": int, "latency": dict, "dataset": dict, "dataset.name": str, "dataset.in_chans": int,
            "dataset.resolution": int, "dataset.num_classes": int, "dataset.split_seed": int,
            "dataset.mean": list, "dataset.std": list, "recipe": dict, "accuracy": dict, "accuracy.val": dict,
            "accuracy.val.mean": float, "accuracy.test": dict, "accuracy.test.mean": float, "seeds": list,
            "origin": dict, "commands": list, "versions": dict, "created": str}
TYPE_WORDS = {str: "text", dict: "an object", list: "a list", int: "an integer", float: "a number"}
_MISSING = object()


class CardError(ValueError):
    """A retrain folder whose card or weights cannot be used; one line naming the file and what is wrong."""


@dataclasses.dataclass(frozen=True)
class Card:
    """A checked card: `fields` as written in card.json, `genome` the network it describes."""

    fields: dict
    genome: Genome

    @property
    def weights(self) -> str:
        return self.fields["model"]["weights"]

    @property
    def dataset(self) -> dict:
        return self.fields["dataset"]


def new_card(genome: Genome, *, weights: str, seeds: list[dict], dataset: dict, recipe: dict, latency: dict,
             origin: dict, commands: list[str], versions: dict, failed_seeds: list[dict] | None = None) -> dict:
    """The fields of a card: `seeds` are the finished seeds (seed, val_accuracy, test_accuracy, epochs, wall_time_s,
    resumed_from); the one with the best validation accuracy is the one whose weights ship."""
    best = best_seed(seeds)
    cost = analytic_cost(genome)
    return {"format": FORMAT,
            "model": {"weights": weights, "selected_seed": best["seed"],
                      "selection": "the seed with the best final validation accuracy"},
            "genome": {"string": genome.to_str(), "json": genome.to_dict(), "key": genome.key()},
            "cost": {"params": cost.params, "flops": cost.flops,
                     "convention": "fvcore: one multiply-add = one FLOP (analytic count, equal to fvcore's)"},
            "latency": latency, "dataset": dataset, "recipe": recipe,
            "accuracy": {"val": spread([s["val_accuracy"] for s in seeds]),
                         "test": spread([s["test_accuracy"] for s in seeds]),
                         "selected": {"val": best["val_accuracy"], "test": best["test_accuracy"]}},
            "seeds": seeds, "failed_seeds": failed_seeds or [], "origin": origin, "commands": commands,
            "versions": versions, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "exports": {}}


def best_seed(seeds: list[dict]) -> dict:
    """The seed whose weights ship: the best final validation accuracy (the lowest seed among equals)."""
    return max(seeds, key=lambda s: (s["val_accuracy"], -s["seed"]))


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation (None for one value), min and max."""
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else None,
            "min": min(values), "max": max(values)}


def read_card(folder: str | Path) -> Card:
    """The card of a retrain folder; CardError naming card.json and the first thing wrong with it."""
    path = Path(folder) / CARD_FILE
    if not path.is_file():
        raise CardError(f"{path}: no model card; pass a retrain folder (python -m runners.train --out DIR)")
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CardError(f"{path}: not valid JSON ({exc})") from None  # every card error starts "<card.json>: "
    return check_card(fields, path)


def check_card(fields: object, path: Path | str = CARD_FILE) -> Card:
    """`fields` as a Card; CardError naming `path`, the field at fault and what it should be."""
    if not isinstance(fields, dict):
        raise CardError(f"{path}: a card is a JSON object, got {type(fields).__name__}")
    if fields.get("format") != FORMAT:
        raise CardError(f"{path}: format is {fields.get('format')!r}, not {FORMAT!r}; it was not written by "
                        "python -m runners.train")
    for name, kind in REQUIRED.items():
        value = _lookup(fields, name)
        if value is _MISSING:
            raise CardError(f"{path}: {name} is missing")
        number = kind is float and isinstance(value, (int, float))
        if not (number or isinstance(value, kind)) or isinstance(value, bool):
            raise CardError(f"{path}: {name} must be {TYPE_WORDS[kind]}, got {json.dumps(value)[:60]}")
    try:
        genome = Genome.from_dict(fields["genome"]["json"])
    except GenomeError as exc:
        raise CardError(f"{path}: genome.json: {exc}") from None
    resolved, data = genome.resolved(), fields["dataset"]
    takes = (resolved.in_chans, resolved.resolution, resolved.num_classes)
    given = (data["in_chans"], data["resolution"], data["num_classes"])
    if takes != given:
        raise CardError(f"{path}: the genome takes {takes[0]}x{takes[1]}x{takes[1]} images into {takes[2]} classes "
                        f"but dataset says {given[0]}x{given[1]}x{given[1]} and {given[2]}")
    for name in ("mean", "std"):
        if len(data[name]) != data["in_chans"] or not all(isinstance(v, (int, float)) for v in data[name]):
            raise CardError(f"{path}: dataset.{name} must be {data['in_chans']} numbers, one per input channel")
    return Card(fields, genome)


def write_card(folder: str | Path, fields: dict) -> Card:
    """Check `fields` and write card.json and card.md into `folder`, each atomically."""
    folder = Path(folder)
    card = check_card(fields, folder / CARD_FILE)
    atomic.write_text(folder / CARD_FILE, json.dumps(fields, indent=2) + "\n")
    atomic.write_text(folder / CARD_MARKDOWN, markdown(card))
    return card


def markdown(card: Card) -> str:
    """card.md: the card's facts as a page."""
    f = card.fields
    data, cost, acc = f["dataset"], f["cost"], f["accuracy"]
    lines = [f"# Model card: {f['genome']['key']}", "",
             f"`{f['genome']['string']}`", "",
             "| | |", "|---|---|",
             f"| test accuracy | {_spread(acc['test'])} over {len(f['seeds'])} seed(s) |",
             f"| validation accuracy | {_spread(acc['val'])} |",
             f"| shipped weights | `{f['model']['weights']}`: seed {f['model']['selected_seed']} (best validation "
             f"accuracy) |",
             f"| parameters | {cost['params']:,} |",
             f"| FLOPs | {cost['flops']:,} (fvcore convention: one multiply-add = one FLOP) |",
             *(f"| latency ({device}, {value['device']}) | {_latency(value)} |"
               for device, value in f["latency"].items()),
             f"| input | {data['in_chans']}x{data['resolution']}x{data['resolution']} float32, pixel values in [0, 1] "
             f"normalised per channel with mean {_numbers(data['mean'])}, std {_numbers(data['std'])} |",
             f"| output | {data['num_classes']} logits |", "",
             "## Data", "",
             f"{data['name']}: {data.get('train')} train / {data.get('val')} validation / {data.get('test')} test "
             f"images, split seed {data['split_seed']}" + (f", at most {data['limit']} per split"
                                                           if data.get("limit") else "") + ".", "",
             "## Recipe", "", *(f"- {name}: {value}" for name, value in f["recipe"].items()), "",
             "## Seeds", "", "| seed | validation | test | epochs | training time (s) | resumed after epoch |",
             "|---|---|---|---|---|---|",
             *(f"| {s['seed']} | {s['val_accuracy']:.4f} | {s['test_accuracy']:.4f} | {s['epochs']} | "
               f"{s['wall_time_s']:.1f} | {s['resumed_from'] or '-'} |" for s in f["seeds"]), "",
             "## Origin", "", *(f"- {name}: {_text(value)}" for name, value in f["origin"].items()), "",
             "## Reproduce", "", "```", *f["commands"], "```", ""]
    if f.get("exports"):
        lines += ["## Exports", "", "| file | format | largest logit difference vs PyTorch | tolerance | images |",
                  "|---|---|---|---|---|",
                  *(f"| `{e['file']}` | {name} | {e['max_abs_diff']:.2e} | {e['tolerance']:.0e} | {e['images']} |"
                    for name, e in f["exports"].items()), ""]
    lines += ["## Versions", "", ", ".join(f"{name} {version}" for name, version in f["versions"].items()), "",
              f"Written {f['created']}.", ""]
    return "\n".join(lines)


def _lookup(fields: dict, dotted: str) -> object:
    value: object = fields
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _spread(summary: dict) -> str:
    std = summary.get("std")
    return f"{summary['mean']:.4f}" + (f" ± {std:.4f}" if std is not None else "")


def _latency(value: dict) -> str:
    return (f"{value['batch_1_ms']:.2f} ms at batch 1; {value['batch_ms']:.2f} ms at batch {value['batch']} "
            f"({value['images_per_s']:,.0f} images/s)")


def _text(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{name} {_text(item)}" for name, item in value.items())
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _numbers(values: list) -> str:
    return "(" + ", ".join(f"{v:.4f}" for v in values) + ")"

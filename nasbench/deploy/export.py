"""Export a retrained model to ONNX and TorchScript beside its weights, each file checked before it is kept: it is
run (onnxruntime, torch.jit.load) on a batch of the dataset's test images and refused when its logits differ from
PyTorch's by more than a stated tolerance. The card records what was written and the difference measured."""
from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nasbench import atomic
from nasbench.data import load_dataset
from nasbench.deploy.card import read_card, write_card
from nasbench.deploy.load import load_model

FILES = {"onnx": "model.onnx", "torchscript": "model.ts"}
FORMATS = tuple(FILES)
TOLERANCE = 1e-4  # largest absolute difference of a logit accepted (measured: 1e-8 to 1e-6 on CPU)
EXAMPLE_BATCH = 2  # the batch size traced; ONNX files take any batch size (TorchScript traces of these CNNs too)


@dataclasses.dataclass(frozen=True)
class Exported:
    format: str
    path: Path
    max_abs_diff: float  # against PyTorch's logits on `images` test images
    images: int
    tolerance: float


class ExportMismatch(RuntimeError):
    """An exported model whose logits differ from PyTorch's beyond the tolerance; its file is not written."""


def export_model(folder: str | Path, formats: Sequence[str] = FORMATS, tolerance: float = TOLERANCE,
                 images: int = 64, data_dir: str | None = None,
                 log: Callable[[Exported], object] | None = None) -> list[Exported]:
    """Write each format's file into the retrain `folder`, checked on `images` test images (from the card's
    dataset; `data_dir` where its files are elsewhere now), and record it in the card. ExportMismatch, with nothing
    written for that format, when its logits differ by more than `tolerance`; `log` sees each file written."""
    unknown = [f for f in formats if f not in FILES]
    if unknown or not formats:
        raise ValueError(f"unknown export format {', '.join(unknown) or '(none)'}; known: {', '.join(FORMATS)}")
    if images < 1 or not tolerance >= 0:
        raise ValueError(f"images must be at least 1 and tolerance zero or positive (got {images}, {tolerance})")
    missing = [p for p in ("onnx", "onnxscript", "onnxruntime") if "onnx" in formats and not find_spec(p)]
    if missing:
        raise ValueError(f"ONNX export needs {', '.join(missing)}: pip install 'nasbench[export]'")
    folder = Path(folder)
    card, model = read_card(folder), load_model(folder)
    data = card.dataset
    dataset = load_dataset(data["name"], data_dir or data.get("data_dir"), data["resolution"], seed=data["split_seed"],
                           limit=data.get("limit"))
    batch = dataset.test.images[:images]
    with torch.inference_mode():
        reference = model(batch).numpy()
    done = []
    for name in formats:
        path = folder / FILES[name]
        with atomic.atomic_path(path) as tmp:
            outputs = WRITERS[name](model, batch, tmp)
            diff = float(np.abs(outputs - reference).max())
            if diff > tolerance:
                raise ExportMismatch(f"{path.name}: its logits differ from PyTorch's by up to {diff:.2e} on "
                                     f"{len(batch)} test images, more than the tolerance {tolerance:g}; not written")
        exported = Exported(name, path, diff, len(batch), tolerance)
        card = write_card(folder, {**card.fields, "exports": {**card.fields.get("exports", {}), name: {
            "file": path.name, "max_abs_diff": diff, "tolerance": tolerance, "images": len(batch),
            "how": exporter(name)}}})
        done.append(exported)
        if log is not None:
            log(exported)
    return done


def onnx_logits(model: nn.Module, batch: torch.Tensor, path: Path) -> np.ndarray:
    """Write `model` as ONNX (torch.export-based exporter, a dynamic batch dimension) and run it with onnxruntime."""
    import onnxruntime

    torch.onnx.export(model, (batch[:EXAMPLE_BATCH],), path, dynamo=True, input_names=["images"],
                      output_names=["logits"], dynamic_shapes=({0: torch.export.Dim("batch")},),
                      external_data=False, verbose=False)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"images": batch.numpy()})[0]


def torchscript_logits(model: nn.Module, batch: torch.Tensor, path: Path) -> np.ndarray:
    """Write `model` as TorchScript (traced: these networks have no data-dependent control flow) and run the file."""
    with warnings.catch_warnings():  # torch 2.10+ marks torch.jit deprecated; TorchScript is still what is asked for
        warnings.simplefilter("ignore", FutureWarning)
        with torch.no_grad():
            torch.jit.save(torch.jit.trace(model, batch[:EXAMPLE_BATCH]), str(path))
            return torch.jit.load(str(path), map_location="cpu")(batch).numpy()


def exporter(name: str) -> str:
    """How a format's file was written and checked, as the card records it."""
    if name == "onnx":
        return (f"torch.onnx.export(dynamo=True) with onnxscript {version('onnxscript')}, checked with onnxruntime "
                f"{version('onnxruntime')}")
    return f"torch.jit.trace (torch {torch.__version__}), checked with torch.jit.load"


WRITERS = {"onnx": onnx_logits, "torchscript": torchscript_logits}

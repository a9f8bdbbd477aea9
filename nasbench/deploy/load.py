"""A retrained model ready for inference: its network built from the card's genome, its weights loaded from the
weights file the card names (weights_only: a checkpoint is never unpickled)."""
from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import nn

from nasbench.build import build
from nasbench.deploy.card import CardError, read_card


def load_model(folder: str | Path, key: str | None = None) -> nn.Module:
    """The model of a retrain folder (card.json + model.pt), in eval mode on the CPU; CardError naming the file at
    fault. With `key`, `folder` is a search run and the model is that front member with its proxy weights
    (`nasbench.search.load_model`)."""
    if key is not None:
        from nasbench.search.results import load_model as load_front_member  # pandas and Optuna only when asked

        return load_front_member(folder, key)
    card = read_card(folder)
    path = Path(folder) / card.weights
    if not path.is_file():
        raise CardError(f"{path}: missing; the card names it as the model's weights")
    try:
        weights = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        raise CardError(f"{path}: cannot load it ({_one_line(exc)})") from None
    model = build(card.genome)
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CardError(f"{path} does not fit the card's genome ({_one_line(exc)})") from None
    return model.eval()


def _one_line(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text[:300] or type(exc).__name__

"""Activations by name: the names a gene may use and the modules they make."""
from __future__ import annotations

from torch import nn

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "silu", "sigmoid", "tanh", "hard_swish", "gelu")


def make_act(kind: str) -> nn.Module:
    """A fresh activation module (inplace where torch allows it, as torchvision does)."""
    factories = {
        "relu": lambda: nn.ReLU(inplace=True),
        "relu6": lambda: nn.ReLU6(inplace=True),
        "leaky_relu": lambda: nn.LeakyReLU(0.1, inplace=True),
        "prelu": nn.PReLU,
        "elu": lambda: nn.ELU(inplace=True),
        "selu": lambda: nn.SELU(inplace=True),
        "silu": lambda: nn.SiLU(inplace=True),
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "hard_swish": lambda: nn.Hardswish(inplace=True),
        "gelu": nn.GELU,
    }
    return factories[kind]()

"""Block library: one module per block family, each gene registered under its name.

Adding a block type = one new module here (auto-imported) + its tests.
"""
import importlib
import pkgutil

from nasbench.blocks.base import ACTIVATIONS, NORMS, REGISTRY, BlockGene, register
from nasbench.blocks.tally import Shape, Tally

_INFRASTRUCTURE = {"acts", "base", "tally", "attention", "layers"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["ACTIVATIONS", "NORMS", "REGISTRY", "BlockGene", "Shape", "Tally", "register"]

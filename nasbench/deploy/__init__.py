"""From a front member to a deployable model: retrain from scratch with the full recipe (`nasbench.deploy.retrain`),
a model card (`card`), ONNX and TorchScript exports checked against PyTorch (`export`), and `load_model`.

Importing this package is light: Ray, pandas and onnxruntime are imported by the modules that need them."""
from nasbench.deploy.card import Card, CardError, read_card
from nasbench.deploy.load import load_model

__all__ = ["Card", "CardError", "load_model", "read_card"]

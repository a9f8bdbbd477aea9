"""The retrain recipe: per-dataset augmentation, warm-up then cosine, label smoothing, an EMA of the weights, bf16
autocast and channels_last on CUDA; as the trainer's config of one seed and as the model card describes it."""
from __future__ import annotations

from nasbench.augment import DESCRIPTIONS
from nasbench.deploy.settings import RetrainSettings
from nasbench.train import TrainConfig

# augment="auto": a padded crop and flip for natural images, a small affine warp for digits (a flip changes a digit)
AUTO_AUGMENT = {"cifar10": "crop_flip", "cifar100": "crop_flip", "imagefolder": "crop_flip", "digits": "affine",
                "distorted_digits": "affine", "mnist": "affine", "fashion_mnist": "affine"}


def augmentation(settings: RetrainSettings) -> str:
    """The augmentation a retrain uses: the one asked for, or the dataset's under "auto"."""
    return AUTO_AUGMENT[settings.dataset] if settings.augment == "auto" else settings.augment


def train_config(settings: RetrainSettings, seed: int) -> TrainConfig:
    """The trainer's config of one seed (bf16 autocast applies on CUDA only; channels_last is the trainer's
    default everywhere, measured faster on CPU too)."""
    return TrainConfig(epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr,
                       weight_decay=settings.weight_decay, schedule="cosine", warmup_epochs=settings.warmup_epochs,
                       label_smoothing=settings.label_smoothing, ema_decay=settings.ema_decay,
                       augment=augmentation(settings), seed=seed)


def describe_recipe(settings: RetrainSettings) -> dict:
    """The recipe as the model card records it."""
    config = train_config(settings, 0)
    augment = augmentation(settings)
    return {"epochs": config.epochs, "batch_size": config.batch_size,
            "optimizer": f"SGD, momentum {config.momentum:g}" + (", Nesterov" if config.nesterov else ""),
            "lr": config.lr, "weight_decay": config.weight_decay,
            "schedule": f"linear warm-up over {config.warmup_epochs} epochs, then cosine decay to 0 (per step)",
            "warmup_epochs": config.warmup_epochs, "label_smoothing": config.label_smoothing,
            "ema_decay": config.ema_decay, "augment": augment, "augment_description": DESCRIPTIONS[augment],
            "precision": "bf16 autocast and channels_last on CUDA; float32 on CPU",
            "seeds": list(range(settings.seeds)), "selection": "the seed with the best final validation accuracy"}

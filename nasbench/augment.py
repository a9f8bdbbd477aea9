"""Training augmentations applied to whole batches on the device, each image drawn its own random transform.

Both are one random affine warp per image (`F.affine_grid` + `F.grid_sample`), so they run where the batch is;
the images are normalised, so the border they reveal is filled with the train mean (zero)."""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

AUGMENTATIONS = ("none", "crop_flip", "affine")
DESCRIPTIONS = {
    "none": "no augmentation",
    "crop_flip": "random crop of the image padded by 1/8 of its side (4 px at 32x32) and horizontal flip",
    "affine": "small random affine: rotation up to 10 degrees, shift up to 10%, scale 0.9-1.1",
}

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def augmenter(name: str) -> Augment | None:
    """The augmentation called `name` (None for "none"); ValueError for an unknown name."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(AUGMENTATIONS)}")
    return {"none": None, "crop_flip": crop_flip, "affine": affine}[name]


def crop_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A padded random crop (a whole-pixel shift of up to 1/8 of the side, as CIFAR's pad-4 crop) and a horizontal
    flip with probability 1/2, per image."""
    n, side = len(images), images.shape[-1]
    pad = max(1, side // 8)
    shift = torch.randint(-pad, pad + 1, (n, 2), generator=generator).float() * 2 / side  # whole pixels
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    return _warp(images, angle=torch.zeros(n), scale=torch.ones(n), flip=flip, shift=shift, mode="nearest")


def affine(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A small random affine per image: rotation within ±10 degrees, shift within ±10% and scale 0.9-1.1."""
    n = len(images)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(10)
    scale = 0.9 + torch.rand(n, generator=generator) * 0.2
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * 0.2  # 10% of the side is 0.2 in [-1, 1] coordinates
    return _warp(images, angle=angle, scale=scale, flip=torch.ones(n), shift=shift, mode="bilinear")


def _warp(images: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor, flip: torch.Tensor, shift: torch.Tensor,
          mode: str) -> torch.Tensor:
    """Sample each image at output coordinates mapped by its rotation, scale, flip and shift (drawn on the CPU);
    "nearest" keeps pixel values exact for whole-pixel moves."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1),
                         torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
    theta = theta.to(images.device, images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode=mode, padding_mode="zeros", align_corners=False)

"""Distorted digits: scikit-learn's bundled 8x8 digits, each drawn several times under a random affine warp
(rotation, scale, shear, translation), a smooth elastic displacement and pixel noise, in the manner of MNIST-rot and
the elastic distortions of Simard et al. (2003). Generated on the fly, deterministically, in about a second.

The source images are split 60/20/20 into train/val/test first and only then distorted, so no source digit appears
in two splits.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
import torch.nn.functional as F

from nasbench.data.dataset import RawSplit, three_way


@dataclasses.dataclass(frozen=True)
class Distortion:
    """How each source image is drawn; every draw takes its own uniform random values within these ranges."""

    canvas: int = 16                        # output size in pixels (the 8x8 source fills it before the warp)
    copies: tuple[int, int, int] = (5, 5, 5)  # distorted draws of each source image in train, val, test
    rotation: float = 45.0                  # degrees, either way
    scale: tuple[float, float] = (0.65, 1.0)
    shear: float = 0.3                      # horizontal shear factor, either way
    shift: float = 0.3                      # translation, as a fraction of the half-canvas, either way
    elastic: float = 0.2                    # peak displacement of the smooth random field, same unit as shift
    smoothness: float = 1 / 8               # Gaussian sigma of the elastic field, as a fraction of the canvas
    noise: float = 0.15                     # std of the additive Gaussian pixel noise (images are in [0, 1])


DISTORTED_DIGITS = Distortion()
GENERATOR_SEED = 20_261_202  # the distortions' own seed; the dataset seed picks the split and is added to it


def distorted_digits(seed: int, spec: Distortion = DISTORTED_DIGITS) -> tuple[RawSplit, RawSplit, RawSplit]:
    """The train, val and test splits of distorted digits for a split seed (float images in [0, 1])."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pool = RawSplit(torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None],
                    torch.from_numpy(digits.target.astype(np.int64)))
    generator = torch.Generator().manual_seed(GENERATOR_SEED + seed)
    return tuple(distort(split, copies, spec, generator) for split, copies in zip(three_way(pool, seed), spec.copies))


def distort(split: RawSplit, copies: int, spec: Distortion, generator: torch.Generator) -> RawSplit:
    """`copies` independently distorted draws of every image of a split, at spec.canvas x spec.canvas."""
    images = F.interpolate(split.images.repeat(copies, 1, 1, 1), size=(spec.canvas, spec.canvas), mode="bilinear",
                           align_corners=False)
    n = len(images)
    grid = F.affine_grid(affine_matrices(n, spec, generator), [n, 1, spec.canvas, spec.canvas], align_corners=False)
    if spec.elastic > 0:
        grid = grid + spec.elastic * elastic_field(n, spec, generator)
    warped = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    noisy = warped + spec.noise * torch.randn(warped.shape, generator=generator)
    return RawSplit(noisy.clamp_(0, 1), split.labels.repeat(copies))


def affine_matrices(n: int, spec: Distortion, generator: torch.Generator) -> torch.Tensor:
    """[n, 2, 3] maps from output to source coordinates (affine_grid's convention): rotate, shear, scale, shift."""
    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = uniform(-spec.rotation, spec.rotation) * (math.pi / 180)
    scale = uniform(*spec.scale)
    shear = uniform(-spec.shear, spec.shear)
    shift = torch.stack([uniform(-spec.shift, spec.shift), uniform(-spec.shift, spec.shift)], dim=1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotate_shear = torch.stack([torch.stack([cos, shear * cos - sin], dim=1),
                                torch.stack([sin, shear * sin + cos], dim=1)], dim=1)
    return torch.cat([rotate_shear / scale[:, None, None], shift[:, :, None]], dim=2)


def elastic_field(n: int, spec: Distortion, generator: torch.Generator) -> torch.Tensor:
    """[n, canvas, canvas, 2] smooth random displacements, each image's scaled to a peak of 1."""
    size = spec.canvas
    field = torch.rand(n * 2, 1, size, size, generator=generator) * 2 - 1
    sigma = spec.smoothness * size
    radius = size // 2
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-offsets**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    field = F.pad(field, (radius,) * 4, mode="reflect")
    field = F.conv2d(F.conv2d(field, kernel.view(1, 1, 1, -1)), kernel.view(1, 1, -1, 1)).view(n, 2, size, size)
    peak = field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
    return (field / peak).permute(0, 2, 3, 1)

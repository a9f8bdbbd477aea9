"""EfficientNet compound scaling: `rules` (rounding of scaled width, depth, resolution), `static` (B0..B7 and the
phi ladder against timm and the paper), `baselines`, `phi`, `empirical`, `tables`, `plots` and `grid` (the
small-scale experiments). `Genome.resolved()` applies a genome's `Scaling` with the rules."""
from nasbench.scaling.rules import CHANNEL_DIVISOR, scale_channels, scale_depth, scale_gene_width, scale_resolution

__all__ = ["CHANNEL_DIVISOR", "scale_channels", "scale_depth", "scale_gene_width", "scale_resolution"]

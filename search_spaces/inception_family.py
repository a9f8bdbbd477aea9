"""Inception networks: GoogLeNet (v1), Inception-v3's factorised modules and Xception ("extreme Inception").

v1 and v3: three groups of modules, each module with its own branch widths and 1x1 reductions; v1 groups are
separated by max pools and its third branch is 5x5 or (torchvision) 3x3; v3 factorises them (A: 5x5 and two
3x3, C: 1x7/7x1, E: 1x3/3x1 forks) with grid-reduction modules B and D between the groups. Xception replaces
the modules by residual blocks of depthwise-separable convs. Where the input is too small, a stem that would
collapse it is replaced by the CIFAR stem, a v1 pool shrinks to 2x2 and a v3 grid reduction is left out.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.blocks.inception import (
    InceptionAGene,
    InceptionBGene,
    InceptionCGene,
    InceptionDGene,
    InceptionEGene,
    InceptionV1Gene,
)
from nasbench.blocks.tally import Shape
from nasbench.blocks.xception import SepConvGene, XceptionGene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.space import Categorical, Integer, SearchSpace
from nasbench.zoo.stems import SMALL_INPUT
from search_spaces.base import advance, advance_all, merge_repeats

MAX_MODULES = 5
V3_MODULES = (InceptionAGene, InceptionCGene, InceptionEGene)  # the module of each group
V3_REDUCTIONS = (InceptionBGene, InceptionDGene)  # between groups 1-2 and 2-3
ENTRY_BLOCKS = 3


def width_aliases(gene_type) -> dict[str, str]:
    """Width field name -> its short alias (the parameter suffix)."""
    return {f.name: f.metadata["alias"] for f in dataclasses.fields(gene_type) if f.metadata.get("width")}


def _pool(kernel: int) -> Stage:
    return Stage(PoolGene(mode="max", kernel=kernel, ceil_mode=True), 1, 2)


def inception_stem(version: str, kind: str, act: str) -> tuple[Stage, ...]:
    """The version's own stem (GoogLeNet, Inception-v3, Xception), or a CIFAR stem of stride 1."""
    def conv(channels, kernel, padding=-1):
        return ConvGene(channels=channels, kernel=kernel, padding=padding, act=act)

    if version == "xception":
        padding = 0 if kind == "imagenet" else -1
        return Stage(conv(32, 3, padding), 1, 2 if kind == "imagenet" else 1), Stage(conv(64, 3, padding))
    if kind == "cifar":
        return (Stage(conv(192, 3)),)
    if version == "v1":
        return Stage(conv(64, 7), 1, 2), _pool(3), Stage(conv(64, 1)), Stage(conv(192, 3)), _pool(3)
    floor_pool = Stage(PoolGene(mode="max", kernel=3), 1, 2)
    return (Stage(conv(32, 3, 0), 1, 2), Stage(conv(32, 3, 0)), Stage(conv(64, 3)), floor_pool,
            Stage(conv(80, 1)), Stage(conv(192, 3, 0)), floor_pool)


class InceptionFamily(SearchSpace):
    name = "inception_family"
    summary = ("GoogLeNet / Inception-v3 / Xception: branch widths and 1x1 reductions per module, modules per "
               "group, factorisation")
    zoo_families = ("inception", "xception")

    def declare(self):
        specs = {
            "version": Categorical(("v1", "v3", "xception"), "GoogLeNet modules, Inception-v3 factorised modules "
                                                             "(A/C/E with B/D reductions), or Xception blocks"),
            "stem": Categorical(("imagenet", "cifar"), "the version's ImageNet stem, or a stride-1 stem for small "
                                                       "inputs"),
            "act": Categorical(("relu", "silu"), "activation everywhere"),
            "dropout": Categorical((0.0, 0.2, 0.5), "dropout before the classifier (GoogLeNet 0.2, v3 0.5)"),
            "kernel5": Categorical((3, 5), "kernel of the '5x5' branch (torchvision's GoogLeNet: 3)",
                                   when="version is v1"),
        }
        for g in range(3):
            specs[f"modules_{g}"] = Integer(1, MAX_MODULES, f"modules in group {g + 1}", log=True,
                                            when="version is v1 or v3")
            if g < 2:
                specs[f"pool_{g}"] = Categorical((2, 3), f"window of the max pool after group {g + 1}",
                                                 when="version is v1")
            aliases = sorted(set(width_aliases(InceptionV1Gene).values()) | set(width_aliases(V3_MODULES[g]).values()))
            for m in range(MAX_MODULES):
                for alias in aliases:
                    specs[f"g{g}m{m}_{alias}"] = Integer(4, 512, f"group {g + 1}, module {m + 1}: width of branch "
                                                                 f"conv '{alias}'", log=True,
                                                         when=f"modules_{g} > {m}")
        for r, gene_type in enumerate(V3_REDUCTIONS):
            for alias in width_aliases(gene_type).values():
                specs[f"r{r}_{alias}"] = Integer(4, 512, f"grid reduction {r + 1} ({gene_type.kind}): width of "
                                                         f"branch conv '{alias}'", log=True, when="version is v3")
        for i in range(ENTRY_BLOCKS):
            specs[f"entry_{i}"] = Integer(16, 2048, f"Xception entry block {i + 1}: channels (stride 2)", log=True,
                                          when="version is xception")
        specs.update({
            "middle_blocks": Integer(1, 8, "Xception middle-flow blocks", when="version is xception"),
            "middle_width": Integer(16, 2048, "Xception middle-flow channels", log=True, when="version is xception"),
            "exit_width": Integer(16, 2048, "Xception exit block channels (stride 2)", log=True,
                                  when="version is xception"),
            "sep_0": Integer(16, 2048, "Xception first separable conv after the exit block", log=True,
                             when="version is xception"),
            "sep_1": Integer(16, 2048, "Xception second separable conv", log=True, when="version is xception"),
        })
        return specs

    # ---- build -------------------------------------------------------------------------------------------------
    def build(self, trial) -> Genome:
        version = self.suggest(trial, "version")
        stem_kind = self.suggest(trial, "stem")
        act = self.suggest(trial, "act")
        dropout = self.suggest(trial, "dropout")
        x = Shape(self.in_chans, self.resolution, self.resolution)
        stem = inception_stem(version, stem_kind, act)
        if advance_all(x, stem) is None:
            stem = inception_stem(version, "cifar", act)
        x = advance_all(x, stem)
        body = {"v1": self._v1, "v3": self._v3, "xception": self._xception}[version](trial, act, x)
        return Genome(stages=merge_repeats(body), stem=stem, head=Head(dropout=dropout), in_chans=self.in_chans,
                      resolution=self.resolution, num_classes=self.num_classes)

    def _module(self, trial, gene_type, prefix: str, **fields):
        widths = {name: self.suggest(trial, f"{prefix}_{alias}") for name, alias in width_aliases(gene_type).items()}
        return gene_type(**widths, **fields)

    def _v1(self, trial, act: str, x: Shape) -> list[Stage]:
        kernel = self.suggest(trial, "kernel5")
        stages: list[Stage] = []
        for g in range(3):
            for m in range(self.suggest(trial, f"modules_{g}")):
                stage = Stage(self._module(trial, InceptionV1Gene, f"g{g}m{m}", kernel=kernel, act=act))
                stages.append(stage)
                x = advance(x, stage)
            if g < 2:
                pool = _pool(self.suggest(trial, f"pool_{g}"))
                pool = pool if advance(x, pool) is not None else _pool(2)  # 2x2 ceil-mode pools never collapse
                stages.append(pool)
                x = advance(x, pool)
        return stages

    def _v3(self, trial, act: str, x: Shape) -> list[Stage]:
        stages: list[Stage] = []
        for g, gene_type in enumerate(V3_MODULES):
            for m in range(self.suggest(trial, f"modules_{g}")):
                stage = Stage(self._module(trial, gene_type, f"g{g}m{m}", act=act))
                stages.append(stage)
                x = advance(x, stage)
            if g < 2:
                reduction = Stage(self._module(trial, V3_REDUCTIONS[g], f"r{g}", act=act), 1, 2)
                after = advance(x, reduction)
                if after is not None:
                    stages.append(reduction)
                    x = after
        return stages

    def _xception(self, trial, act: str, x: Shape) -> list[Stage]:
        stages = [Stage(XceptionGene(channels=self.suggest(trial, f"entry_{i}"), reps=2, start_with_relu=i > 0,
                                     act=act), 1, 2) for i in range(ENTRY_BLOCKS)]
        middle = self.suggest(trial, "middle_blocks")
        stages.append(Stage(XceptionGene(channels=self.suggest(trial, "middle_width"), reps=3, act=act), middle))
        stages.append(Stage(XceptionGene(channels=self.suggest(trial, "exit_width"), reps=2, grow_first=False,
                                         act=act), 1, 2))
        stages += [Stage(SepConvGene(channels=self.suggest(trial, f"sep_{i}"), act=act)) for i in range(2)]
        return stages

    # ---- read --------------------------------------------------------------------------------------------------
    def read(self, genome: Genome) -> dict[str, Any]:
        kinds = {s.block.kind for s in genome.stages}
        version = "xception" if "xception" in kinds else ("v1" if "inception" in kinds else "v3")
        first = genome.stages[0].block
        cifar = genome.stem[0].stride == 1 if version == "xception" else len(genome.stem) == 1
        params: dict[str, Any] = {"version": version, "stem": "cifar" if cifar else "imagenet", "act": first.act,
                                  "dropout": genome.head.dropout}
        modules = [stage.block for stage in genome.stages for _ in range(stage.depth)]
        if version == "xception":
            blocks = [s for s in genome.stages if s.block.kind == "xception"]
            params.update({f"entry_{i}": s.block.channels for i, s in enumerate(blocks[:ENTRY_BLOCKS])})
            params.update(middle_blocks=blocks[ENTRY_BLOCKS].depth, middle_width=blocks[ENTRY_BLOCKS].block.channels,
                          exit_width=blocks[ENTRY_BLOCKS + 1].block.channels)
            seps = [s.block.channels for s in genome.stages if s.block.kind == "sepconv" for _ in range(s.depth)]
            params.update({f"sep_{i}": c for i, c in enumerate(seps)})
            return params
        groups: list[list] = [[], [], []]
        g = 0
        for gene in modules:
            if gene.kind == "pool":
                params[f"pool_{g}"] = gene.kernel
                g += 1
            elif gene.kind in ("inception_b", "inception_d"):
                continue
            else:
                if version == "v3":
                    g = [t.kind for t in V3_MODULES].index(gene.kind)
                else:
                    params["kernel5"] = gene.kernel
                groups[g].append(gene)
        for g, genes in enumerate(groups):
            params[f"modules_{g}"] = len(genes)
            for m, gene in enumerate(genes):
                params.update({f"g{g}m{m}_{alias}": getattr(gene, name)
                               for name, alias in width_aliases(type(gene)).items()})
        for r, gene_type in enumerate(V3_REDUCTIONS):
            found = [gene for gene in modules if isinstance(gene, gene_type)]
            reduction = found[0] if found else gene_type()  # a reduction left out on a small input
            params.update({f"r{r}_{alias}": getattr(reduction, name)
                           for name, alias in width_aliases(gene_type).items()})
        return params

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "stem": "cifar" if self.resolution <= SMALL_INPUT else "imagenet"}

"""Blocks and search spaces of installed packages: a tiny plugin wheel is installed with pip into a folder, and a
fresh process (and the Ray workers of a search) finds its block and its space by name through entry points."""
from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from nasbench import Genome, GenomeError

PLUGIN = "nasbench_demo_plugin"
PLUGIN_CODE = '''
"""A block of two 3x3 conv-BN-ReLU layers and a one-stage space of it: the demo plugin of nasbench's tests."""
import dataclasses
from typing import ClassVar

from torch import nn

from nasbench.blocks import BlockGene
from nasbench.blocks.base import conv_norm_act, conv_norm_act_cost
from nasbench.gene import gene_field
from nasbench.genome import Genome, Stage
from nasbench.space import Integer, SearchSpace


@dataclasses.dataclass(frozen=True)
class TwinConvGene(BlockGene):
    kind: ClassVar[str] = "twin_conv"

    channels: int = gene_field(16, alias="c", min=1, width=True, doc="output channels of both convs")

    def out_chans(self, in_chans):
        return self.channels

    def build(self, in_chans, stride):
        return nn.Sequential(conv_norm_act(in_chans, self.channels, 3, stride),
                             conv_norm_act(self.channels, self.channels, 3))

    def cost(self, t, x, stride):
        return conv_norm_act_cost(t, conv_norm_act_cost(t, x, self.channels, 3, stride), self.channels, 3)


class TwinDemoSpace(SearchSpace):
    name = "twin_demo"
    summary = "one stage of twin_conv blocks"

    def declare(self):
        return {"width": Integer(4, 12, "channels"), "blocks": Integer(1, 2, "blocks")}

    def build(self, trial):
        stage = Stage(TwinConvGene(channels=self.suggest(trial, "width")), self.suggest(trial, "blocks"), 2)
        return Genome(stages=(stage,), in_chans=self.in_chans, resolution=self.resolution,
                      num_classes=self.num_classes)

    def read(self, genome):
        return {"width": genome.stages[0].block.channels, "blocks": genome.stages[0].depth}
'''
ENTRY_POINTS = f"""[nasbench.blocks]
twin_conv = {PLUGIN}:TwinConvGene
broken_block = {PLUGIN}_missing:Nothing
not_a_block = {PLUGIN}:TwinDemoSpace

[nasbench.spaces]
twin_demo = {PLUGIN}:TwinDemoSpace
"""
GENOME = "i=1,r=16,n=10|body:twin_conv(s=2,c=8)|head:"
# conv 1->8 (72) + BN (16) + conv 8->8 (576) + BN (16) + linear 8->10 (90)
GENOME_PARAMS = 72 + 16 + 576 + 16 + 90


def _wheel(folder: Path) -> Path:
    """The plugin as a wheel, written the way a build backend writes one (with its RECORD of hashes)."""
    info = f"{PLUGIN}-0.1.dist-info"
    files = {f"{PLUGIN}/__init__.py": PLUGIN_CODE,
             f"{info}/METADATA": "Metadata-Version: 2.1\nName: nasbench-demo-plugin\nVersion: 0.1\n",
             f"{info}/WHEEL": ("Wheel-Version: 1.0\nGenerator: nasbench-tests\nRoot-Is-Purelib: true\n"
                               "Tag: py3-none-any\n"),
             f"{info}/entry_points.txt": ENTRY_POINTS}
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    path = folder / f"{PLUGIN}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A folder the plugin is installed into with pip; put it on PYTHONPATH to have the plugin installed."""
    folder = tmp_path_factory.mktemp("plugin")
    site = folder / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(site), str(_wheel(folder))], check=True)
    return site


def _with_plugin(site: Path) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


def test_an_uninstalled_block_is_unknown():
    with pytest.raises(GenomeError, match=r"unknown block 'twin_conv'.*found once that package is installed"):
        Genome.from_str(GENOME)


def test_a_fresh_process_finds_an_installed_block_from_a_genome_string_and_json(installed):
    script = textwrap.dedent(f"""
        from nasbench import Genome
        from nasbench.cost import analytic_cost, fvcore_cost
        from nasbench.blocks import REGISTRY
        genome = Genome.from_str({GENOME!r})
        again = Genome.from_json(genome.to_json())
        cost, measured = analytic_cost(genome), fvcore_cost(genome)
        listed = "twin_conv" in REGISTRY.names()
        print(again == genome, cost.params, cost.flops, measured.params, measured.flops, listed)
    """)
    out = subprocess.run([sys.executable, "-c", script], env=_with_plugin(installed), capture_output=True, text=True,
                         check=True).stdout.split()
    equal, params, flops, fv_params, fv_flops, listed = out
    assert (equal, listed) == ("True", "True")
    assert int(params) == int(fv_params) == GENOME_PARAMS and int(flops) == int(fv_flops) > 0


@pytest.mark.parametrize(("block", "reason"), [
    ("broken_block", "block 'broken_block' of the installed package nasbench-demo-plugin "
                     f"\\({PLUGIN}_missing:Nothing\\) failed to load: ModuleNotFoundError"),
    ("not_a_block", "block 'not_a_block' of .* is not a BlockGene subclass whose kind is 'not_a_block'"),
])
def test_a_broken_plugin_block_is_named_with_its_package(installed, monkeypatch, block, reason):
    monkeypatch.syspath_prepend(str(installed))
    with pytest.raises(GenomeError, match=reason) as caught:
        Genome.from_str(f"i=1,r=16,n=10|body:{block}(c=8)|head:")
    assert caught.value.path == "stages[0].block"


@pytest.mark.slow
def test_a_search_of_an_installed_space_trains_its_block_in_ray_workers(installed, tmp_path):
    out = tmp_path / "runs"
    done = subprocess.run([sys.executable, "-m", "runners.search", "--space", "twin_demo", "--trials", "2",
                           "--epochs", "1", "--limit", "64", "--concurrency", "1", "--results-dir", str(out)],
                          env=_with_plugin(installed), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    trials = pd.read_csv(next(out.glob("twin_demo/*/trials.csv")))
    assert list(trials.state) == ["COMPLETE", "COMPLETE"]
    assert trials.genome.str.contains("twin_conv").all() and (trials.accuracy > 0).all()

"""nasbench.cost: fvcore counts (quietly), the analytic twin on hand-checked networks, and measured latency."""
import math
import subprocess
import sys

import pytest
import torch

from nasbench import build, zoo
from nasbench.cost import analytic_cost, fvcore_cost, measure_latency


def test_fvcore_cost_of_resnet20_counts_params_flops_and_activations():
    measured = fvcore_cost(zoo.get("resnet20"))
    assert (measured.params, measured.flops) == (269_722, 40_931_968) == analytic_cost(zoo.get("resnet20"))
    assert measured.activations > 0


def test_lenet5_by_hand():
    """conv 1->6 5x5 on 32x32 (28x28 out), pool, conv 6->16 5x5 (10x10 out), pool, FC 400-120-84-10."""
    params = (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    conv_flops = 6 * 25 * 28 * 28 + 16 * 6 * 25 * 10 * 10
    fc_flops = 400 * 120 + 120 * 84 + 84 * 10
    cost = analytic_cost(zoo.get("lenet5"))
    assert cost.params == params == 61_706
    assert conv_flops + fc_flops <= cost.flops == fvcore_cost(zoo.get("lenet5")).flops


@pytest.mark.slow
def test_fvcore_is_silent_in_a_fresh_interpreter():
    """fvcore scripts a function with torch.jit.script on import and logs unsupported ops: none of it reaches users."""
    code = ("import warnings; warnings.simplefilter('error'); from nasbench import zoo; "
            "from nasbench.cost import fvcore_cost; print(fvcore_cost(zoo.get('googlenet')).flops)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(analytic_cost(zoo.get("googlenet")).flops) and done.stderr == ""


def test_measure_latency_of_a_genome_and_of_a_module():
    genome = zoo.get("resnet20").with_input(in_chans=1, resolution=16, num_classes=10)
    ms = measure_latency(genome, batch=2, warmup=1, repeats=3)
    assert math.isfinite(ms) and ms > 0
    model = build(genome)
    model.train()
    ms = measure_latency(model, batch=2, resolution=16, in_chans=1, warmup=1, repeats=3, channels_last=True)
    assert math.isfinite(ms) and ms > 0
    with pytest.raises(ValueError, match="needs resolution= and in_chans="):
        measure_latency(model)


@pytest.mark.slow
def test_measure_latency_median_follows_the_work():
    """A network with 16x the FLOPs of another takes longer: the timing measures the model, not overhead."""
    torch.manual_seed(0)
    small = zoo.get("resnet20").with_input(in_chans=1, resolution=16, num_classes=10)
    large = zoo.get("resnet20").with_input(in_chans=1, resolution=64, num_classes=10)
    assert analytic_cost(large).flops > 15 * analytic_cost(small).flops
    assert measure_latency(large, batch=8, repeats=5) > measure_latency(small, batch=8, repeats=5)

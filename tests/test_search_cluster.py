"""A search on a two-node Ray cluster (both nodes on localhost) schedules trials on both nodes."""
import pytest
import ray
from conftest import search, search_settings, trained_rows
from ray.cluster_utils import Cluster

pytestmark = pytest.mark.slow


def test_trials_run_on_both_nodes(tmp_path):
    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    node_ids = {cluster.head_node.node_id, worker.node_id}
    try:
        # with actor reuse, the head node's warm actor may take every trial while the worker's actor starts up;
        # a fresh actor per trial keeps each trial on the node where its resources were reserved
        outcome = search(search_settings(tmp_path, trials=2, limit=64, reuse_actors=False,
                                         address=cluster.address))
    finally:
        cluster.shutdown()
    table = trained_rows(outcome.trials)
    assert len(table) == 2 and set(table["state"]) <= {"COMPLETE", "FAIL"}
    nodes = set(table["node_id"])
    assert nodes == node_ids, nodes

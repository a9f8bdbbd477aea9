"""A search on a two-node Ray cluster (both nodes on localhost) schedules trials on both nodes."""
import ray
from ray.cluster_utils import Cluster

from nasbench.search import SearchSettings, run_search


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
        outcome = run_search(SearchSettings(space="resnet_family", trials=2, epochs=1, limit=128, batch_size=32,
                                            max_flops=5e6, reuse_actors=False, results_dir=str(tmp_path),
                                            address=cluster.address))
    finally:
        cluster.shutdown()
    table = outcome.trials[~outcome.trials["failure_reason"].str.startswith("infeasible")]
    assert len(table) == 2 and set(table["state"]) <= {"COMPLETE", "FAIL"}
    nodes = set(table["node_id"])
    assert nodes == node_ids, nodes

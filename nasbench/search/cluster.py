"""Connecting to Ray (a local instance or an existing cluster) and checking it can run the requested trials."""
from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
from collections.abc import Iterator

from nasbench.errors import SettingError
from nasbench.search.settings import SearchSettings

# Ray warns at every start that token authentication is on; it stays on, and the search says nothing about it
TOKEN_WARNING_LOGGER = "ray._private.authentication.authentication_token_setup"


class ClusterError(SettingError):
    """The Ray cluster cannot be reached or cannot run the requested trials."""


@contextlib.contextmanager
def connected(settings: SearchSettings) -> Iterator[dict]:
    """Yield the cluster's resources; start a local Ray instance unless an address is given or Ray is running."""
    import ray

    started = False
    if not ray.is_initialized():
        address = settings.address or os.environ.get("RAY_ADDRESS")
        if address:
            probe(address)
        logging.getLogger(TOKEN_WARNING_LOGGER).setLevel(logging.ERROR)
        try:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            else:
                ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ClusterError(f"cannot connect to the Ray cluster at {address or 'a new local instance'}: "
                               f"{first_line}; check the cluster address or RAY_ADDRESS", "address") from None
        started = True
    try:
        resources = ray.cluster_resources()
        check_resources(settings, resources)
        yield resources
    finally:
        if started:
            ray.shutdown()


def probe(address: str, timeout: float = 3.0) -> None:
    """Fail fast on an address nothing listens at (ray.init would wait minutes for its GCS)."""
    if address in ("auto", "local"):
        return
    host, sep, port = address.split("://", 1)[-1].rpartition(":")
    if not sep or not port.isdigit():
        raise ClusterError(f"Ray address {address!r} is not host:port (or auto)", "address")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; "
                           "check the cluster address or RAY_ADDRESS", "address") from None


def check_resources(settings: SearchSettings, resources: dict) -> None:
    """Refuse requests the cluster can never satisfy (Tune would leave such trials PENDING forever)."""
    gpus, cpus = resources.get("GPU", 0.0), resources.get("CPU", 0.0)
    if settings.gpus_per_trial > 0 and gpus < settings.gpus_per_trial:
        raise ClusterError(f"{settings.gpus_per_trial:g} GPUs per trial asked for, but the Ray cluster has {gpus:g} "
                           "GPUs; ask for 0 or connect to a cluster with GPUs", "gpus_per_trial")
    if cpus < settings.cpus_per_trial:
        raise ClusterError(f"{settings.cpus_per_trial:g} CPUs per trial asked for, but the Ray cluster has "
                           f"{cpus:g} CPUs; ask for fewer", "cpus_per_trial")


def concurrency(settings: SearchSettings, resources: dict) -> int:
    """Trials at once: the user's choice, else as many as the cluster's CPUs (and GPUs) allow; a replay of a table
    runs one at a time (its trials cost the driver, not the workers: a second worker only competes for the CPUs,
    and one at a time gives the in-process replay's trial sequence for every sampler)."""
    if settings.concurrency:
        return settings.concurrency
    if settings.benchmark:
        return 1
    limit = math.floor(resources.get("CPU", 1.0) / settings.cpus_per_trial + 1e-9)
    if settings.gpus_per_trial > 0:
        limit = min(limit, math.floor(resources.get("GPU", 0.0) / settings.gpus_per_trial + 1e-9))
    return max(1, min(limit, settings.trials))

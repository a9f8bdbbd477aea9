"""Connecting to Ray (a local instance or an existing cluster) and checking it can run the requested trials."""
from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
from typing import Iterator

from nasbench.search.settings import SearchSettings


class ClusterError(ValueError):
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
        try:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            else:
                ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ClusterError(f"cannot connect to the Ray cluster at {address or 'a new local instance'}: "
                               f"{first_line}; check --address / RAY_ADDRESS") from None
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
        raise ClusterError(f"Ray address {address!r} is not host:port (or auto); check --address / RAY_ADDRESS")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; "
                           "check --address / RAY_ADDRESS") from None


def check_resources(settings: SearchSettings, resources: dict) -> None:
    """Refuse requests the cluster can never satisfy (Tune would leave such trials PENDING forever)."""
    gpus, cpus = resources.get("GPU", 0.0), resources.get("CPU", 0.0)
    if settings.gpus_per_trial > 0 and gpus < settings.gpus_per_trial:
        raise ClusterError(f"--gpus-per-trial {settings.gpus_per_trial:g} but the Ray cluster has {gpus:g} GPUs; "
                           "use --gpus-per-trial 0 or connect to a cluster with GPUs (--address)")
    if cpus < settings.cpus_per_trial:
        raise ClusterError(f"--cpus-per-trial {settings.cpus_per_trial:g} but the Ray cluster has {cpus:g} CPUs; "
                           "lower --cpus-per-trial")


def concurrency(settings: SearchSettings, resources: dict) -> int:
    """Trials at once: the user's choice, else as many as the cluster's CPUs (and GPUs) allow."""
    if settings.concurrency:
        return settings.concurrency
    limit = math.floor(resources.get("CPU", 1.0) / settings.cpus_per_trial + 1e-9)
    if settings.gpus_per_trial > 0:
        limit = min(limit, math.floor(resources.get("GPU", 0.0) / settings.gpus_per_trial + 1e-9))
    return max(1, min(limit, settings.trials))

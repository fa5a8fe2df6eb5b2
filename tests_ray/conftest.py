"""The real Ray (make test-ray, in .venv-ray). Not collected by `make test`.

One local Ray cluster for the session, small enough for a 2-core machine: 2 CPUs, a 128 MiB
object store (the default asks for 30% of memory), no dashboard. ``--executor ray`` joins it, as
it joins the cluster of ``RAY_ADDRESS`` on a real one. The inputs are the fixtures of the local
executor's tests, so the two executors are held to the same outputs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.distributed.conftest import fast_policy, fast_policy_file, samples_file  # noqa: F401 - fixtures shared with tests/distributed


@pytest.fixture(scope="session", autouse=True)
def ray_cluster() -> Iterator[None]:
    import ray

    ray.init(num_cpus=2, object_store_memory=128 * 1024 * 1024, include_dashboard=False,
             log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()

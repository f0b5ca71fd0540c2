from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """One local Ray instance (2 CPUs) shared by this module's tests."""
    ray = pytest.importorskip("ray")
    from runtime.ray_executor import start_local_cluster

    start_local_cluster(num_cpus=2)
    yield
    ray.shutdown()

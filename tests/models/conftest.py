from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from model_support import RUN_ID

from runtime.store import Store
from runtime.store_types import RunRecord


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store.open(tmp_path / "store.sqlite") as opened:
        await opened.ensure_run(
            RunRecord(
                run_id=RUN_ID,
                name="models",
                playbook_path="models.yaml",
                playbook_hash="h",
                playbook_json="{}",
                seed=0,
                simulated=True,
            )
        )
        yield opened

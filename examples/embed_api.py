"""apigen-mt embedded in your own program: the run API, and the proposer on its own.

1. `load_playbook` + `run_playbook` inside your own `anyio.run`: a shipped playbook runs in
   your event loop (its store in a directory of your choice) and returns a `RunSummary`.
2. `Proposer` without any playbook: sample a proposal context from the retail domain, ask
   the proposer for a blueprint, validate it (format, execution on a fork, policy) and, as
   the reflection loop does, send the failure reasons back as feedback until one passes.

    python -m examples.embed_api        (from the repository root)
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import anyio
import anyio.to_thread

from agents.blueprints.context import ContextParams, ContextSampler
from agents.blueprints.proposer import Proposer
from agents.blueprints.validation import validate
from agents.models.gateway import CallContext, ModelGateway
from agents.resources import Templates
from domains.registry import resolve_domain
from runtime import RunSummary, load_playbook, run_playbook
from runtime.log import configure_logging
from runtime.model_config import ModelConfig
from runtime.store import Store

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOK = ROOT / "playbooks" / "trajectories.yaml"
MAX_ATTEMPTS = 5


async def run_shipped_playbook(store_dir: Path) -> RunSummary:
    """Run a shipped playbook with its run directory moved to `store_dir`."""
    loaded = load_playbook(PLAYBOOK, overrides={"store": str(store_dir)})
    summary = await run_playbook(loaded)
    print(f"run {summary.run_id}: {summary.executed} episodes in {summary.duration_s:.2f}s")
    for phase, counts in summary.counts.items():
        print(f"  {phase}: {dict(sorted(counts.items()))}")
    return summary


async def propose_one(store_dir: Path, seed: int = 3) -> dict[str, object] | None:
    """Propose blueprints for one sampled retail context until one validates; return it."""
    domain = resolve_domain("retail")
    base = await anyio.to_thread.run_sync(domain.environment, {"data": {"seed": 0}})
    sampler = ContextSampler(domain, base, ContextParams(max_chain=2, few_shot=1))
    context = sampler.sample(random.Random(seed))
    print(f"context: user {context.subject_id}, write chain {' -> '.join(context.chain)}")
    models = {
        "proposer": ModelConfig(provider="simulated", faults={"proposer": {"wrong_argument": 0.5}})
    }
    async with (
        Store.open(store_dir / "proposer.sqlite") as store,
        ModelGateway(models, store, "embed-api") as gateway,
    ):
        proposer = Proposer(gateway, "proposer", Templates(ROOT), domain_name=domain.name)
        feedback: list[str] = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            call = CallContext(phase="embed", item_key=f"attempt-{attempt}", role="proposer")
            proposal = await proposer.propose(context, feedback, seed=seed + attempt, call=call)
            if proposal.data is None:
                feedback = [proposal.error]
            else:
                checked = validate(domain, base, proposal.data)
                if checked.passed:
                    print(f"attempt {attempt}: blueprint passed format, execution and policy")
                    print(json.dumps(proposal.data, indent=1))
                    return proposal.data
                feedback = checked.reasons
            print(f"attempt {attempt}: rejected: {'; '.join(feedback)}")
    return None


async def main(store_dir: Path | None = None) -> tuple[RunSummary, dict[str, object] | None]:
    """Both parts, in one event loop."""
    directory = store_dir or Path(tempfile.mkdtemp(prefix="apigen-embed-"))
    summary = await run_shipped_playbook(directory / "run")
    blueprint = await propose_one(directory)
    print(f"proposed blueprint: {'valid' if blueprint else 'none valid'}")
    return summary, blueprint


if __name__ == "__main__":
    configure_logging(level="warning")
    anyio.run(main)

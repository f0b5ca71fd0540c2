"""Your program plays a role of a protocol: here the user of phase 2, while the run plays the
assistant, the environment and the verifier. `attach` names the role (or its kind); your
function gets the user's task and the assistant's words and returns the user's next turn.

    python -m examples.embed_protocol        (from the repository root)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio

from agents.roles.played import UserTurn, played_user
from runtime import RunSummary, load_playbook, run_playbook

PLAYBOOK = Path(__file__).resolve().parent.parent / "playbooks" / "trajectories.yaml"


async def my_user(turn: UserTurn) -> str:
    """A scripted user: states the task, agrees to what the assistant proposes, then stops."""
    if turn.turn == 0:
        return turn.instruction.replace("You are", "Hi, I am").replace("you ", "I ")
    if "proceed" in turn.heard.lower() or "confirm" in turn.heard.lower():
        return "Yes, please go ahead."
    return "###STOP###"


async def main(store: Path) -> RunSummary:
    loaded = load_playbook(PLAYBOOK, overrides={"store": str(store)})
    return await run_playbook(loaded, attach={"human": played_user(my_user)})


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        summary = anyio.run(main, Path(folder))
        print(summary.counts)

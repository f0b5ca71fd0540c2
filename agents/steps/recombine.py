"""Reverse task recombination: merge verified blueprints of one user into a longer task.

The combined action sequence is re-executed and re-checked against policy (catching
conflicts such as returning an order and then cancelling it); a model writes one merged
instruction; the phase's `review` step then judges the result like any proposal.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from autogen_core.models import UserMessage
from pydantic import Field

from agents.blueprints.blueprint import Blueprint, Provenance
from agents.blueprints.validation import check_execution, check_policy, execute
from agents.dialogue.trajectory_policy import targets
from agents.simulated.blueprint_scripts import merged_instruction, text_script
from agents.steps.base import BLUEPRINT, AgentStep, record_funnel
from domains.base import Action
from runtime.steps import Episode, StepOutcome, StepParams


def combine(
    parts: Sequence[tuple[str, Blueprint]], instruction: str, is_write: Callable[[str], bool]
) -> Blueprint:
    """Concatenate actions (a read already made is not repeated) and outputs, in order."""
    first = parts[0][1]
    actions: list[Action] = []
    for _, blueprint in parts:
        for action in blueprint.actions:
            if is_write(action.name) or action not in actions:
                actions.append(action)
    return Blueprint(
        user_id=first.user_id,
        instruction=instruction,
        actions=actions,
        outputs=list(
            dict.fromkeys(output for _, blueprint in parts for output in blueprint.outputs)
        ),
        ending="act",
        provenance=Provenance(
            model=first.provenance.model,
            parents=[key for key, _ in parts],
            simulated=first.provenance.simulated,
        ),
    )


def group_by_user(blueprints: Sequence[tuple[str, Blueprint]]) -> list[list[tuple[str, Blueprint]]]:
    """Groups of at least two blueprints about the same user, in a stable order."""
    groups: dict[str, list[tuple[str, Blueprint]]] = {}
    for key, blueprint in blueprints:
        groups.setdefault(blueprint.user_id, []).append((key, blueprint))
    return [groups[user] for user in sorted(groups) if len(groups[user]) >= 2]


class RecombineParams(StepParams):
    source: str = Field(description="phase whose accepted blueprints are combined")
    min_parts: int = Field(default=2, ge=2, le=5)
    max_parts: int = Field(default=3, ge=2, le=5)
    role: str = Field(default="recombiner", description="role that writes the merged instruction")


class RecombineStep(AgentStep):
    """Picks 2..3 accepted blueprints of one user, merges, re-executes and policy-checks.

    Only tasks that act are combined: a refusal or a transfer ends its conversation, so
    nothing can follow it in one task.
    """

    produces = frozenset({"blueprint"})
    params_model = RecombineParams
    needs_run_store = True

    async def setup(self) -> None:
        await super().setup()
        params = self.params
        assert isinstance(params, RecombineParams)
        store, run_id = self.phase.store, self.phase.run_id
        accepted = {
            item.item_key for item in await store.items(run_id, params.source, status="accepted")
        }
        writes = self.handle.domain.write_tools()
        latest: dict[str, Blueprint] = {}
        for record in await store.results(run_id, params.source):
            if record.kind == BLUEPRINT and record.item_key in accepted:
                latest[record.item_key] = Blueprint.model_validate(record.payload)
        acting = {k: bp for k, bp in latest.items() if bp.resolved_ending(writes) == "act"}
        self.groups = group_by_user(sorted(acting.items()))
        self.model = self.roster.role(params.role).model
        self.prompt = self.roster.role(params.role).prompt

    async def run(self, episode: Episode) -> StepOutcome:
        params = self.params
        assert isinstance(params, RecombineParams)
        if not self.groups:
            return StepOutcome.fail("recombine: no user has two accepted blueprints")
        group = self.groups[episode.index % len(self.groups)]
        rng = episode.rng("recombine")
        count = rng.randint(params.min_parts, min(params.max_parts, len(group)))
        parts = sorted(self._disjoint(group, count, rng), key=lambda part: part[0])
        instruction = await self._merge([bp.instruction for _, bp in parts], episode)
        tools = self.handle.domain.tools
        blueprint = combine(parts, instruction, lambda name: tools[name].writes)
        execution = execute(self.handle.base, blueprint)
        checks = [check_execution(execution)]
        if checks[0].passed:
            checks.append(
                check_policy(
                    self.handle.domain, self.handle.base, execution.trace, blueprint.user_id
                )
            )
        for check in checks:
            record_funnel(episode, check.check, check.passed)
        episode.record(
            "recombination",
            {
                "parents": [key for key, _ in parts],
                "checks": [
                    {"check": c.check, "passed": c.passed, "reasons": c.reasons} for c in checks
                ],
            },
        )
        failed = next((check for check in checks if not check.passed), None)
        if failed is not None:
            return StepOutcome.fail(*failed.reasons)
        episode.state["blueprint"] = blueprint
        episode.state["diff"] = execution.diff_text
        return StepOutcome.ok(parents=len(parts))

    async def on_accepted(self, episode: Episode) -> None:
        """The combined blueprint, once the phase's reviews accepted it."""
        blueprint: Blueprint = episode.state["blueprint"]
        episode.record(BLUEPRINT, blueprint.model_dump(mode="json"))

    def _disjoint(
        self, group: list[tuple[str, Blueprint]], count: int, rng: random.Random
    ) -> list[tuple[str, Blueprint]]:
        """Up to `count` blueprints (at least two) whose writes touch different records,
        where the group allows: two changes of one order rarely make one valid task."""
        shuffled = rng.sample(group, len(group))
        chosen: list[tuple[str, Blueprint]] = []
        touched: set[str] = set()
        for part in shuffled:
            records = self._written(part[1])
            if not records & touched:
                chosen.append(part)
                touched |= records
            if len(chosen) == count:
                return chosen
        rest = [part for part in shuffled if part not in chosen]
        return chosen + rest[: max(0, 2 - len(chosen))]

    def _written(self, blueprint: Blueprint) -> set[str]:
        tools = self.handle.domain.tools
        return {
            target
            for action in blueprint.actions
            if tools[action.name].writes
            for target in targets(action.kwargs)
        }

    async def _merge(self, instructions: list[str], episode: Episode) -> str:
        params = self.params
        assert isinstance(params, RecombineParams)
        text = self.templates.render(
            self.prompt, "recombiner.j2", tasks=[{"instruction": i} for i in instructions]
        )
        seed = episode.seed
        result = await self.gateway.create(
            self.model,
            [UserMessage(content=text, source="user")],
            scenario=lambda: text_script("recombiner", merged_instruction(instructions), seed),
            call=self.call(episode, params.role),
        )
        content = result.content if isinstance(result.content, str) else ""
        return content.strip() or merged_instruction(instructions)

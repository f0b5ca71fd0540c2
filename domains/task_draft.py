"""Building tasks in patterns: a draft collects the opening, goals, actions and outputs; a
sampled pattern draws subjects until a draft makes a task that checks out."""

from __future__ import annotations

import random
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from domains.base import Action, Task, TaskPattern
from domains.environment import Environment

PERSONAS: Final = (
    "You are polite but in a hurry, and answer in short sentences.",
    "You are friendly and chatty, and like to explain why you want things.",
    "You are a bit anxious about money and want to hear the amounts involved.",
    "You are direct and slightly impatient; you do not volunteer information unless asked.",
    "You are careful and confirm every detail before saying yes.",
)

INSIST_ONCE: Final = (
    "If the agent says it is not possible, insist once; then accept it and end the "
    "conversation without asking for anything else."
)
"""How the user of a refusal task takes the refusal."""


@dataclass
class TaskDraft:
    """A task under construction: who, what they say, what must be done and said."""

    user_id: str
    intro: str
    actions: list[Action] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def call(self, name: str, **kwargs: Any) -> None:
        """Append a ground-truth action."""
        self.actions.append(Action(name=name, kwargs=kwargs))

    def task(self, rng: random.Random) -> Task:
        """The finished task: intro, goals and a persona as a second-person instruction."""
        instruction = " ".join([self.intro, *self.goals, rng.choice(PERSONAS)])
        return Task(
            user_id=self.user_id,
            instruction=instruction,
            actions=self.actions,
            outputs=self.outputs,
        )


def runs_cleanly(env: Environment, task: Task) -> bool:
    """Every action succeeds on a fork and every write changes something; the ending fits
    the actions; the domain's rules find nothing, judged for the task's user."""
    results = env.fork().run([action.model_dump() for action in task.actions])
    return (
        all(result.ok and (result.changed or not result.writes) for result in results)
        and not task.ending_conflicts(env.domain.write_tools())
        and not env.domain.check_policy(results, env, task.user_id)
    )


class SampledPattern(TaskPattern):
    """Draw candidates until one yields a task that runs cleanly and follows the rules.

    The task gets the pattern's `ending`; None when none of a few attempts fits.
    """

    attempts: ClassVar[int] = 20

    def instantiate(self, env: Environment, rng: random.Random) -> Task | None:
        """A task about one of `candidates(env)`, built by `build` and checked on a fork."""
        candidates = self.candidates(env)
        for _ in range(min(self.attempts, len(candidates))):
            built = self.build(env, rng, rng.choice(candidates))
            task = built.model_copy(update={"ending": self.ending}) if built else None
            if task is not None and runs_cleanly(env, task):
                return task
        return None

    @abstractmethod
    def candidates(self, env: Environment) -> list[str]:
        """Ids (of records or users) the task could be about."""

    @abstractmethod
    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """The task about `key`, or None when it does not fit after all."""

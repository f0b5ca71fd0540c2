"""Building tasks in patterns: a draft collects the opening, goals, actions and outputs."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Final

from domains.base import Action, Task

PERSONAS: Final = (
    "You are polite but in a hurry, and answer in short sentences.",
    "You are friendly and chatty, and like to explain why you want things.",
    "You are a bit anxious about money and want to hear the amounts involved.",
    "You are direct and slightly impatient; you do not volunteer information unless asked.",
    "You are careful and confirm every detail before saying yes.",
)


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

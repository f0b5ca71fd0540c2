"""What the participants of a conversation say to each other (phase 2).

Slotted, frozen dataclasses: tens of thousands of live episodes hold them. Each has a short
`summary()` for the message trace.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.dialogue.transcript import Candidate, ChatMessage, ToolCall


@dataclass(frozen=True, slots=True)
class Said:
    """A text turn: the user's words to the assistant, or the assistant's reply."""

    text: str

    def summary(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """The assistant asks for tool calls; `writes` is whether any of them writes."""

    calls: tuple[ToolCall, ...]
    writes: bool

    def summary(self) -> str:
        return ", ".join(
            f"{call.name}({call.arguments or call.invalid_arguments})" for call in self.calls
        )


@dataclass(frozen=True, slots=True)
class ToolResults:
    """The environment's answers, one per call, in the order asked."""

    results: tuple[ChatMessage, ...]

    def summary(self) -> str:
        return "; ".join(result.content for result in self.results)


@dataclass(frozen=True, slots=True)
class Ended:
    """A participant ends the conversation: `how` is the transcript's end reason."""

    how: str
    error: str = ""

    @property
    def reason(self) -> str:
        return f"{self.how}: {self.error}" if self.error else self.how

    def summary(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class Candidates:
    """Best-of-N: the user's candidate turns, for the judge to score."""

    texts: tuple[str, ...]

    def summary(self) -> str:
        return " | ".join(self.texts)


@dataclass(frozen=True, slots=True)
class Scores:
    """The judge's score of each candidate (in the candidates' order)."""

    candidates: tuple[Candidate, ...]

    def summary(self) -> str:
        return ", ".join(str(c.score) for c in self.candidates)


@dataclass(frozen=True, slots=True)
class Judged:
    """What the verifier decided, with its reasons."""

    accepted: bool
    reasons: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return self.reasons[0] if self.reasons else ""

    def summary(self) -> str:
        return "accepted" if self.accepted else "; ".join(self.reasons)


__all__ = [
    "Candidates",
    "Ended",
    "Judged",
    "Said",
    "Scores",
    "ToolCalls",
    "ToolResults",
]

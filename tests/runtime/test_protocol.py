"""Protocols as data: load-time checks, and the engine routing messages between role actors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from runtime.actors import ActorSystem
from runtime.protocol import (
    CheckedProtocol,
    Emitted,
    ProtocolProblem,
    ProtocolSpec,
    Role,
    RoleKind,
    check_protocol,
    default_role_kinds,
)
from runtime.protocol_run import (
    SUMMARY_CHARS,
    LimitReached,
    ProtocolFailed,
    ProtocolRun,
    TraceEntry,
    summarize,
)

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Ball:
    hits: int

    def summary(self) -> str:
        return f"ball after {self.hits} hits"


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Player(Role):
    """Returns the ball with one more hit."""

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        hits = message.hits if isinstance(message, Ball) else 0
        return [Emitted("ball", Ball(hits + 1))]


class PlayerKind(RoleKind):
    name = "player"
    accepts: ClassVar[dict[str, type[Any]]] = {"start": object, "ball": Ball}
    emits: ClassVar[dict[str, type[Any]]] = {"ball": Ball}
    predicates: ClassVar[dict[str, frozenset[str]]] = {"ball": frozenset({"even"})}
    params_model = NoParams
    can_see = frozenset({"court"})

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        return Player()

    def check_predicate(self, kind: str, predicate: str, message: Any) -> bool:
        return bool(message.hits % 2 == 0)


class VoterParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: int = 2


@dataclass(frozen=True)
class Vote:
    yes: bool


class Voter(Role):
    def __init__(self, votes: list[bool]) -> None:
        self.votes = votes

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        return [Emitted("vote", Vote(self.votes.pop(0)))]


class VoterKind(RoleKind):
    """A committee member; `gather` counts the yes votes against the threshold."""

    name = "voter"
    accepts: ClassVar[dict[str, type[Any]]] = {"ball": Ball, "start": object}
    emits: ClassVar[dict[str, type[Any]]] = {"approved": Vote, "rejected": Vote, "vote": Vote}
    params_model = VoterParams
    plan: ClassVar[list[list[bool]]] = []

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        return Voter(self.plan.pop(0))

    def gather(
        self, params: BaseModel, emitted: Sequence[Sequence[Emitted]], context: Any
    ) -> list[Emitted]:
        assert isinstance(params, VoterParams)
        yes = sum(answer.message.yes for answers in emitted for answer in answers)
        return [Emitted("approved" if yes >= params.threshold else "rejected", Vote(yes > 0))]


KINDS = default_role_kinds()
KINDS.register("player", PlayerKind())
KINDS.register("voter", VoterKind())

RALLY: dict[str, Any] = {
    "roles": {"a": {"agent": "player"}, "b": {"agent": "player"}},
    "start": {"to": "a"},
    "routes": [
        {"from": "a", "kind": "ball", "to": "b", "count": "volleys"},
        {"from": "b", "kind": "ball", "to": "a"},
        {"from": "protocol", "kind": "limit.volleys", "end": "accepted"},
    ],
    "limits": {"volleys": 3},
}


def _checked(raw: dict[str, Any]) -> CheckedProtocol:
    checked = check_protocol(ProtocolSpec.model_validate(raw), KINDS)
    assert isinstance(checked, CheckedProtocol), checked
    return checked


def _problem(raw: dict[str, Any]) -> ProtocolProblem:
    problem = check_protocol(ProtocolSpec.model_validate(raw), KINDS)
    assert isinstance(problem, ProtocolProblem), "the protocol should have been refused"
    return problem


async def test_a_counted_loop_runs_to_its_limit_and_ends_there() -> None:
    async with ActorSystem() as system:
        run = ProtocolRun(_checked(RALLY), system, context=None, episode="e1")
        assert system.live_actors == 2
        result = await run.run(start=None)
        assert system.live_actors == 0, "the episode's actors stop with it"
    assert result.outcome == "accepted"
    assert isinstance(result.last, LimitReached) and result.last.message == Ball(7)
    assert [(t.sender, t.receiver, t.kind) for t in result.trace] == [
        ("protocol", "a", "start"),
        ("a", "b", "ball"),
        ("b", "a", "ball"),
        ("a", "b", "ball"),
        ("b", "a", "ball"),
        ("a", "b", "ball"),
        ("b", "a", "ball"),
        ("protocol", "end:accepted", "limit.volleys"),
    ]
    assert result.trace[1].text == "ball after 1 hits"


async def test_a_condition_picks_the_route() -> None:
    raw = {
        **RALLY,
        "routes": [
            {"from": "b", "kind": "ball", "when": "even", "end": "rejected"},
            *RALLY["routes"],
        ],
    }
    async with ActorSystem() as system:
        result = await ProtocolRun(_checked(raw), system, None).run(start=None)
    assert result.outcome == "rejected"
    assert result.last == Ball(2), "b's first return is the second hit: even"


async def test_a_committee_hears_the_same_message_and_its_answers_are_gathered() -> None:
    raw = {
        "roles": {"a": {"agent": "player"}, "jury": {"agent": "voter", "count": 3}},
        "start": {"to": "a"},
        "routes": [
            {"from": "a", "kind": "ball", "to": "jury"},
            {"from": "jury", "kind": "approved", "end": "accepted"},
            {"from": "jury", "kind": "rejected", "end": "rejected"},
            {"from": "jury", "kind": "vote", "end": "failed"},
        ],
    }
    VoterKind.plan[:] = [[True], [False], [True]]
    async with ActorSystem() as system:
        result = await ProtocolRun(_checked(raw), system, None).run(start=None)
    assert (result.outcome, result.reason) == ("accepted", "jury: approved")
    assert [t.receiver for t in result.trace] == ["a", "jury", "end:accepted"]


async def test_an_attached_role_plays_instead_of_its_kind() -> None:
    class Quiet(Role):
        async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
            return []

    async with ActorSystem() as system:
        run = ProtocolRun(_checked(RALLY), system, None, attached={"b": Quiet()})
        with pytest.raises(ProtocolFailed, match="stalled"):
            await run.run(start=None)
        assert system.live_actors == 0


def test_a_well_formed_protocol_is_accepted() -> None:
    assert _checked(RALLY).spec.limits == {"volleys": 3}


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        ({"start": {"to": "c"}}, ("start", "to"), "unknown role 'c'"),
        (
            {"roles": {"a": {"agent": "dancer"}, "b": {"agent": "player"}}},
            ("roles", "a", "agent"),
            "unknown role kind 'dancer'",
        ),
        (
            {"roles": {"a": {"agent": "player", "speed": 3}, "b": {"agent": "player"}}},
            ("roles", "a", "speed"),
            "Extra inputs are not permitted",
        ),
        (
            {"routes": [{"from": "a", "kind": "smash", "to": "b"}]},
            ("routes", 0, "kind"),
            "'a' never emits 'smash'",
        ),
        (
            {"routes": [{"from": "a", "kind": "ball", "to": "b", "end": "accepted"}]},
            ("routes", 0),
            "exactly one of `to` and `end`",
        ),
        (
            {"routes": [*RALLY["routes"][:2], {"from": "protocol", "kind": "limit.volleys"}]},
            ("routes", 2),
            "exactly one of `to` and `end`",
        ),
        (
            {"routes": RALLY["routes"][:2]},
            ("limits", "volleys"),
            "'protocol' can emit 'limit.volleys', but no route takes it",
        ),
        (
            {"routes": [RALLY["routes"][0], RALLY["routes"][2]]},
            ("roles", "b"),
            "'b' can emit 'ball', but no route takes it",
        ),
        (
            {
                "routes": [
                    {"from": "a", "kind": "ball", "to": "b"},
                    {"from": "b", "kind": "ball", "to": "a"},
                ],
                "limits": {},
            },
            ("routes", 1),
            "closes a loop with no counted route",
        ),
        (
            {"routes": [{**RALLY["routes"][0], "count": "rounds"}, *RALLY["routes"][1:]]},
            ("routes", 0, "count"),
            "counter 'rounds' has no limit",
        ),
        (
            {"routes": [{**RALLY["routes"][1], "when": "fast"}, *RALLY["routes"]]},
            ("routes", 0, "when"),
            "'ball' offers no condition 'fast'",
        ),
        (
            {"roles": {"a": {"agent": "player", "sees": ["net"]}, "b": {"agent": "player"}}},
            ("roles", "a", "sees", 0),
            "cannot be shown 'net'",
        ),
    ],
)
def test_a_malformed_protocol_is_refused_where_it_is_wrong(
    change: dict[str, Any], loc: tuple[Any, ...], message: str
) -> None:
    problem = _problem({**RALLY, **change})
    assert problem.loc == loc
    assert message in problem.message


def test_a_role_may_only_see_what_the_phase_provides() -> None:
    raw = {
        **RALLY,
        "roles": {"a": {"agent": "player", "sees": ["court"]}, "b": {"agent": "player"}},
    }
    problem = check_protocol(ProtocolSpec.model_validate(raw), KINDS, frozenset({"policy"}))
    assert isinstance(problem, ProtocolProblem)
    assert problem.loc == ("roles", "a", "sees", 0)
    assert "no input of this phase provides 'court'" in problem.message
    assert isinstance(
        check_protocol(ProtocolSpec.model_validate(raw), KINDS, frozenset({"court"})),
        CheckedProtocol,
    )


def test_a_long_message_is_cut_short_in_the_trace_and_stays_ascii() -> None:
    long = "refund " * 100
    text = summarize(long)
    assert len(text) == SUMMARY_CHARS and text.endswith("...") and long.startswith(text[:-3])
    assert text.isascii()  # one non-ASCII character would double the kept string's size
    assert summarize("short") == "short" and summarize(None) == ""
    entry = TraceEntry("human", "assistant", "said", long)
    assert entry.message is long and entry.text == text  # kept, summarized when read

"""Calls as the class accepts them: strict or lenient arguments, any return value as text,
exception messages kept, in-band errors as failures, reads and writes inferred."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from domains.adapter import ClassDomain, reads
from domains.environment import Environment


class BigFloat:
    """A number type of a third-party library: not JSON, printed as digits."""

    def __init__(self, digits: str) -> None:
        self.digits = digits

    def __str__(self) -> str:
        return self.digits


class Desk:
    """Tickets by number; errors as the benchmark classes report them."""

    def __init__(self) -> None:
        self.tickets: dict[int, dict[str, Any]] = {1: {"title": "jam", "open": True}}
        self.total = 0.0

    def close(self, ticket_id: int) -> dict[str, Any]:
        """Close a ticket."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return {"error": f"ticket {ticket_id} not found"}
        ticket["open"] = False
        return {"closed": ticket_id}

    def charge(self, amount: float) -> float:
        """Add to the total."""
        self.total += amount
        return self.total

    def ratio(self, parts: int) -> Fraction:
        """One over the parts."""
        return Fraction(1, parts)

    def pi(self) -> BigFloat:
        """Pi, to many digits."""
        return BigFloat("3.14159265358979323846264338327950288")

    def price(self) -> Decimal:
        """A price."""
        return Decimal("12.50")

    def explode(self, times: int) -> str:
        """Fail the way a bug does."""
        self.total = -1.0
        return "x" * times + None  # type: ignore[operator]

    def lookup(self, ticket_id: int) -> dict[str, Any]:
        """A ticket (unmarked: a read, found by probing)."""
        return self.tickets[ticket_id]


def _desk(**options: Any) -> tuple[ClassDomain, Environment]:
    domain = ClassDomain(Desk)
    return domain, domain.environment(options).fork()


def test_strict_arguments_refuse_a_string_for_an_int() -> None:
    _, env = _desk()
    result = env.call("close", {"ticket_id": "1"})
    assert result.output == (
        "Error: invalid arguments for close: ticket_id: Input should be a valid integer"
    )


def test_lenient_arguments_take_what_the_class_tolerates() -> None:
    domain, env = _desk(arguments="lenient")
    assert env.call("close", {"ticket_id": "1"}).value == {"closed": 1}
    assert domain.read(env, lambda desk: desk.tickets[1]["open"]) is False


def test_a_float_parameter_keeps_an_int_an_int_in_both_modes() -> None:
    for mode in ("strict", "lenient"):
        domain, env = _desk(arguments=mode)
        assert env.call("charge", {"amount": 5}).value == 5.0
        assert type(domain.read(env, lambda desk: desk.total)) is float  # 0.0 + 5
        domain, env = _desk(arguments=mode)
        env.call("charge", {"amount": 5})
        assert env.call("charge", {"amount": 2}).output == "7.0"
    _, env = _desk(arguments="lenient")
    assert env.call("charge", {"amount": "2.5"}).value == 2.5


def test_the_lenient_mode_is_declared_by_the_class_too() -> None:
    class Lax(Desk):
        __arguments__ = "lenient"

    env = ClassDomain(Lax).environment({}).fork()
    assert env.call("close", {"ticket_id": "1"}).ok


@pytest.mark.parametrize(
    ("tool", "arguments", "output"),
    [
        ("ratio", {"parts": 3}, "1/3"),
        ("pi", {}, "3.14159265358979323846264338327950288"),
        ("price", {}, "12.50"),
    ],
)
def test_a_return_value_of_any_type_is_text_the_model_can_read(
    tool: str, arguments: dict[str, Any], output: str
) -> None:
    _, env = _desk()
    result = env.call(tool, arguments)
    assert (result.ok, result.output) == (True, output)


def test_an_exception_keeps_its_type_and_message_and_changes_nothing() -> None:
    domain, env = _desk()
    result = env.call("explode", {"times": 2})
    assert result.output == 'Error: TypeError: can only concatenate str (not "NoneType") to str'
    assert domain.read(env, lambda desk: desk.total) == 0.0
    assert env.diff() == []


def test_an_in_band_error_is_a_failed_call_that_changes_nothing() -> None:
    _, env = _desk()
    result = env.call("close", {"ticket_id": 9})
    assert (result.ok, result.output) == (False, "Error: ticket 9 not found")
    assert env.diff() == []


def test_a_class_declares_its_own_error_predicate_or_none() -> None:
    class Negative(Desk):
        @staticmethod
        def __is_error__(value: Any) -> bool:
            return isinstance(value, float) and value < 0

    env = ClassDomain(Negative).environment({}).fork()
    assert env.call("charge", {"amount": -1}).output == "Error: -1.0"
    assert env.call("close", {"ticket_id": 9}).ok  # {"error": ...} is just a value here

    class Plain(Desk):
        __is_error__ = None

    assert ClassDomain(Plain).environment({}).fork().call("close", {"ticket_id": 9}).ok


def test_unmarked_methods_are_reads_or_writes_by_what_their_calls_did() -> None:
    domain, _ = _desk()
    assert domain.write_tools() == ["close", "charge", "explode"]
    assert domain.access_evidence["lookup"] == "read: 3 probe calls changed nothing"
    assert domain.access_evidence["close"] == "write: a probe call changed the state"
    assert domain.access_evidence["explode"] == "write (assumed): no probe call succeeded"


def test_declared_access_overrides_what_probing_would_find() -> None:
    domain, _ = _desk(reads=["explode"], writes=["lookup"])
    assert domain.write_tools() == ["close", "charge", "lookup"]


def test_a_declared_read_that_changes_the_state_fails() -> None:
    class Sneaky(Desk):
        @reads
        def peek(self) -> float:
            """Reads, but writes."""
            self.total += 1
            return self.total

    env = ClassDomain(Sneaky).environment({}).fork()
    assert env.call("peek").output == "Error: internal error in peek: DomainError"
    assert env.diff() == []

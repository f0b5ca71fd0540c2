"""The trajectory policy on airline conversations written the way real models talk.

A7 (and R6 in retail): each write is confirmed by the user after the agent listed it; one
"yes" to a plan listing several writes confirms all of them; the listing may span a message
or two. Also: one tool call at a time, the domain's rules over the calls made, transfers
only when the task is one. Compliant conversations must pass, faulty ones must not.
"""

from __future__ import annotations

from typing import Any

import pytest
from airline_fixtures import ANN, ANN_CARD, ANN_ME, BEN, BOB, airline_env

from agents.dialogue import trajectory_policy
from agents.dialogue.assistant import NOT_RUN, ExecutedCall
from agents.dialogue.trajectory_policy import (
    is_affirmative,
    trajectory_violations,
    unconfirmed_writes,
)
from agents.dialogue.transcript import ChatMessage, ToolCall
from domains.airline import AirlineDomain
from domains.base import Ending
from domains.environment import Environment, ToolResult

DOMAIN = AirlineDomain()
WRITES = set(DOMAIN.write_tools())
BEN_FIXED = {**BEN, "dob": "2010-03-03"}
BAGS = {"reservation_id": "AAA111", "total_baggages": 3, "nonfree_baggages": 0}
BAGS_CALL = ("update_reservation_baggages", {**BAGS, "payment_id": ANN_CARD})
PASSENGERS_CALL = (
    "update_reservation_passengers",
    {"reservation_id": "AAA111", "passengers": [ANN_ME, BEN_FIXED]},
)


class Dialogue:
    """Builds a transcript: user and agent texts, tool calls with their results."""

    def __init__(self, env: Environment) -> None:
        self.env = env.fork()
        self.messages: list[ChatMessage] = []
        self.executed: list[ExecutedCall] = []

    def user(self, text: str) -> Dialogue:
        self.messages.append(ChatMessage(role="user", content=text))
        return self

    def agent(self, text: str) -> Dialogue:
        self.messages.append(ChatMessage(role="assistant", content=text))
        return self

    def calls(self, *calls: tuple[str, dict[str, Any]]) -> Dialogue:
        made = [
            ToolCall(id=f"call_{len(self.messages)}_{i}", name=name, arguments=args)
            for i, (name, args) in enumerate(calls)
        ]
        self.messages.append(ChatMessage(role="assistant", tool_calls=made))
        for call in made:
            result = self.env.call(call.name, call.arguments)
            self.executed.append(ExecutedCall.of(call, result))
            self.messages.append(
                ChatMessage(
                    role="tool",
                    content=result.output,
                    tool_call_id=call.id,
                    name=call.name,
                    is_error=not result.ok,
                )
            )
        return self

    def call(self, name: str, **args: Any) -> Dialogue:
        return self.calls((name, args))

    def violations(
        self,
        subject: str = ANN,
        expected: Ending = "act",
        executed: list[ExecutedCall] | None = None,
    ) -> list[str]:
        return trajectory_violations(
            DOMAIN,
            airline_env(),
            self.messages,
            subject=subject,
            expected=expected,
            executed=executed,
        )


def _unconfirmed(dialogue: Dialogue) -> list[str]:
    words = DOMAIN.write_words
    return unconfirmed_writes(dialogue.messages, lambda t: words(t) if t in WRITES else None)


def _opening(text: str = "Hi, I'm Ann Lee, user id ann_lee_1001.") -> Dialogue:
    dialogue = Dialogue(airline_env()).user(text)
    dialogue.call("get_user_details", user_id=ANN)
    dialogue.agent("Thanks, Ann. What can I do for you today?")
    dialogue.user(
        "On reservation AAA111 I need a third checked bag, and my son's birthday is wrong."
    )
    return dialogue.call("get_reservation_details", reservation_id="AAA111")


def test_one_yes_to_a_plan_listing_two_writes_confirms_both() -> None:
    dialogue = (
        _opening()
        .agent(
            "Here is what I can do on reservation AAA111:\n"
            "1. Update the checked bags to 3 in total. As a gold member in economy you have "
            "6 free bags for 2 passengers, so there is no charge.\n"
            "2. Update the passenger list so that Ben Lee's date of birth is 2010-03-03.\n"
            "Would you like me to proceed with both changes?"
        )
        .user("Yes, please do both.")
        .calls(BAGS_CALL)
        .calls(PASSENGERS_CALL)
        .agent("Both changes are done.")
    )
    assert dialogue.violations() == []


def test_a_listing_spread_over_two_messages_still_counts() -> None:
    dialogue = (
        _opening()
        .agent("I can add a bag to reservation AAA111: 3 checked bags in total, all free.")
        .user("Will that cost me anything?")
        .agent("No, it is included in your gold allowance. Shall I go ahead?")
        .user("Okay, go ahead.")
        .calls(BAGS_CALL)
    )
    assert _unconfirmed(dialogue) == []


def test_a_failed_write_can_be_retried_under_the_same_confirmation() -> None:
    dialogue = (
        _opening()
        .agent("I will update the bags on AAA111 to 3 in total, paid items: none. Confirm?")
        .user("Yes.")
        .call("update_reservation_baggages", **BAGS, payment_id="credit_card_0")
        .calls(BAGS_CALL)
    )
    assert dialogue.messages[-3].is_error
    assert _unconfirmed(dialogue) == []


def test_a_yes_in_the_opening_message_confirms_nothing() -> None:
    dialogue = _opening(
        "Hi, I'm Ann Lee (ann_lee_1001). I am careful and confirm every detail before saying yes."
    ).calls(BAGS_CALL)
    [violation] = dialogue.violations()
    assert violation.startswith("unconfirmed_write: update_reservation_baggages")


def test_a_yes_after_the_write_is_too_late() -> None:
    dialogue = (
        _opening()
        .calls(BAGS_CALL)
        .agent("All done: your reservation AAA111 now has 3 checked bags.")
        .user("Yes, please go ahead.")
    )
    assert len(_unconfirmed(dialogue)) == 1


def test_a_write_the_listing_did_not_name_is_unconfirmed() -> None:
    dialogue = (
        _opening()
        .agent("I will update the checked bags of AAA111 to 3 in total. Shall I proceed?")
        .user("Yes.")
        .calls(BAGS_CALL)
        .calls(PASSENGERS_CALL)
    )
    [violation] = _unconfirmed(dialogue)
    assert violation.startswith("unconfirmed_write: update_reservation_passengers")


def test_one_listing_confirms_each_write_once() -> None:
    dialogue = (
        _opening()
        .agent("I will set the checked bags of AAA111 to 3. Proceed?")
        .user("Yes.")
        .calls(BAGS_CALL)
        .calls(BAGS_CALL)
    )
    assert len(_unconfirmed(dialogue)) == 1


def test_a_new_request_starting_with_yes_is_not_a_confirmation() -> None:
    dialogue = (
        _opening()
        .agent("Your reservation AAA111 is on HAT001 on 2024-05-20. Anything else?")
        .user("Yes, please add a third checked bag to it.")
        .calls(BAGS_CALL)
    )
    assert len(_unconfirmed(dialogue)) == 1


def test_a_hesitation_withdraws_the_agreement() -> None:
    dialogue = (
        _opening()
        .agent("I will set the checked bags of AAA111 to 3 in total. Shall I proceed?")
        .user("Yes.")
        .agent("Just to double check: 3 bags in total on AAA111, no charge. Proceeding now?")
        .user("No, wait, let me check with my son first.")
        .calls(BAGS_CALL)
    )
    assert len(_unconfirmed(dialogue)) == 1


@pytest.mark.parametrize(
    ("text", "agrees"),
    [
        ("Yes, please.", True),
        ("Sure, go ahead", True),
        ("ok", True),
        ("That's right, do it.", True),
        ("No.", False),
        ("No, don't do that yet.", False),
        ("Hold on a second.", False),
        ("What would it cost?", False),
        ("No problem, go ahead.", True),
    ],
)
def test_what_counts_as_agreeing(text: str, agrees: bool) -> None:
    assert is_affirmative(text) is agrees


def test_two_tool_calls_in_one_message_break_the_one_call_at_a_time_rule() -> None:
    dialogue = _opening()
    dialogue.calls(
        ("get_reservation_details", {"reservation_id": "AAA111"}),
        ("get_reservation_details", {"reservation_id": "BBB222"}),
    )
    assert dialogue.violations() == [
        "parallel_calls: get_reservation_details, get_reservation_details in one message"
    ]


def _forbidden_cancel() -> Dialogue:
    dialogue = Dialogue(airline_env()).user("I'm Bob Ng, bob_ng_2002. Cancel CCC333 please.")
    dialogue.call("get_user_details", user_id=BOB)
    dialogue.call("get_reservation_details", reservation_id="CCC333")
    dialogue.agent("I will cancel reservation CCC333 (ORD-JFK round trip). Confirm?")
    dialogue.user("Yes, cancel it.")
    return dialogue.call("cancel_reservation", reservation_id="CCC333")


def test_a_confirmed_write_the_policy_forbids_is_still_a_violation() -> None:
    violations = _forbidden_cancel().violations(subject=BOB)
    assert [v.split(":")[0] for v in violations] == ["policy", "policy"]
    assert all(v.startswith("policy: A5 (action 2)") for v in violations)


def test_a_transfer_is_allowed_only_when_the_task_is_one() -> None:
    dialogue = _opening().call("transfer_to_human_agents", summary="Ann wants a third bag.")
    assert dialogue.violations(expected="transfer") == []
    [violation] = dialogue.violations(expected="act")
    assert violation.startswith("transfer_not_allowed: transfer_to_human_agents")


def test_a_call_the_assistant_did_not_run_is_not_judged_by_the_rules() -> None:
    dialogue = Dialogue(airline_env()).user("I'm Bob Ng, bob_ng_2002. Cancel CCC333 please.")
    dialogue.call("get_user_details", user_id=BOB)
    first = ToolCall(
        id="c1", name="get_reservation_details", arguments={"reservation_id": "CCC333"}
    )
    second = ToolCall(id="c2", name="cancel_reservation", arguments={"reservation_id": "CCC333"})
    dialogue.messages += [
        ChatMessage(role="assistant", tool_calls=[first, second]),
        ChatMessage(role="tool", content="{}", tool_call_id="c1", name=first.name),
        ChatMessage(
            role="tool", content=NOT_RUN, tool_call_id="c2", name=second.name, is_error=True
        ),
    ]
    violations = dialogue.violations(subject=BOB)
    assert [v.split(":")[0] for v in violations] == ["unconfirmed_write", "parallel_calls"]


def test_the_rules_judge_the_calls_as_the_environment_ran_them_without_a_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialogue = _forbidden_cancel()
    replayed = dialogue.violations(subject=BOB)
    assert replayed and all(v.startswith("policy: A5") for v in replayed)

    def no_replay(*_args: Any) -> None:
        raise AssertionError("the calls were replayed although their results were given")

    monkeypatch.setattr(trajectory_policy, "replay_calls", no_replay)
    assert dialogue.violations(subject=BOB, executed=dialogue.executed) == replayed


def test_results_that_are_not_the_calls_the_messages_show_are_replayed_instead() -> None:
    dialogue = _forbidden_cancel()
    replayed = dialogue.violations(subject=BOB)
    missing_the_write = dialogue.executed[:-1]  # say, a role the caller played ran it
    assert dialogue.violations(subject=BOB, executed=missing_the_write) == replayed


def test_an_executed_call_keeps_a_structured_value_only_as_its_output() -> None:
    env = airline_env().fork()
    call = ToolCall(id="c1", name="get_reservation_details", arguments={"reservation_id": "CCC333"})
    result = env.call(call.name, call.arguments)
    executed = ExecutedCall.of(call, result)
    assert executed.result.value is None  # a live episode does not keep the record copy
    assert executed.result.arguments is call.arguments
    assert executed.full_result() == result
    assert executed.full_result().value == result.value


def test_an_executed_call_keeps_a_text_value_and_an_error_as_they_are() -> None:
    env = airline_env().fork()
    lookup = ToolCall(id="c1", name="get_user_details", arguments={"user_id": "nobody_1"})
    failed = env.call(lookup.name, lookup.arguments)
    assert not failed.ok
    assert ExecutedCall.of(lookup, failed).full_result() is failed
    found = ToolCall(id="c2", name="transfer_to_human_agents", arguments={"summary": "help"})
    text = env.call(found.name, found.arguments)
    assert isinstance(text.value, str)
    assert ExecutedCall.of(found, text).full_result() is text


def test_an_executed_call_keeps_a_value_json_would_change_as_it_is() -> None:
    call = ToolCall(id="c1", name="pair", arguments={})
    result = ToolResult("pair", {}, ok=True, output="[1, 2]", value=(1, 2))
    assert ExecutedCall.of(call, result).full_result() is result

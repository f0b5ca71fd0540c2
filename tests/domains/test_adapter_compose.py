"""Several classes in one domain: namespaced state, one fork, one fingerprint, clashes found."""

from __future__ import annotations

from typing import Any

import pytest

from domains.adapter.compose import ComposedDomain
from domains.registry import resolve_domain
from runtime.errors import DomainError


class Mail:
    """Mail: log in first."""

    def __init__(self) -> None:
        self.authenticated = False
        self.current_user: str | None = None
        self.outbox: list[str] = []

    def mail_login(self, user: str) -> bool:
        """Log in to mail."""
        self.authenticated, self.current_user = True, user
        return True

    def send(self, text: str) -> int:
        """Send a mail."""
        if not self.authenticated:
            raise PermissionError("log in first")
        self.outbox.append(f"{self.current_user}: {text}")
        return len(self.outbox)

    def status(self) -> dict[str, Any]:
        """Who is logged in."""
        return {"authenticated": self.authenticated, "user": self.current_user}


class Bank:
    """Bank: log in first."""

    def __init__(self, balance: int = 10) -> None:
        self.authenticated = False
        self.current_user: str | None = None
        self.balance = balance

    def bank_login(self, user: str) -> bool:
        """Log in to the bank."""
        self.authenticated, self.current_user = True, user
        return True

    def pay(self, amount: int) -> int:
        """Pay an amount."""
        if not self.authenticated:
            raise PermissionError("log in first")
        self.balance -= amount
        return self.balance

    def status(self) -> dict[str, Any]:
        """Who is logged in."""
        return {"authenticated": self.authenticated, "user": self.current_user}


MAIL = {"class": f"{__name__}:Mail", "as": "mail"}
BANK = {"class": f"{__name__}:Bank", "as": "bank", "init": {"balance": 50}}


def test_a_clash_of_tool_names_is_reported_at_load_time() -> None:
    with pytest.raises(DomainError, match=r"tool names clash: status \(mail, bank\)"):
        ComposedDomain().environment({"classes": [MAIL, BANK]})


def test_prefixes_resolve_a_clash() -> None:
    domain = ComposedDomain()
    domain.environment({"classes": [{**MAIL, "prefix": True}, BANK]})
    assert list(domain.tools) == [
        "mail_mail_login",
        "mail_send",
        "mail_status",
        "bank_login",
        "pay",
        "status",
    ]


def test_classes_sharing_attribute_names_keep_their_own_state() -> None:
    domain = resolve_domain("compose")
    env = domain.environment({"classes": [{**MAIL, "prefix": "m_"}, BANK]}).fork()
    assert env.call("m_mail_login", {"user": "ann"}).ok
    assert env.call("status").value == {"authenticated": False, "user": None}
    assert env.call("m_status").value == {"authenticated": True, "user": "ann"}
    assert env.call("pay", {"amount": 5}).output == "Error: PermissionError: log in first"
    assert {change.key for change in env.diff()} == {"mail"}


def test_one_fork_and_one_fingerprint_cover_every_class() -> None:
    domain = ComposedDomain()
    base = domain.environment({"classes": [{**MAIL, "prefix": "m_"}, BANK]})
    one, two = base.fork(), base.fork()
    for env in (one, two):
        env.call("m_mail_login", {"user": "ann"})
        env.call("bank_login", {"user": "ann"})
    one.call("m_send", {"text": "hi"})
    one.call("pay", {"amount": 5})
    two.call("pay", {"amount": 5})
    assert one.fingerprint() != two.fingerprint()
    two.call("m_send", {"text": "hi"})
    assert one.fingerprint() == two.fingerprint()
    assert base.fingerprint() != one.fingerprint()


def test_the_state_of_each_class_lives_under_its_alias() -> None:
    domain = ComposedDomain()
    env = domain.environment({"classes": [{**MAIL, "prefix": "m_"}, BANK]})
    assert env.state.get("objects", "self") == {
        "$object": "domains.adapter.compose:Composite",
        "mail": {"$ref": "mail"},
        "bank": {"$ref": "bank"},
    }
    assert env.state.get("objects", "bank") == {
        "$object": f"{__name__}:Bank",
        "authenticated": False,
        "current_user": None,
        "balance": 50,
    }
    assert domain.public_state(env)["bank"]["balance"] == 50


def test_the_policy_joins_the_classes_docstrings() -> None:
    domain = ComposedDomain()
    domain.environment({"classes": [{**MAIL, "prefix": "m_"}, BANK]})
    assert domain.policy == "Mail: log in first.\n\nBank: log in first."


def test_aliases_must_differ() -> None:
    with pytest.raises(DomainError, match="aliases used twice: mail"):
        ComposedDomain().environment({"classes": [MAIL, {**BANK, "as": "mail"}]})

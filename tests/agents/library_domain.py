"""A tiny library domain for agent tests: two tables, five tools, one policy rule, two patterns."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from domains.base import (
    ApiGraph,
    Domain,
    DomainOptions,
    PolicyRule,
    SubjectContext,
    Task,
    TaskPattern,
    Violation,
)
from domains.environment import Environment, ToolResult
from domains.state import State, Tables
from domains.tools import Tool, ToolArgs, tool
from runtime.errors import ToolError


class EmailArgs(ToolArgs):
    email: str


class UserArgs(ToolArgs):
    user_id: str


class BookArgs(ToolArgs):
    book_id: str


class LoanArgs(ToolArgs):
    user_id: str
    book_id: str


@tool()
def find_user(state: State, args: EmailArgs) -> str:
    """Find a user id by email."""
    for key, record in state.items("users"):
        if record["email"] == args.email:
            return key
    raise ToolError("user not found")


@tool()
def get_user(state: State, args: UserArgs) -> dict[str, Any]:
    """Get a user's record."""
    record = state.get("users", args.user_id)
    if record is None:
        raise ToolError("user not found")
    return record


@tool()
def get_book(state: State, args: BookArgs) -> dict[str, Any]:
    """Get a book's record."""
    record = state.get("books", args.book_id)
    if record is None:
        raise ToolError("book not found")
    return record


@tool(writes=True)
def borrow_book(state: State, args: LoanArgs) -> dict[str, Any]:
    """Lend an available book to a user."""
    if not state.has("users", args.user_id):
        raise ToolError("user not found")
    book = state.get("books", args.book_id)
    if book is None:
        raise ToolError("book not found")
    if not book["available"]:
        raise ToolError("book is not available")
    state.write("books", args.book_id)["available"] = False
    user = state.write("users", args.user_id)
    user["loans"].append(args.book_id)
    return user


@tool(writes=True)
def return_book(state: State, args: LoanArgs) -> dict[str, Any]:
    """Take a borrowed book back."""
    user = state.get("users", args.user_id)
    if user is None:
        raise ToolError("user not found")
    if args.book_id not in user["loans"]:
        raise ToolError("the user has not borrowed this book")
    state.write("books", args.book_id)["available"] = True
    writable = state.write("users", args.user_id)
    writable["loans"].remove(args.book_id)
    return writable


class LookupFirst(PolicyRule):
    """A write on a user comes after find_user returned that user."""

    name = "L1"
    description = "find_user must return the user before any write on them"

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        found: set[str] = set()
        violations = []
        for index, result in enumerate(trace):
            if result.name == "find_user" and result.ok:
                found.add(result.output)
            elif result.writes and result.arguments.get("user_id") not in found:
                violations.append(Violation(self.name, "user not looked up", index))
        return violations


class BorrowPattern(TaskPattern):
    name = "borrow"
    description = "borrow an available book"
    write_tools = ("borrow_book",)

    def instantiate(self, env: Environment, rng: random.Random) -> Task | None:
        books = [key for key, book in env.state.items("books") if book["available"]]
        users = env.state.keys("users")
        if not books or not users:
            return None
        user_id, book_id = rng.choice(users), rng.choice(books)
        email = env.state.get("users", user_id)["email"]  # type: ignore[index]
        return Task.model_validate(
            {
                "user_id": user_id,
                "instruction": f"You are {email}. You want to borrow book {book_id}.",
                "actions": [
                    {"name": "find_user", "kwargs": {"email": email}},
                    {"name": "get_book", "kwargs": {"book_id": book_id}},
                    {"name": "borrow_book", "kwargs": {"user_id": user_id, "book_id": book_id}},
                ],
            }
        )


class ReturnPattern(TaskPattern):
    name = "return"
    description = "return a borrowed book"
    write_tools = ("return_book",)

    def instantiate(self, env: Environment, rng: random.Random) -> Task | None:
        loans = [(key, user) for key, user in env.state.items("users") if user["loans"]]
        if not loans:
            return None
        user_id, user = rng.choice(loans)
        book_id = rng.choice(user["loans"])
        return Task.model_validate(
            {
                "user_id": user_id,
                "instruction": f"You are {user['email']}. Return book {book_id}.",
                "actions": [
                    {"name": "find_user", "kwargs": {"email": user["email"]}},
                    {"name": "return_book", "kwargs": {"user_id": user_id, "book_id": book_id}},
                ],
            }
        )


def library_tables(users: int = 4, books: int = 6) -> Tables:
    return {
        "users": {
            f"u{i}": {"email": f"reader{i}@example.com", "loans": ["b0"] if i == 0 else []}
            for i in range(users)
        },
        "books": {f"b{i}": {"title": f"Book {i}", "available": i != 0} for i in range(books)},
    }


class LibraryDomain(Domain):
    """The test domain."""

    name = "library"

    @property
    def tools(self) -> Mapping[str, Tool[Any]]:
        return {t.name: t for t in (find_user, get_user, get_book, borrow_book, return_book)}

    @property
    def policy(self) -> str:
        return "# Library policy\nLook the user up by email before lending or taking back books."

    @property
    def rules(self) -> Sequence[PolicyRule]:
        return (LookupFirst(),)

    @property
    def api_graph(self) -> ApiGraph:
        return ApiGraph(
            (
                ("find_user", "get_user"),
                ("get_user", "borrow_book"),
                ("get_book", "borrow_book"),
                ("get_user", "return_book"),
                ("find_user", "borrow_book"),
                ("find_user", "return_book"),
            )
        )

    @property
    def patterns(self) -> Sequence[TaskPattern]:
        return (BorrowPattern(), ReturnPattern())

    def load_tables(self, options: DomainOptions) -> Tables:
        return library_tables()

    def subjects(self, env: Environment) -> list[str]:
        return env.state.keys("users")

    def subject_context(self, env: Environment, subject_id: str) -> SubjectContext:
        return SubjectContext(subject_id, {"user": env.state.get("users", subject_id)})


BORROW_TASK = {
    "user_id": "u1",
    "instruction": "You are reader1@example.com. You want to borrow book b2 and its title.",
    "actions": [
        {"name": "find_user", "kwargs": {"email": "reader1@example.com"}},
        {"name": "get_book", "kwargs": {"book_id": "b2"}},
        {"name": "borrow_book", "kwargs": {"user_id": "u1", "book_id": "b2"}},
    ],
    "outputs": ["Book 2"],
}
"""A task conversation tests play: look the reader up, check the book, lend it."""

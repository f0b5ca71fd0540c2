"""A to-do list as a plain Python class, turned into a domain by the generic adapter.

Use it in a playbook by import path:

    domain:
      name: examples.todo_domain:TodoList
      options: {loader: sample, args: {users: 20, seed: 1}}
"""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta
from typing import Any

from domains.adapter import reads, writes

TITLES = ("pay rent", "call mum", "buy milk", "book dentist", "renew passport", "water plants")
NAMES = ("Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal")
STARTER_TODOS = {
    "t1": {"user_id": "u1", "title": "pay rent", "due": "2025-01-31", "done": False},
    "t2": {"user_id": "u2", "title": "call mum", "due": "2025-01-15", "done": False},
}


class TodoList:
    """# To-do assistant

    - Act only for the user you are talking to: a to-do may be read or changed by its owner only.
    - Due dates are ISO dates (YYYY-MM-DD); titles are never empty.
    - Confirm with the user before deleting a to-do.
    """

    __subjects__ = "users"

    def __init__(
        self,
        users: dict[str, dict[str, Any]] | None = None,
        todos: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.users = users if users is not None else {"u1": {"name": "Ann"}, "u2": {"name": "Bo"}}
        self.todos = todos if todos is not None else copy.deepcopy(STARTER_TODOS)
        self.next_id = len(self.todos) + 1

    @classmethod
    def sample(cls, users: int = 3, seed: int = 0) -> TodoList:
        """A seeded list: `users` users with one to three to-dos each."""
        rng = random.Random(seed)
        people = {f"u{n}": {"name": NAMES[(n - 1) % len(NAMES)]} for n in range(1, users + 1)}
        todos: dict[str, dict[str, Any]] = {}
        for user_id in people:
            for _ in range(rng.randint(1, 3)):
                due = date(2025, 1, 1) + timedelta(days=rng.randrange(60))
                todos[f"t{len(todos) + 1}"] = {
                    "user_id": user_id,
                    "title": rng.choice(TITLES),
                    "due": due.isoformat(),
                    "done": False,
                }
        return cls(people, todos)

    @reads
    def get_user(self, user_id: str) -> dict[str, Any]:
        """Get a user's profile.

        Args:
            user_id: The user's id, such as 'u1'.
        """
        return self._user(user_id)

    @reads
    def list_todos(self, user_id: str, include_done: bool = False) -> list[dict[str, Any]]:
        """List a user's to-dos, soonest due first.

        Args:
            user_id: The owner's id.
            include_done: Also list completed to-dos.
        """
        self._user(user_id)
        found = [
            {"todo_id": todo_id, **todo}
            for todo_id, todo in self.todos.items()
            if todo["user_id"] == user_id and (include_done or not todo["done"])
        ]
        return sorted(found, key=lambda todo: str(todo["due"]))

    @writes
    def add_todo(self, user_id: str, title: str, due: str) -> dict[str, Any]:
        """Add a to-do for a user.

        Args:
            user_id: The owner's id.
            title: What to do; must not be empty.
            due: The due date, as YYYY-MM-DD.
        """
        self._user(user_id)
        todo_id = f"t{self.next_id}"
        self.todos[todo_id] = {
            "user_id": user_id,
            "title": self._title(title),
            "due": self._due(due),
            "done": False,
        }
        self.next_id += 1
        return {"todo_id": todo_id, **self.todos[todo_id]}

    @writes
    def complete_todo(self, user_id: str, todo_id: str) -> dict[str, Any]:
        """Mark a user's to-do as done.

        Args:
            user_id: The owner's id.
            todo_id: The to-do's id, such as 't3'.
        """
        todo = self._todo(user_id, todo_id)
        if todo["done"]:
            raise ValueError(f"to-do {todo_id} is already done")
        todo["done"] = True
        return todo

    @writes
    def rename_todo(self, user_id: str, todo_id: str, title: str) -> dict[str, Any]:
        """Give a user's to-do a new title.

        Args:
            user_id: The owner's id.
            todo_id: The to-do's id.
            title: The new title; must not be empty.
        """
        todo = self._todo(user_id, todo_id)
        todo["title"] = self._title(title)
        return todo

    @writes
    def delete_todo(self, user_id: str, todo_id: str) -> str:
        """Delete a user's to-do.

        Args:
            user_id: The owner's id.
            todo_id: The to-do's id.
        """
        self._todo(user_id, todo_id)
        del self.todos[todo_id]
        return f"deleted {todo_id}"

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            raise KeyError(f"user {user_id} not found")
        return self.users[user_id]

    def _todo(self, user_id: str, todo_id: str) -> dict[str, Any]:
        self._user(user_id)
        todo = self.todos.get(todo_id)
        if todo is None or todo["user_id"] != user_id:
            raise KeyError(f"to-do {todo_id} not found for user {user_id}")
        return todo

    @staticmethod
    def _due(due: str) -> str:
        try:
            return date.fromisoformat(due).isoformat()
        except ValueError:
            raise ValueError(f"due date {due!r} is not YYYY-MM-DD") from None

    @staticmethod
    def _title(title: str) -> str:
        if not title.strip():
            raise ValueError("the title must not be empty")
        return title.strip()

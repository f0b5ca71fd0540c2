"""Three stateful tool classes of the kind function-calling benchmarks ship, composed into one
domain with no patterns file (see `workspace.yaml`):

- `FileSystem`: a directory tree whose nodes link to their parent, and a current directory
  that points into the tree;
- `Messenger`: users with int-keyed inboxes, a private random generator for message ids, a
  lookup cache, timestamps from the wall clock, and `{"error": ...}` results;
- `TicketDesk`: tickets in an int-keyed dict with a set of tags and a Decimal cost.

`Messenger` and `TicketDesk` both keep `authenticated` and `current_user`; composed, each
has its own. The adapter needs no codec for any of it.
"""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal
from typing import Any


class File:
    def __init__(self, name: str, parent: Directory, content: str = "") -> None:
        self.name = name
        self.parent = parent
        self.content = content


class Directory:
    def __init__(self, name: str, parent: Directory | None = None) -> None:
        self.name = name
        self.parent = parent
        self.children: dict[str, Directory | File] = {}

    def path(self) -> str:
        if self.parent is None:
            return "/"
        return self.parent.path().rstrip("/") + "/" + self.name


class FileSystem:
    """# Files

    - Work in the current directory; names never contain '/'.
    """

    def __init__(self, tree: dict[str, Any] | None = None) -> None:
        self.root = Directory("")
        self._build(self.root, tree or {"docs": {"notes.txt": "buy milk"}, "todo.txt": "call"})
        self.cwd = self.root

    def _build(self, directory: Directory, tree: dict[str, Any]) -> None:
        for name, item in tree.items():
            if isinstance(item, dict):
                child = Directory(name, directory)
                directory.children[name] = child
                self._build(child, item)
            else:
                directory.children[name] = File(name, directory, str(item))

    def pwd(self) -> str:
        """The current directory's path."""
        return self.cwd.path()

    def ls(self) -> dict[str, list[str]]:
        """The names in the current directory."""
        return {"current_directory_content": list(self.cwd.children)}

    def cd(self, folder: str) -> dict[str, str]:
        """Change the current directory.

        Args:
            folder: A subdirectory of the current one, or '..' for the parent.
        """
        if folder == "..":
            self.cwd = self.cwd.parent or self.cwd
        else:
            found = self.cwd.children.get(folder)
            if not isinstance(found, Directory):
                return {"error": f"cd: {folder}: no such directory"}
            self.cwd = found
        return {"current_working_directory": self.cwd.path()}

    def mkdir(self, dir_name: str) -> str:
        """Make a directory in the current one.

        Args:
            dir_name: The new directory's name.
        """
        if dir_name in self.cwd.children or "/" in dir_name:
            raise ValueError(f"mkdir: cannot create directory {dir_name!r}")
        self.cwd.children[dir_name] = Directory(dir_name, self.cwd)
        return f"created {dir_name}"

    def touch(self, file_name: str) -> str:
        """Create an empty file in the current directory.

        Args:
            file_name: The new file's name.
        """
        if file_name in self.cwd.children or "/" in file_name:
            raise ValueError(f"touch: {file_name!r} exists")
        self.cwd.children[file_name] = File(file_name, self.cwd)
        return f"created {file_name}"

    def cat(self, file_name: str) -> dict[str, str]:
        """A file's content.

        Args:
            file_name: A file in the current directory.
        """
        found = self.cwd.children.get(file_name)
        if not isinstance(found, File):
            return {"error": f"cat: {file_name}: no such file"}
        return {"file_content": found.content}

    def echo(self, content: str, file_name: str) -> str:
        """Write text into a file of the current directory (replacing its content).

        Args:
            content: The text.
            file_name: A file in the current directory.
        """
        found = self.cwd.children.get(file_name)
        if not isinstance(found, File):
            raise LookupError(f"echo: {file_name}: no such file")
        found.content = content
        return f"wrote {file_name}"

    def rm(self, file_name: str) -> str:
        """Remove a file or a directory (with what it holds) from the current directory.

        Args:
            file_name: The name to remove.
        """
        if file_name not in self.cwd.children:
            raise LookupError(f"rm: {file_name}: no such file or directory")
        del self.cwd.children[file_name]
        return f"removed {file_name}"


class Messenger:
    """# Messages

    - Log in before sending or reading messages.
    """

    def __init__(self, users: dict[str, str] | None = None, seed: int = 0) -> None:
        self.users = users or {"USR001": "Alice", "USR002": "Bob", "USR003": "Cleo"}
        self.inbox: dict[str, dict[int, dict[str, Any]]] = {user: {} for user in self.users}
        self.inbox["USR001"][1] = {"sender": "USR002", "text": "lunch?", "sent": None}
        self.authenticated = False
        self.current_user: str | None = None
        self._rng = random.Random(seed)
        self._name_cache: dict[str, str] = {}

    def message_login(self, user_id: str) -> dict[str, Any]:
        """Log in to the messenger.

        Args:
            user_id: The user's id, such as 'USR001'.
        """
        if user_id not in self.users:
            return {"error": f"user {user_id} not found"}
        self.authenticated = True
        self.current_user = user_id
        return {"login_status": True}

    def send_message(self, receiver_id: str, message: str) -> dict[str, Any]:
        """Send a message to another user.

        Args:
            receiver_id: The receiver's user id.
            message: The text to send.
        """
        if not self.authenticated or self.current_user is None:
            return {"error": "log in first"}
        if receiver_id not in self.users:
            return {"error": f"receiver {receiver_id} not found"}
        message_id = self._rng.randint(10_000, 99_999)
        self.inbox[receiver_id][message_id] = {
            "sender": self.current_user,
            "text": message,
            "sent": datetime.now(),
        }
        return {"sent_status": True, "message_id": message_id}

    def view_messages(self) -> dict[int, dict[str, Any]]:
        """The messages of the logged-in user, by message id."""
        if self.current_user is None:
            raise PermissionError("log in first")
        return self.inbox[self.current_user]

    def user_name(self, user_id: str) -> str:
        """A user's display name.

        Args:
            user_id: The user's id.
        """
        if user_id not in self._name_cache:
            self._name_cache[user_id] = self.users[user_id]
        return self._name_cache[user_id]


class TicketDesk:
    """# Tickets

    - Log in before creating or closing tickets.
    """

    def __init__(self) -> None:
        self.tickets: dict[int, dict[str, Any]] = {
            7: {"title": "printer jam", "status": "open", "tags": {"hardware"}, "cost": None},
        }
        self.authenticated = False
        self.current_user: str | None = None

    def ticket_login(self, username: str) -> dict[str, bool]:
        """Log in to the ticket desk.

        Args:
            username: Any user name.
        """
        self.authenticated = True
        self.current_user = username
        return {"success": True}

    def create_ticket(self, title: str, priority: int = 1) -> dict[str, Any]:
        """Open a ticket.

        Args:
            title: What is wrong.
            priority: 1 (low) to 3 (high).
        """
        if not self.authenticated:
            return {"error": "log in first"}
        ticket_id = max(self.tickets, default=0) + 1
        self.tickets[ticket_id] = {
            "title": title,
            "status": "open",
            "tags": {f"p{priority}"},
            "cost": None,
        }
        return {"id": ticket_id, **self.tickets[ticket_id]}

    def get_ticket(self, ticket_id: int) -> dict[str, Any]:
        """A ticket's details.

        Args:
            ticket_id: The ticket's number.
        """
        if ticket_id not in self.tickets:
            raise LookupError(f"ticket {ticket_id} not found")
        return {"id": ticket_id, **self.tickets[ticket_id]}

    def close_ticket(self, ticket_id: int, cost: str = "0") -> dict[str, Any]:
        """Close a ticket, recording what fixing it cost.

        Args:
            ticket_id: The ticket's number.
            cost: The cost as a decimal string, such as '12.50'.
        """
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ticket["status"] == "closed":
            return {"error": f"ticket {ticket_id} is not open"}
        ticket["status"] = "closed"
        ticket["cost"] = Decimal(cost)
        return {"id": ticket_id, "status": "closed", "cost": ticket["cost"]}

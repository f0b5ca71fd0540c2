"""The generic class adapter: a plain Python class with typed, documented methods as a domain.

- `domain`: `AdaptedDomain` and `ClassDomain`, the domain an adapted class is: its tools,
  state, calls, policy, subjects and task patterns.
- `parts`: a class with its options (`ClassDomainOptions`) and hooks, and how it is built.
- `tools`: from methods to tool parts (argument models, docs), and `@reads` / `@writes`.
- `probe`, `values`, `walk`: which tools write and what feeds what, found by probing on
  forks; argument values drawn from the state; task patterns as random walks.
- `graph`, `calls`, `state`, `tracking`, `codec`: the instance's object graph as
  copy-on-write records, one call on its live arena, the state that holds it, the write
  barriers, and the JSON its values are stored as.
- `clock`: a frozen wall clock for the calls.
- `compose`: several classes side by side in one domain (`domain: {name: compose}`).
"""

from domains.adapter.codec import Codec
from domains.adapter.domain import AdaptedDomain, ClassDomain
from domains.adapter.parts import (
    ArgumentMode,
    ClassDomainOptions,
    Part,
    default_is_error,
    instantiate,
    loader_function,
)
from domains.adapter.tools import reads, writes

__all__ = [
    "AdaptedDomain",
    "ArgumentMode",
    "ClassDomain",
    "ClassDomainOptions",
    "Codec",
    "Part",
    "default_is_error",
    "instantiate",
    "loader_function",
    "reads",
    "writes",
]

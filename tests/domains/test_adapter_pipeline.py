"""Phase 1 on a domain with no hand-written patterns: inferred graph, sampled chains, a
generic prompt of public state, random-walk blueprints, and a missing ingredient named."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Any

import pytest

from agents.blueprints.context import ContextParams, ContextSampler
from agents.blueprints.proposer import Proposer
from agents.plugin import register
from agents.resources import Templates
from domains.adapter import ClassDomain
from domains.task_draft import runs_cleanly
from runtime.api import LoadedPlaybook, run_playbook
from runtime.playbook import parse_playbook
from runtime.plugins import Extensions
from runtime.store import Store
from runtime.yaml_source import YamlSource

pytestmark = pytest.mark.anyio


class Shop:
    """A shop with a stock and carts."""

    def __init__(self) -> None:
        self.stock: dict[str, int] = {"apple": 3, "pear": 2}
        self.carts: dict[int, list[str]] = {1: []}
        self._rng = random.Random(0)
        self._seen: dict[str, int] = {}

    def list_stock(self) -> dict[str, int]:
        """What is in stock."""
        return dict(self.stock)

    def new_cart(self) -> int:
        """Open a cart; its number."""
        number = max(self.carts) + 1
        self.carts[number] = []
        return number

    def add_item(self, cart_id: int, item: str) -> list[str]:
        """Put an item in stock into a cart."""
        if self.stock.get(item, 0) <= 0:
            raise ValueError(f"{item} is out of stock")
        self.stock[item] -= 1
        self.carts[cart_id].append(item)
        return self.carts[cart_id]


class Broken:
    """Nothing here ever works."""

    def __init__(self) -> None:
        self.count = 0

    def bump(self, code: str) -> int:
        """Needs a code no state holds."""
        raise ValueError(f"wrong code {code}")


def _sampler(cls: type) -> tuple[ClassDomain, ContextSampler]:
    domain = ClassDomain(cls)
    base = domain.environment({})
    return domain, ContextSampler(domain, base, ContextParams(max_chain=2))


def test_the_graph_is_inferred_from_outputs_and_writes() -> None:
    domain, _ = _sampler(Shop)
    assert domain.write_tools() == ["new_cart", "add_item"]
    assert ("list_stock", "add_item") in domain.api_graph.edges
    assert ("new_cart", "add_item") in domain.api_graph.edges


def test_the_sampler_anchors_on_a_walk_that_runs_cleanly() -> None:
    domain, sampler = _sampler(Shop)
    for index in range(6):
        context = sampler.sample(random.Random(index), index)
        assert context.anchor is not None
        assert context.missing == ""
        assert runs_cleanly(sampler.base, context.anchor)
        assert context.chain[0] in domain.write_tools()


def test_the_generic_prompt_shows_public_state_and_no_service_wording() -> None:
    _, sampler = _sampler(Shop)
    context = sampler.sample(random.Random(1), 0)
    proposer = Proposer(None, "m", Templates(Path.cwd()), domain_name="Shop")  # type: ignore[arg-type]
    text = proposer.render(context, [])
    assert '"apple": 3' in text
    assert "_rng" not in text and "_seen" not in text
    for service_word in ("customer-service", "zip", "reservation", "identity lookup"):
        assert service_word not in text
    assert "A shop with a stock and carts." in text


def test_a_domain_no_walk_can_use_names_what_is_missing() -> None:
    _, sampler = _sampler(Broken)
    context = sampler.sample(random.Random(0), 0)
    assert context.anchor is None
    assert context.missing.startswith("no 'act' task pattern fits the data: bump")


def _playbook(tmp_path: Path, domain: str, episodes: int) -> LoadedPlaybook:
    text = f"""
    name: walk
    seed: 5
    domain: {domain}
    models: {{default: {{provider: simulated}}}}
    phases:
      - name: propose
        episodes: {episodes}
        steps:
          - kind: protocol
            use: blueprints
            roles: {{proposer: {{context: {{no_write_share: 0.3}}}}}}
            limits: {{retries: 0}}
    """
    source = YamlSource("test.yaml", textwrap.dedent(text))
    assert isinstance(source.data, dict)
    source.data["store"] = str(tmp_path / "run")
    extensions = Extensions()
    register(extensions)
    playbook = parse_playbook(source, extensions.steps, extensions.protocol_catalog)
    return LoadedPlaybook(playbook, extensions, "test.yaml")


async def _attempts(tmp_path: Path, domain: str, episodes: int) -> tuple[Any, list[Any]]:
    summary = await run_playbook(_playbook(tmp_path, domain, episodes))
    async with Store.open(summary.store_path) as store:
        attempts = [r.payload for r in await store.results(summary.run_id, "propose", "attempt")]
    return summary, attempts


async def test_blueprints_come_from_walks_with_no_patterns_written(tmp_path: Path) -> None:
    summary, _ = await _attempts(tmp_path, f"{__name__}:Shop", 8)
    assert summary.counts["propose"].get("accepted", 0) >= 6


async def test_a_missing_ingredient_is_the_failure_reason_not_malformed_json(
    tmp_path: Path,
) -> None:
    summary, attempts = await _attempts(tmp_path, f"{__name__}:Broken", 2)
    assert summary.counts["propose"] == {"rejected": 2}
    reasons = [attempt["checks"][0]["reasons"][0] for attempt in attempts]
    assert all(reason.startswith("no_task: no 'act' task pattern fits") for reason in reasons)


def test_a_write_whose_only_argument_is_the_users_id_is_confirmed_by_its_words() -> None:
    from agents.dialogue.trajectory_policy import lists_write
    from agents.dialogue.transcript import ToolCall

    login = ToolCall(id="c1", name="message_login", arguments={"user_id": "USR003"})
    listing = 'To confirm, I will message login (user_id: "USR003"). Shall I proceed?'
    assert lists_write(listing, login, ("message", "login"))
    assert not lists_write("Shall I proceed?", login, ("message", "login"))


def test_a_short_tool_name_is_its_own_confirmation_word() -> None:
    domain, _ = _sampler(Shop)
    assert domain.write_words("add_item") == ("item",)

    class Files:
        def rm(self, name: str) -> None:
            """Remove."""

    assert ClassDomain(Files).write_words("rm") == ("rm",)

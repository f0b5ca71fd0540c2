"""Context sampling: coherent write chains, seeded, anchored on a subject the task fits."""

from __future__ import annotations

import random

from library_domain import LibraryDomain

from agents.blueprints.context import ContextParams, ContextSampler, sample_write_chain, trim


def test_a_write_chain_follows_shared_upstream_reads() -> None:
    graph = LibraryDomain().api_graph
    writes = ["borrow_book", "return_book"]
    chain = sample_write_chain(graph, writes, random.Random(1), 2, "borrow_book")
    assert chain == ["borrow_book", "return_book"]


def test_a_chain_stops_when_no_related_write_is_left() -> None:
    graph = LibraryDomain().api_graph
    assert sample_write_chain(graph, ["borrow_book"], random.Random(0), 3, "borrow_book") == [
        "borrow_book"
    ]


def test_the_same_seed_gives_the_same_context() -> None:
    domain = LibraryDomain()
    sampler = ContextSampler(domain, domain.environment(), ContextParams())
    one, two = sampler.sample(random.Random(5)), sampler.sample(random.Random(5))
    assert (one.subject_id, one.chain, one.persona) == (two.subject_id, two.chain, two.persona)
    assert one.anchor == two.anchor


def test_the_anchor_task_is_about_the_sampled_subject() -> None:
    domain = LibraryDomain()
    sampler = ContextSampler(domain, domain.environment(), ContextParams())
    for seed in range(10):
        context = sampler.sample(random.Random(seed))
        assert context.anchor is not None
        assert context.anchor.user_id == context.subject_id
        assert all(example.user_id != context.subject_id for example in context.examples)


def test_trim_caps_lists_and_record_maps() -> None:
    value = {"orders": [1, 2, 3, 4], "records": {str(i): {"x": i} for i in range(5)}, "n": 1}
    assert trim(value, 2) == {"orders": [1, 2], "records": {"0": {"x": 0}, "1": {"x": 1}}, "n": 1}


def test_a_subject_pool_keeps_anchors_among_few_users() -> None:
    domain = LibraryDomain()
    params = ContextParams(subject_pool=2)
    sampler = ContextSampler(domain, domain.environment(), params)
    subjects = {sampler.sample(random.Random(seed)).subject_id for seed in range(20)}
    assert 1 <= len(subjects) <= 2

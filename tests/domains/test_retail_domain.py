"""The retail domain object: registry, tools and schemas, policy, graph, subjects."""

from __future__ import annotations

from retail_fixtures import ANN, ANN_TWO, retail_env

from domains.registry import resolve_domain
from domains.retail import RetailDomain

SPEC_TOOLS = {
    "find_user_id_by_email": [],
    "find_user_id_by_name_zip": [],
    "get_user_details": [],
    "get_order_details": [],
    "get_product_details": [],
    "list_all_product_types": [],
    "calculate": [],
    "think": [],
    "transfer_to_human_agents": [],
    "cancel_pending_order": ["order_id", "reason"],
    "modify_pending_order_address": [
        "order_id",
        "address1",
        "address2",
        "city",
        "state",
        "country",
        "zip",
    ],
    "modify_user_address": ["user_id", "address1", "address2", "city", "state", "country", "zip"],
    "modify_pending_order_payment": ["order_id", "payment_method_id"],
    "modify_pending_order_items": ["order_id", "item_ids", "new_item_ids", "payment_method_id"],
    "return_delivered_order_items": ["order_id", "item_ids", "payment_method_id"],
    "exchange_delivered_order_items": [
        "order_id",
        "item_ids",
        "new_item_ids",
        "payment_method_id",
    ],
}


def test_the_registry_builds_the_retail_domain() -> None:
    domain = resolve_domain("retail")
    assert isinstance(domain, RetailDomain) and domain.name == "retail"


def test_the_tools_are_the_spec_tools_and_only_writes_write() -> None:
    domain = RetailDomain()
    assert set(domain.tools) == set(SPEC_TOOLS)
    assert set(domain.write_tools()) == {name for name, args in SPEC_TOOLS.items() if args}


def test_write_tool_schemas_list_the_spec_arguments_in_order() -> None:
    for schema in RetailDomain().tool_schemas():
        function = schema["function"]
        expected = SPEC_TOOLS[function["name"]]
        if expected:
            assert list(function["parameters"]["properties"]) == expected
            assert function["parameters"]["required"] == expected
        assert function["description"]


def test_the_policy_is_markdown_covering_the_agent_rules() -> None:
    policy = RetailDomain().policy
    assert policy.startswith("# Retail agent policy")
    for phrase in ("email", 'explicit "yes"', "no longer needed", "gift card", "human agent"):
        assert phrase in policy


def test_the_api_graph_has_the_spec_edges() -> None:
    graph = RetailDomain().api_graph
    assert len(graph.edges) == 14
    assert graph.successors("get_product_details") == [
        "modify_pending_order_items",
        "exchange_delivered_order_items",
    ]
    assert set(graph.nodes) <= set(SPEC_TOOLS)


def test_subjects_are_the_user_ids() -> None:
    env = retail_env()
    assert RetailDomain().subjects(env) == [ANN, "bob_ng_2002", ANN_TWO]


def test_a_subject_context_holds_the_user_their_orders_and_products() -> None:
    env = retail_env()
    context = RetailDomain().subject_context(env, ANN)
    assert context.subject_id == ANN
    assert context.records["user"] == env.state.get("users", ANN)
    assert list(context.records["orders"]) == ["#W0000001", "#W0000002", "#W0000003"]
    assert set(context.records["products"]) == {"1111111111", "3333333333", "5555555555"}


def test_a_subject_context_is_a_copy_and_caps_long_lists() -> None:
    domain = RetailDomain()
    env = domain.environment({"data": {"seed": 2}})
    busiest = max(domain.subjects(env), key=lambda u: len(env.state.get("users", u)["orders"]))  # type: ignore[index]
    context = domain.subject_context(env, busiest)
    assert len(context.records["orders"]) <= 10 and len(context.records["products"]) <= 10
    context.records["user"]["email"] = "changed"
    assert env.state.get("users", busiest)["email"] != "changed"  # type: ignore[index]


def test_an_unknown_subject_has_an_empty_context() -> None:
    assert RetailDomain().subject_context(retail_env(), "nobody").records == {}

"""The kind registry: built-ins, plugins through entry points, and broken plugins that must not break us."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from pydantic import BaseModel

from flowdesk.model.kinds import KindSpec
from flowdesk.model.ports import node_ports
from flowdesk.model.workflow import Edge, Node
from flowdesk.nodes.kinds import BUILTIN_KINDS
from flowdesk.nodes.registry import DuplicateKindError, Registry, builtin_registry, default_registry

DESIGN_KINDS = {
    "start",
    "output",
    "llm",
    "http",
    "transform",
    "condition",
    "switch",
    "merge",
    "map",
    "for_each",
    "collect",
    "subworkflow",
    "delay",
    "approval",
    "tool",
    "note",
}


def test_builtin_kinds_are_the_designed_set_and_each_is_complete() -> None:
    registry = builtin_registry()
    assert {k.name for k in registry} == DESIGN_KINDS
    for spec in registry:
        assert spec.display_name and spec.category and spec.description and spec.icon
        assert issubclass(spec.config_model, BaseModel)
        for name, field in spec.config_model.model_fields.items():
            assert field.description, f"{spec.name}.{name} has no description for the inspector"
        spec.ports_for(spec.default_config())  # defaults always give ports


def test_plugin_kind_is_registered_through_entry_point() -> None:
    """Needs tests/plugin installed (the README's test command installs it)."""
    registry = default_registry()
    spec = registry.get("example.reverse")
    assert spec is not None, "the example plugin is not installed: pip install ./tests/plugin"
    assert spec.category == "Example Plugin"
    assert registry.plugin_errors == []
    assert [p.name for p in spec.ports_for({}).inputs] == ["text"]


def test_broken_plugins_are_reported_not_raised() -> None:
    registry = builtin_registry()
    registry.load_plugins(
        [
            EntryPoint(name="missing", value="no_such_module_xyz:KINDS", group="flowdesk.nodes"),
            EntryPoint(name="wrong", value="os:sep", group="flowdesk.nodes"),
            EntryPoint(name="clash", value="flowdesk.nodes.kinds:BUILTIN_KINDS", group="flowdesk.nodes"),
        ]
    )
    messages = [e.message for e in registry.plugin_errors]
    assert len(messages) == 3
    assert "ModuleNotFoundError" in messages[0]
    assert "expected a KindSpec" in messages[1]
    assert "already registered" in messages[2]
    assert len(registry) == len(BUILTIN_KINDS)


def test_duplicate_registration_is_refused() -> None:
    registry = Registry(BUILTIN_KINDS)
    with pytest.raises(DuplicateKindError):
        registry.register(BUILTIN_KINDS[0])
    registry.register(BUILTIN_KINDS[0], replace=True)


def test_dynamic_ports_follow_config(registry: Registry) -> None:
    switch = registry.get("switch")
    merge = registry.get("merge")
    assert switch is not None and merge is not None
    assert [p.name for p in switch.ports_for({"cases": ["yes", "no"]}).outputs] == ["yes", "no", "default"]
    assert [p.name for p in merge.ports_for({"inputs": 4}).inputs] == ["in_1", "in_2", "in_3", "in_4"]
    # an invalid config falls back to the defaults' ports instead of failing
    assert [p.name for p in merge.ports_for({"inputs": "many"}).inputs] == ["in_1", "in_2"]


def test_error_port_and_placeholder_ports(registry: Registry) -> None:
    node = Node(id="h", kind="http", on_error="continue")
    assert node_ports(node, registry).outputs[-1].name == "error"
    ghost = Node(id="g", kind="acme.magic", config={"anything": [1, 2]})
    edges = [
        Edge(id="e1", source="a", source_port="out", target="g", target_port="in_x"),
        Edge(id="e2", source="g", source_port="result", target="b", target_port="value"),
    ]
    ports = node_ports(ghost, registry, edges)
    assert [p.name for p in ports.inputs] == ["in_x"] and [p.name for p in ports.outputs] == ["result"]


def test_kind_spec_is_usable_without_nodes_layer() -> None:
    spec = KindSpec(name="x", display_name="X", category="Test", description="d")
    assert spec.default_config() == {} and spec.ports_for({}).inputs == ()

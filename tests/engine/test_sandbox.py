"""The template/expression sandbox: scope, JSON results, strict undefined, cache, escapes, limits."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from flowdesk.engine.sandbox import Sandbox, SandboxError, SandboxLimits

FAST = SandboxLimits(timeout_s=0.2)
QUICK_S = 0.2 + 0.5  # the brief: a runaway template stops within about timeout + 0.5 s


def make_scope() -> dict[str, Any]:
    return {
        "inputs": {"value": 5, "name": "Ann", "items": [1, 2, 3], "text": "a<b>&'c'", "data": {"k": [1, {"z": None}]}},
        "run": {"inputs": {"topic": "owls"}},
        "nodes": {"fetch-1": {"output": {"body": "B", "status": 200}}, "llm": {"output": {"text": "T"}}},
        "loop": {"iteration": 3},
    }


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


@pytest.fixture
def scope() -> dict[str, Any]:
    return make_scope()


def fails(
    sandbox: Sandbox, source: str, scope: dict[str, Any], *, expression: bool = False, field: str = "prompt"
) -> str:
    """Run ``source`` expecting a SandboxError; its message."""
    with pytest.raises(SandboxError) as info:
        if expression:
            sandbox.evaluate(source, scope, field=field)
        else:
            sandbox.render(source, scope, field=field)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def fails_quickly(
    sandbox: Sandbox, source: str, scope: dict[str, Any], *, expression: bool = False, within: float = 0.5
) -> str:
    start = time.monotonic()
    message = fails(sandbox, source, scope, expression=expression)
    assert time.monotonic() - start < within, message
    return message


# -- rendering ------------------------------------------------------------------------------------


def test_render_sees_every_scope_part(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    template = (
        "{{ inputs.name }} on {{ run.inputs.topic }}: {{ nodes['fetch-1'].output.body }}"
        "{{ nodes.llm.output.text }} #{{ loop.iteration }}"
    )
    assert sandbox.render(template, scope) == "Ann on owls: BT #3"


def test_render_loops_and_keeps_trailing_newline(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    template = "{% for i in inputs['items'] %}{{ i }}{{ ',' if not loop.last }}{% endfor %} of {{ loop.iteration }}\n"
    assert sandbox.render(template, scope) == "1,2,3 of 3\n"


def test_autoescape_is_off(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    assert sandbox.render("{{ inputs.text }}", scope) == "a<b>&'c'"


def test_dict_keys_win_over_dict_methods(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    """A port named ``items`` is common (map nodes); ``inputs.items`` must be its value."""
    assert sandbox.evaluate("inputs.items", scope) == [1, 2, 3]
    assert sandbox.evaluate("inputs.data.items() | list", scope) == [["k", [1, {"z": None}]]]


def test_loop_controls_work(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    template = "{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"
    assert sandbox.render(template, scope) == "012"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ inputs.data | tojson }}", '{"k": [1, {"z": null}]}'),
        ("{{ inputs.text | tojson }}", "\"a<b>&'c'\""),  # plain JSON: no HTML escaping in prompts
        ("{{ inputs.data | tojson(indent=1) }}", '{\n "k": [\n  1,\n  {\n   "z": null\n  }\n ]\n}'),
        ("{{ ('{\"a\": [1, 2]}' | fromjson).a[1] }}", "2"),
        ("{{ inputs['items'] | join(', ') }} / {{ inputs['items'] | length }}", "1, 2, 3 / 3"),
        ("{{ inputs['items'] | sum }} {{ inputs['items'] | max }}", "6 3"),
        ("{{ '%s-%03d' | format('a', 7) }} {{ '{}+{}'.format(1, 2) }}", "a-007 1+2"),
        ("{{ 'a\nb' | indent(2, first=True) }}", "  a\n  b"),
        ("{{ inputs.name | replace('n', 'N') | upper }}", "ANN"),
        ("{{ inputs['items'] | map('string') | join }}", "123"),
        ("{{ inputs['items'] | select('odd') | list }}", "[1, 3]"),
        (
            (
                "{% set ns = namespace(total=0) %}{% for i in range(4) %}{% set ns.total = ns.total + i %}{% endfor %}"
                "{{ ns.total }}"
            ),
            "6",
        ),
        ("{{ 'x' ~ 1 ~ none }}", "x1None"),
    ],
)
def test_useful_filters_and_operators(sandbox: Sandbox, scope: dict[str, Any], template: str, expected: str) -> None:
    assert sandbox.render(template, scope) == expected


@pytest.mark.parametrize(
    "name",
    [
        "center",
        "safe",
        "escape",
        "pprint",
        "random",
        "wordwrap",
        "batch",
        "slice",
        "xmlattr",
        "urlize",
        "filesizeformat",
    ],
)
def test_filter_set_is_small(sandbox: Sandbox, scope: dict[str, Any], name: str) -> None:
    assert f"there is no filter named '{name}'" in fails(sandbox, f"{{{{ 'x' | {name} }}}}", scope)


# -- expressions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("inputs.value > 3", True),
        ("inputs.value < 3", False),
        ("inputs.value * 2", 10),
        ("inputs.value / 2", 2.5),
        ("inputs.name ~ '!'", "Ann!"),
        ("none", None),
        ("inputs['items'][1:]", [2, 3]),
        ("(1, 'a', [true])", [1, "a", [True]]),
        ("inputs.data", {"k": [1, {"z": None}]}),
        ("{'a': inputs.value, 'b': [run.inputs.topic]}", {"a": 5, "b": ["owls"]}),
        ("{1: 'one', none: 0}", {"1": "one", "null": 0}),
        ("range(3)", [0, 1, 2]),
        ("inputs['items'] | select('odd')", [1, 3]),
        ("dict(a=1, b=loop.iteration)", {"a": 1, "b": 3}),
        ("nodes['fetch-1'].output.status == 200 and not false", True),
        ("inputs.name.upper().split('N')", ["A", "", ""]),
    ],
)
def test_expressions_return_json_values(
    sandbox: Sandbox, scope: dict[str, Any], expression: str, expected: Any
) -> None:
    result = sandbox.evaluate(expression, scope)
    assert result == expected
    assert type(result) is type(expected)


def test_evaluate_returns_a_copy_not_the_scope(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    result = sandbox.evaluate("inputs.data", scope)
    result["k"].append("mutated")
    assert scope["inputs"]["data"] == {"k": [1, {"z": None}]}


@pytest.mark.parametrize("expression", ["namespace()", "inputs.data.get", "range", "inputs.data.keys"])
def test_non_json_results_are_refused(sandbox: Sandbox, scope: dict[str, Any], expression: str) -> None:
    assert "not a JSON value" in fails(sandbox, expression, scope, expression=True)


# -- StrictUndefined -----------------------------------------------------------------------------


def test_typo_is_an_error_naming_the_attribute(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    message = fails(sandbox, "{{ inputs.nmae }}", scope)
    assert message == (
        "prompt: no 'nmae' here: the object has 'value', 'name', 'items', 'text', 'data' in \"{{ inputs.nmae }}\""
    )


def test_undefined_names_and_values(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    assert "'missing' is not defined here" in fails(sandbox, "{{ missing }}", scope)
    assert "'nmae'" in fails(sandbox, "inputs.nmae", scope, expression=True, field="condition")
    assert "'nope'" in fails(sandbox, "{% for x in inputs.nope %}{% endfor %}", scope)


def test_defined_tests_and_default_still_work(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    assert sandbox.render("{{ 'yes' if inputs.nmae is defined else 'no' }}", scope) == "no"
    assert sandbox.render("{{ inputs.nmae | default('fallback') }}", scope) == "fallback"
    assert sandbox.evaluate("inputs.nmae is undefined", scope) is True
    assert sandbox.evaluate("inputs.value is defined", scope) is True


# -- cache ----------------------------------------------------------------------------------------


def test_same_source_is_compiled_once(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    for value in range(10_000):
        scope["inputs"]["value"] = value
        assert sandbox.render("v={{ inputs.value }}", scope) == f"v={value}"
        assert sandbox.evaluate("inputs.value + 1", scope) == value + 1
    assert sandbox.compiled_count == 2


def test_template_and_expression_are_cached_apart(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    assert sandbox.render("inputs.value", scope) == "inputs.value"
    assert sandbox.evaluate("inputs.value", scope) == 5
    assert sandbox.compiled_count == 2


def test_cache_is_a_bounded_lru(scope: dict[str, Any]) -> None:
    sandbox = Sandbox(SandboxLimits(max_cache=2))
    for source in ["a", "b", "a", "c"]:  # "a" was used recently, so "b" is the one evicted
        sandbox.render(source, scope)
    assert sandbox.compiled_count == 3
    sandbox.render("a", scope)
    assert sandbox.compiled_count == 3
    sandbox.render("b", scope)
    assert sandbox.compiled_count == 4


def test_check_syntax_warms_the_cache(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    assert sandbox.check_syntax("inputs.value > 3", mode="expression") is None
    sandbox.evaluate("inputs.value > 3", scope)
    assert sandbox.compiled_count == 1


def test_sandboxes_do_not_share_a_cache(scope: dict[str, Any]) -> None:
    first, second = Sandbox(), Sandbox()
    first.render("{{ 1 }}", scope)
    assert (first.compiled_count, second.compiled_count) == (1, 0)


# -- escapes --------------------------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ self.__init__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ inputs.__class__ }}",
    "{{ inputs['__class__'] }}",
    "{{ inputs|attr('__class__') }}",
    "{{ namespace.__init__.__globals__.os }}",
    "{{ namespace.mro() }}",
    "{{ dict.__subclasses__() }}",
    "{{ config }}",
    "{{ request }}",
    "{{ '{0.__class__}'.format(inputs) }}",
    "{{ '{0.__class__.__init__.__globals__}'.format(namespace()) }}",
    "{{ '{a.__class__}'.format_map({'a': inputs}) }}",
    "{{ ('{0.__class__}' | attr('format'))(inputs) }}",
    "{{ range.__class__ }}",
    "{{ range.__globals__ }}",
    "{{ open('/etc/passwd') }}",
    "{{ __import__('os') }}",
    "{{ eval('1') }}",
    "{{ (1).__class__.__base__ }}",
    "{{ (5).to_bytes(10, 'big') }}",
    "{{ 'x'.encode() }}",
    "{{ 'x'.translate({}) }}",
    "{% for i in range(1) %}{{ loop.__class__ }}{% endfor %}",
    "{% for i in range(1) %}{{ loop._iterator }}{% endfor %}",
    "{{ (inputs | items).gi_frame }}",
    "{{ (inputs | items).gi_code }}",
    "{% macro m() %}{% endmacro %}{{ m._func.__globals__ }}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_attribute_escapes_are_blocked(sandbox: Sandbox, scope: dict[str, Any], template: str) -> None:
    message = fails(sandbox, template, scope)
    assert "unsafe" in message or "not defined" in message or "no '" in message, message


@pytest.mark.parametrize(
    "template",
    [
        "{% include '/etc/passwd' %}",
        "{% import 'os' as os %}",
        "{% from 'os' import path %}",
        "{% extends '/etc/passwd' %}",
    ],
)
def test_templates_cannot_load_files(sandbox: Sandbox, scope: dict[str, Any], template: str) -> None:
    assert "not allowed: templates cannot load other templates" in fails(sandbox, template, scope)
    assert "not allowed" in (sandbox.check_syntax(template, mode="template") or "")


@pytest.mark.parametrize(
    "template",
    [
        "{{ dict.update(inputs, {'value': 666}) }}",
        "{{ dict.clear(inputs) }}",
        "{{ inputs.update({'value': 666}) }}",
        "{{ inputs.pop('value') }}",
        "{{ inputs.setdefault('x', 1) }}",
        "{{ inputs['items'].append(4) }}",
        "{{ inputs['items'].sort(reverse=true) }}",
        "{{ list.append(inputs['items'], 4) }}",
    ],
)
def test_scope_data_cannot_be_mutated(sandbox: Sandbox, scope: dict[str, Any], template: str) -> None:
    fails(sandbox, template, scope)
    assert scope == make_scope()


# -- limits ---------------------------------------------------------------------------------------


def test_nested_range_loop_stops_at_the_deadline(scope: dict[str, Any]) -> None:
    template = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    message = fails_quickly(Sandbox(FAST), template, scope, within=QUICK_S)
    assert message.startswith("prompt: took longer than 0.2 s in ")


def test_nested_loop_over_a_big_scope_list_stops_at_the_deadline(scope: dict[str, Any]) -> None:
    scope["inputs"]["rows"] = list(range(200_000))
    template = "{% for a in inputs.rows %}{% for b in inputs.rows %}{{ '' }}{% endfor %}{% endfor %}"
    assert "took longer than 0.2 s" in fails_quickly(Sandbox(FAST), template, scope, within=QUICK_S)


def test_loop_with_filter_and_no_body_stops_at_the_deadline(scope: dict[str, Any]) -> None:
    template = "{% for i in range(100000) %}{% for j in range(100000) if j < 0 %}{% endfor %}{% endfor %}"
    assert "took longer than" in fails_quickly(Sandbox(FAST), template, scope, within=QUICK_S)


def test_exponential_macro_recursion_stops_at_the_deadline(scope: dict[str, Any]) -> None:
    template = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    assert "took longer than" in fails_quickly(Sandbox(FAST), template, scope, within=QUICK_S)


@pytest.mark.parametrize(
    "template",
    [
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}",
    ],
)
def test_unbounded_recursion_is_an_error(sandbox: Sandbox, scope: dict[str, Any], template: str) -> None:
    assert "too deeply nested or recursive" in fails_quickly(sandbox, template, scope, within=2.0)


def test_deadline_is_per_call(scope: dict[str, Any]) -> None:
    sandbox = Sandbox(FAST)
    fails(sandbox, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", scope)
    time.sleep(0.25)
    assert sandbox.render("{% for i in range(1000) %}{% endfor %}ok", scope) == "ok"


@pytest.mark.parametrize(
    "source",
    [
        "'x' * 10**9",
        "10**9 * 'x'",
        "[1] * 10**9",
        "'ab' + 'x' * 999999",
        "[[[1] * 1000] * 1000] * 1000",
        "'{:>1000000000}'.format('x')",
        "'{:.1000000000f}'.format(1.0)",
        "'{:{w}}'.format('x', w=10**9)",
        "'%1000000000s' % 'x'",
        "'%*s' % (10**9, 'x')",
        "'%.1000000000f' % 1.0",
        "'%1000000000d' | format(1)",
        "'x'.center(10**9)",
        "'x'.ljust(10**9)",
        "'x'.zfill(10**9)",
        "('\t' * 1000).expandtabs(10**6)",
        "('a' * 1000).replace('a', 'b' * 10000)",
        "('x' * 100000) | replace('x', 'yyyyyyyyyyyyyyy')",
        "('y' * 1000000).join(range(100000))",
        "range(100000) | join('y' * 1000)",
        "('a\n' * 1000) | indent(10**9)",
        "('x' * 1000000) ~ ('x' * 1000000)",
        "9 ** (9 ** 9)",
        "2 ** 100000",
        "(2 ** 9000) * (2 ** 9000)",
        "range(10**6)",
        "range(10**30)",
    ],
)
def test_size_bombs_are_refused_quickly(sandbox: Sandbox, scope: dict[str, Any], source: str) -> None:
    message = fails_quickly(sandbox, source, scope, expression=True)
    assert any(word in message for word in ("limit", "too large", "bits", "range()")), message
    assert fails_quickly(sandbox, "{{ " + source + " }}", scope)


def test_power_tower_is_left_associative_and_small(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    """Jinja reads ``9**9**9`` as ``(9**9)**9`` (78 digits), which is harmless, so it is allowed."""
    assert sandbox.evaluate("9**9**9", scope) == (9**9) ** 9


@pytest.mark.parametrize(
    "template",
    [
        "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
        "{% set ns = namespace(a=[1]) %}{% for i in range(100) %}{% set ns.a = [ns.a, ns.a] %}{% endfor %}",
        "{% set ns = namespace(a=[1]) %}{% for i in range(100) %}{% set ns.a = {'x': ns.a, 'y': ns.a} %}{% endfor %}",
        "{% set ns = namespace(a=[1]) %}{% for i in range(100) %}{% set ns.a = dict(x=ns.a, y=ns.a) %}{% endfor %}",
        "{% set a = [1] * 1000 %}{% set b = [a] * 1000 %}{% set c = [b] * 1000 %}{{ c }}",
        "{% set a = ['x' * 1000000] * 9 %}{% set b = [a, a] %}{{ b | tojson }}",
    ],
)
def test_doubling_and_aliasing_bombs_are_refused(sandbox: Sandbox, scope: dict[str, Any], template: str) -> None:
    message = fails_quickly(sandbox, template, scope, within=1.0)
    assert "limit" in message or "too large" in message, message


def test_output_longer_than_the_limit_is_refused(scope: dict[str, Any]) -> None:
    sandbox = Sandbox(SandboxLimits(max_output_chars=1000))
    assert len(sandbox.render("{% for i in range(1000) %}x{% endfor %}", scope)) == 1000
    message = fails(sandbox, "{% for i in range(1001) %}x{% endfor %}", scope)
    assert "the output is longer than 1,000 characters" in message


@pytest.mark.parametrize(
    "template",
    [
        "{% macro m() %}{% for i in range(100000) %}0123456789{% endfor %}{% endmacro %}{% set s = m() %}ok",
        "{% set s %}{% for i in range(100000) %}0123456789{% endfor %}{% endset %}ok",
        "{% filter upper %}{% for i in range(100000) %}0123456789{% endfor %}{% endfilter %}",
    ],
)
def test_text_built_in_buffers_is_counted(scope: dict[str, Any], template: str) -> None:
    sandbox = Sandbox(SandboxLimits(max_output_chars=1000))
    assert "produced more than 10,000 characters" in fails_quickly(sandbox, template, scope)


def test_big_values_are_refused_when_printed(scope: dict[str, Any]) -> None:
    sandbox = Sandbox(SandboxLimits(max_output_chars=1000))
    scope["inputs"]["rows"] = list(range(5000))
    assert "too large" in fails(sandbox, "{{ inputs.rows }}", scope)


def test_sum_adds_only_numbers(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    assert "sum adds numbers, not list" in fails(sandbox, "{{ [[1], [2]] | sum(start=[]) }}", scope)


def test_threads_have_their_own_deadline(scope: dict[str, Any]) -> None:
    sandbox = Sandbox(FAST)
    results: list[Any] = []

    def slow() -> None:
        try:
            sandbox.render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", scope)
        except SandboxError as exc:
            results.append(str(exc))

    thread = threading.Thread(target=slow)
    thread.start()
    quick = [sandbox.evaluate("inputs.value + 1", scope) for _ in range(2000)]
    thread.join()
    assert quick == [6] * 2000
    assert len(results) == 1 and "took longer" in results[0]


# -- error messages -------------------------------------------------------------------------------


def test_syntax_error_names_field_line_and_source(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    assert fails(sandbox, "{{ inputs.x }", scope) == "prompt: unexpected '}' (line 1) in \"{{ inputs.x }\""
    message = fails(sandbox, "inputs.x >", scope, expression=True, field="condition expression")
    assert message == 'condition expression: the expression ends too early (line 1) in "inputs.x >"'


def test_runtime_error_names_the_line_of_a_long_template(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    message = fails(sandbox, "Hello\n\n{{ inputs.name }} {{ inputs.nmae }}\nbye", scope)
    assert message.startswith("prompt: no 'nmae' here: the object has 'value', ")
    assert '(line 3) in "Hello\\n\\n{{' in message


def test_long_sources_are_truncated_in_messages(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    template = "{{ inputs.nmae }}" + "x" * 500
    message = fails(sandbox, template, scope)
    quoted = message.split(" in ", 1)[1]
    assert quoted.endswith('..."') and len(quoted) <= 82


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 / 0", "ZeroDivisionError: division by zero"),
        ("1 + 'a'", "TypeError: unsupported operand"),
        ("'{' | fromjson", "JSONDecodeError: Expecting property name"),
        ("inputs['items'][10]", "the list has no item 10 (it has 3 items)"),
    ],
)
def test_python_errors_become_sandbox_errors(
    sandbox: Sandbox, scope: dict[str, Any], source: str, expected: str
) -> None:
    with pytest.raises(SandboxError) as info:
        sandbox.evaluate(source, scope, field="transform")
    assert str(info.value).startswith(f"transform: {expected}")
    assert info.value.field == "transform" and info.value.source == source


def test_non_string_source_is_an_error(sandbox: Sandbox, scope: dict[str, Any]) -> None:
    with pytest.raises(SandboxError, match="must be a string"):
        sandbox.render(None, scope)  # type: ignore[arg-type]


# -- syntax checking -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "mode", "expected"),
    [
        ("Hello {{ inputs.name }}", "template", None),
        ("{% for x in inputs.items %}{{ x }}{% endfor %}", "template", None),
        ("inputs.value > 3 and loop.iteration < 5", "expression", None),
        ("{{ inputs.x }", "template", "unexpected '}' (line 1)"),
        ("a\nb\n{% for x in y %}", "template", "(line 3)"),
        ("{% if x %}", "template", "the template ends inside a '{% if %}' block: close it with '{% endif %}'"),
        ("{{ x | center }}", "template", "there is no filter named 'center'"),
        ("inputs.x >", "expression", "the expression ends too early (line 1)"),
        ("a b", "expression", "unexpected 'b' after the expression (line 1)"),
        ("", "expression", "the expression ends too early"),
        ("{{ x }}", "expression", "expected token ':'"),
    ],
)
def test_check_syntax(sandbox: Sandbox, source: str, mode: Any, expected: str | None) -> None:
    problem = sandbox.check_syntax(source, mode=mode)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem and "\n" not in problem


def test_check_syntax_rejects_an_unknown_mode(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="mode"):
        sandbox.check_syntax("x", mode="python")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "template",
    [
        "{{ inputs.rows | tojson }}",
        "{{ '{}'.format(inputs.rows) }}",
        "{{ '%s' % (inputs.rows,) }}",
        "{{ inputs.rows | string }}",
        "{{ inputs.rows | join(',') }}",
        "{{ 'x' ~ inputs.rows }}",
    ],
)
def test_big_values_are_refused_before_they_are_serialised(scope: dict[str, Any], template: str) -> None:
    sandbox = Sandbox(SandboxLimits(max_output_chars=1000))
    scope["inputs"]["rows"] = list(range(5000))
    assert "limit 1,000" in fails(sandbox, template, scope)

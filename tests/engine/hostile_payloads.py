"""A corpus of hostile templates and expressions: work done in C on the sandbox's behalf, memory
bombs, and values that would show the sandbox's internals.

Each case is ``(mode, source, expect)``: ``expect`` is ``REFUSED`` (a SandboxError), ``ANY`` (it may
work or be refused, as long as it ends within the wall-clock limit, stays lean and leaks nothing),
or the exact value it must produce. ``test_sandbox_hostile.py`` runs each one in a forked child
under a wall-clock limit, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

from typing import Any, Final

REFUSED: Final = "refused"
ANY: Final = "any"
E, T = "expression", "template"

_LOOP_NS = "{% set ns = namespace(x=SEED) %}{% for i in range(N) %}{% set ns.x = STEP %}{% endfor %}{{ ns.x|length }}"


def _grow(seed: str, step: str, n: int = 80) -> str:
    return _LOOP_NS.replace("SEED", seed).replace("STEP", step).replace("N", str(n))


CPU_AND_MEMORY: list[tuple[str, str, Any]] = [
    # rounding: round(int, -n) builds 10**n in C
    (E, "1|round(-10**9)", REFUSED),
    (E, "1|round(-10**9, 'floor')", REFUSED),
    (E, "1.5|round(10**9, 'ceil')", REFUSED),
    (E, "12345678901234567890|round(-10**7)", REFUSED),
    (T, "{{ 7|round(-(10**8)) }}", REFUSED),
    (E, "1.25|round(1)", 1.2),
    # powers and products of big integers
    (E, "2 ** (10**9)", REFUSED),
    (E, "10 ** (10 ** 10)", REFUSED),
    (E, "(2 ** 9999) * (2 ** 9999)", REFUSED),
    (E, "(2 ** 9999) ** 2", REFUSED),
    (E, "(-3) ** 100000", REFUSED),
    (E, "2 ** 64", 2**64),
    # repetition and padding
    (E, "'a' * 10**9", REFUSED),
    (E, "[1] * 10**9", REFUSED),
    (E, "10**9 * 'ab'", REFUSED),
    (E, "'a'.center(10**9)", REFUSED),
    (E, "'a'.ljust(10**9, 'x')", REFUSED),
    (E, "'a'.rjust(10**9)", REFUSED),
    (E, "'1'.zfill(10**9)", REFUSED),
    (E, "'\\t'.expandtabs(10**9)", REFUSED),
    (E, "'\\t'.expandtabs(tabsize=10**9)", REFUSED),
    (E, "('\\t' * 999999).expandtabs()", REFUSED),
    (E, "'%0999999999d'|format(1)", REFUSED),
    (E, "'%*d'|format(10**9, 1)", REFUSED),
    (E, "'%.999999999f'|format(1.5)", REFUSED),
    (E, "'%0999999999d' % 1", REFUSED),
    (E, "'{:>999999999}'.format('a')", REFUSED),
    (E, "'{:>{w}}'.format('a', w=10**9)", REFUSED),
    (E, "'{:.999999999f}'.format(1.5)", REFUSED),
    (E, "'{0:{1}}'.format(1, 10**9)", REFUSED),
    (E, "('x' * 1000)|indent(10**9)", REFUSED),
    (E, "('a\\n' * 500000)|indent(100)", REFUSED),
    (E, "('a' * 999999).replace('a', 'aaaa')", REFUSED),
    (E, "('a' * 999999)|replace('a', 'aaaa')", REFUSED),
    (E, "('a' * 999999).replace('', 'bb')", REFUSED),
    (E, "'x'.join(['a' * 999999, 'b' * 999999])", REFUSED),
    (E, "['a' * 999999, 'b' * 999999]|join", REFUSED),
    (E, "('a' * 999999)|list|join(',')", REFUSED),
    (E, "(['a' * 999999] * 10)|tojson", REFUSED),
    (E, "'a' * 999999 ~ 'b' * 999999", REFUSED),
    (E, "'%s%s' % ('a' * 999999, 'b' * 999999)", REFUSED),
    # integers built in C from text
    (E, "('1' * 900000)|int(base=2)", REFUSED),
    (E, "('f' * 500000)|int(base=16)", REFUSED),
    (E, "('1' * 5000)|int", ANY),
    (E, "('9' * 5000)|fromjson", REFUSED),
    (E, "('[' * 100000)|fromjson", REFUSED),
    (E, "('[' * 100000 ~ ']' * 100000)|fromjson", REFUSED),
    (E, "('{\"a\":' * 50000 ~ '1' ~ '}' * 50000)|fromjson", REFUSED),
    (E, "('9' * 4000)|fromjson * ('9' * 4000)|fromjson", REFUSED),
    (E, "'[1, 2.5, \"x\"]'|fromjson", [1, 2.5, "x"]),
    (E, "'\"a\\\\ud800\"'|fromjson|length", 2),
    # ranges
    (E, "range(10**9)", REFUSED),
    (E, "range(10**18)|list", REFUSED),
    (E, "range(0, 10**30, 1)|length", REFUSED),
    (E, "range(100000)|list|sum", 4999950000),
    # loops, recursion and growth through variables
    (T, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", REFUSED),
    (T, "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", REFUSED),
    (T, "{% for x in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}", REFUSED),
    (T, _grow("'a'", "ns.x ~ ns.x"), REFUSED),
    (T, _grow("[1]", "ns.x + ns.x"), REFUSED),
    (T, _grow("[1]", "[ns.x, ns.x]"), REFUSED),
    (T, _grow("[]", "[ns.x]", 100000), REFUSED),
    (T, "{% for i in range(100000) %}{{ ('a' * 999999).count('b') }}{% endfor %}", REFUSED),
    (T, "{% for i in range(100000) %}{{ 'a' * 999999 }}{% endfor %}", REFUSED),
    (E, "('a' * 999999)|list|sort|unique|list|length", ANY),  # ends either way; under load it may hit the deadline
    (E, "('\\n' * 999999).splitlines()|length", ANY),
]

INTERNALS: list[tuple[str, str, Any]] = [
    (T, "{{ namespace }}", REFUSED),
    (T, "{{ range }}", REFUSED),
    (T, "{{ self }}", REFUSED),
    (T, "{{ dict }}", REFUSED),
    (T, "{{ 'a'.upper }}", REFUSED),
    (T, "{{ {'a': 1}.items }}", REFUSED),
    (T, "{% for x in [1] %}{{ loop }}{% endfor %}", REFUSED),
    (T, "{% macro m() %}{% endmacro %}{{ m }}", REFUSED),
    (T, "{% macro m() %}{{ caller }}{% endmacro %}{% call m() %}x{% endcall %}", REFUSED),
    (T, "{% set ns = namespace(a=1) %}{{ ns }}", REFUSED),
    (T, "{{ [range] }}", REFUSED),
    (T, "{{ {'a': namespace} }}", REFUSED),
    (T, "{{ range|string }}", REFUSED),
    (T, "{{ range|lower }}", REFUSED),
    (T, "{{ self|upper }}", REFUSED),
    (T, "{{ range|trim }}", REFUSED),
    (T, "{{ range|truncate(5) }}", REFUSED),
    (T, "{{ range ~ '' }}", REFUSED),
    (T, "{{ '{0!r}'.format(range) }}", REFUSED),
    (T, "{{ '{}'.format(self) }}", REFUSED),
    (T, "{{ '%r'|format(self) }}", REFUSED),
    (T, "{{ '%s' % namespace }}", REFUSED),
    (T, "{{ [range]|join }}", REFUSED),
    (T, "{{ [1, 2]|map('string') }}", REFUSED),
    (T, "{{ {'a': range}|tojson }}", REFUSED),
    (E, "namespace", REFUSED),
    (E, "[self]", REFUSED),
    (E, "range|string", REFUSED),
    # the classic escapes stay closed
    (T, "{{ ''.__class__.__mro__ }}", REFUSED),
    (T, "{{ range.__self__ }}", REFUSED),
    (T, "{{ self._TemplateReference__context }}", REFUSED),
    (T, "{{ dict.fromkeys([1]) }}", REFUSED),
    (T, "{{ '{0.__class__}'.format(1) }}", REFUSED),
    (T, "{{ cycler }}", REFUSED),
    (T, "{% include 'x' %}", REFUSED),
    (T, "{{ inputs.name|upper }} {{ [1, 'a', none, true]|join(',') }}", "ANN 1,a,None,True"),
    (T, "{{ ('word ' * 10)|truncate(12) }} {{ [1, 2]|truncate(5) }} {{ 42|lower }}", "word... [1, 2] 42"),
    (T, "{{ 'a b'|wordcount }} {{ 'a b'|title }} {{ ' x '|trim }} {{ 'a b'|urlencode }}", "2 A B x a%20b"),
]

CASES: list[tuple[str, str, Any]] = CPU_AND_MEMORY + INTERNALS

LEAK_MARKERS: tuple[str, ...] = ("<class", "<bound", "<built-in", "<function", "<Template", "<Macro",
                                 "<generator", "<Namespace", "<Loop", " at 0x", "jinja2.", "flowdesk.")  # fmt: skip
"""Text that would show the sandbox's internals in a value or a message."""

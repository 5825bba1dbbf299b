"""The offline LLM provider, its token estimate and the provider registry."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdesk.nodes.llm_contract import LLMError, LLMRequest, LLMResult
from flowdesk.providers.offline import ECHO_PREFIX, OfflineProvider, fault_for, parse_model
from flowdesk.providers.resolver import ProviderRegistry, default_providers
from flowdesk.providers.tokens import count_tokens, split_pieces, truncate_to_tokens


def complete(request: LLMRequest, provider: OfflineProvider | None = None) -> tuple[LLMResult, list[str]]:
    deltas: list[str] = []
    result = asyncio.run((provider or OfflineProvider()).complete(request, deltas.append))
    return result, deltas


def req(model: str = "echo", prompt: str = "hello", **kw: Any) -> LLMRequest:
    return LLMRequest(model=model, prompt=prompt, **kw)


# --- tokens --------------------------------------------------------------------------------------

# Exact cl100k_base counts (GPT-4 / GPT-3.5 tokenizer) and where each was published.
KNOWN_CL100K_COUNTS = [
    ("hello world", 2, "tiktoken tests/test_encoding.py: encode -> [15339, 1917]"),
    ("tiktoken is great!", 6, "OpenAI cookbook, How_to_count_tokens_with_tiktoken"),
    ("antidisestablishmentarianism", 6, "OpenAI cookbook, compare_encodings"),
    ("2 + 2 = 4", 7, "OpenAI cookbook, compare_encodings"),
    ("お誕生日おめでとう", 9, "OpenAI cookbook, compare_encodings"),
    ("👍", 3, "tiktoken tests/test_encoding.py: encode -> [9468, 239, 235]"),
    ("today\n \n", 2, "tiktoken tests/test_encoding.py: encode -> [31213, 27907]"),
    ("Hello, how are you doing today?", 8, "published encode -> [9906, 11, 1268, 527, 499, 3815, 3432, 30]"),
]


@pytest.mark.parametrize(("text", "expected", "source"), KNOWN_CL100K_COUNTS)
def test_token_estimate_is_within_a_quarter_of_cl100k(text: str, expected: int, source: str) -> None:
    assert abs(count_tokens(text) - expected) <= 0.25 * expected, source


def test_token_estimate_rule_on_plain_cases() -> None:
    assert count_tokens("") == 0
    assert count_tokens("a") == 1
    assert count_tokens("the cat sat") == 3  # short words: a token each, space included
    assert count_tokens("x" * 40) == 8  # a long letter run: 40 / 5
    assert count_tokens("1234567") == 3  # digits go in threes
    assert count_tokens(" " * 32) == 2  # whitespace: one per 16
    prose = "The quick brown fox jumps over the lazy dog. " * 50
    assert 450 <= count_tokens(prose) <= 550  # ~10 tokens a sentence, as real tokenizers give


@given(st.text(max_size=300))
def test_pieces_rebuild_the_text_and_truncation_respects_the_budget(text: str) -> None:
    assert "".join(split_pieces(text)) == text
    for budget in (0, 1, 3, 20):
        cut = truncate_to_tokens(text, budget)
        assert text.startswith(cut)
        assert count_tokens(cut) <= budget
    assert truncate_to_tokens(text, count_tokens(text)) == text


def test_truncation_cuts_an_overlong_word_instead_of_giving_nothing() -> None:
    cut = truncate_to_tokens("antidisestablishmentarianism", 2)
    assert cut and "antidisestablishmentarianism".startswith(cut) and count_tokens(cut) <= 2


# --- model string --------------------------------------------------------------------------------


def test_model_string_options_are_parsed() -> None:
    opts = parse_model("echo?latency=0.2&error_rate=0.3&seed=7")
    assert (opts.style, opts.latency, opts.error_rate, opts.seed) == ("echo", 0.2, 0.3, 7)
    assert parse_model("lorem").style == "lorem"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("foo", "offline provider has no style 'foo'; use echo or lorem"),
        ("", "has no style ''"),
        ("echo?speed=3", "has no option 'speed'"),
        ("echo?seed=1&seed=2", "given twice"),
        ("echo?seed=abc", "seed='abc' is not an integer"),
        ("echo?latency=fast", "is not a number"),
        ("echo?error_rate=1.5", "between 0 and 1"),
        ("echo?latency=-1", "between 0 and 600"),
        ("echo?latency=nan", "between 0 and 600"),
        ("echo?error_rate=0.6&timeout_rate=0.6", "must not exceed 1"),
        ("echo?latency", "cannot read the options"),
    ],
)
def test_bad_model_strings_are_refused_clearly(model: str, message: str) -> None:
    with pytest.raises(LLMError, match="offline provider") as info:
        complete(req(model))
    assert message in str(info.value)
    assert info.value.error_class == "node"


# --- echo and lorem ------------------------------------------------------------------------------


def test_echo_shows_the_prompt_and_streams_it_word_by_word() -> None:
    result, deltas = complete(req(prompt="Summarise: the report is late", system="Be brief."))
    assert result.text == ECHO_PREFIX + "Summarise: the report is late"
    assert "".join(deltas) == result.text and len(deltas) == 7
    assert result.finish_reason == "stop"
    assert result.usage.input_tokens == count_tokens("Be brief.") + count_tokens("Summarise: the report is late")
    assert result.usage.output_tokens == count_tokens(result.text)
    assert result.usage.cost_usd == 0


def test_echo_is_cut_at_max_tokens_and_says_so() -> None:
    long_prompt = " ".join(f"word{i}" for i in range(500))
    result, deltas = complete(req(prompt=long_prompt, max_tokens=50))
    assert result.finish_reason == "length"
    assert result.usage.output_tokens <= 50
    assert result.text.startswith(ECHO_PREFIX + "word0 word1") and "".join(deltas) == result.text


def test_stop_sequences_end_the_reply() -> None:
    result, _ = complete(req(prompt="first line\nsecond line", stop=("\n",)))
    assert result.text == ECHO_PREFIX + "first line" and result.finish_reason == "stop"


def test_lorem_is_deterministic_per_prompt_seed_and_system() -> None:
    first, deltas = complete(req("lorem", "Write a poem about rivers"))
    again, _ = complete(req("lorem", "Write a poem about rivers"))
    assert first.text == again.text and "".join(deltas) == first.text
    assert first.text[0].isupper() and first.text.endswith(".")
    assert complete(req("lorem", "Write a poem about mountains"))[0].text != first.text
    assert complete(req("lorem?seed=1", "Write a poem about rivers"))[0].text != first.text
    assert complete(req("lorem", "Write a poem about rivers", system="Rhyme."))[0].text != first.text


def test_lorem_length_varies_with_the_prompt_and_is_capped() -> None:
    lengths = {len(complete(req("lorem", f"prompt {i}"))[0].text.split()) for i in range(20)}
    assert len(lengths) >= 10 and min(lengths) >= 12
    capped = [complete(req("lorem", f"prompt {i}", max_tokens=15))[0] for i in range(20)]
    assert all(r.usage.output_tokens <= 15 for r in capped)
    assert any(r.finish_reason == "length" for r in capped)


# --- JSON from output_schema ---------------------------------------------------------------------

SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 3, "maxLength": 40},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
            "ok": {"type": "boolean"},
            "nothing": {"type": "null"},
            "mood": {"enum": ["happy", "sad", 3]},
            "version": {"const": 2},
        },
        "required": ["title", "score"],
        "additionalProperties": False,
    },
    {
        "type": "array",
        "items": {"type": "integer", "multipleOf": 7, "minimum": 10, "maximum": 60},
        "minItems": 2,
        "uniqueItems": True,
    },
    {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
            "mail": {"type": "string", "format": "email"},
            "lang": {"type": "string", "default": "en"},
            "city": {"type": "string", "examples": ["Oslo", "Lima"]},
        },
    },
    {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    {"oneOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"type": "null"}]},
    {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer", "maximum": -5}}, "required": ["b"]},
        ]
    },
    {"type": ["null", "number"], "minimum": 2.5, "maximum": 2.75},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "items": False},
    {
        "$defs": {
            "Tree": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}},
                    "parent": {"anyOf": [{"$ref": "#/$defs/Tree"}, {"type": "null"}]},
                },
                "required": ["label"],
            }
        },
        "$ref": "#/$defs/Tree",
    },
    {"type": "object", "required": ["x"], "additionalProperties": {"type": "integer"}},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
@pytest.mark.parametrize("style", ["echo", "lorem"])
def test_output_schema_replies_validate_and_are_deterministic(schema: dict[str, Any], style: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    for prompt in ("extract the fields", "another prompt", "a third"):
        result, deltas = complete(req(style, prompt, output_schema=schema))
        value = json.loads(result.text)
        jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)
        assert "".join(deltas) == result.text
        assert complete(req(style, prompt, output_schema=schema))[0].text == result.text


def test_output_schema_uses_property_names_and_varies_with_the_prompt() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "n": {"type": "integer"}}}
    values = [json.loads(complete(req(prompt=f"p{i}", output_schema=schema))[0].text) for i in range(10)]
    assert all(v["title"].startswith("title") for v in values)
    assert len({json.dumps(v) for v in values}) > 1


def test_pydantic_generated_schema_is_honoured() -> None:
    from pydantic import BaseModel

    class Item(BaseModel):
        name: str
        qty: int
        note: str | None = None

    class Order(BaseModel):
        items: list[Item]
        urgent: bool

    result, _ = complete(req(prompt="order", output_schema=Order.model_json_schema()))
    Order.model_validate_json(result.text)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "#/$defs/Missing"}, "points at nothing"),
        ({"$ref": "https://example.com/s.json"}, "only local"),
        ({"type": "integer", "minimum": 5, "maximum": 4}, "no integer fits"),
        ({"type": "object", "properties": {"a": False}, "required": ["a"]}, "allows no value"),
        ({"type": "date"}, "cannot generate JSON of type 'date'"),
        ({"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}, "never ends"),
    ],
)
def test_unsatisfiable_or_unsupported_schemas_fail_clearly(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(LLMError, match=message):
        complete(req(output_schema=schema))


def test_schema_reply_longer_than_max_tokens_is_an_invalid_output_error() -> None:
    schema = {"type": "array", "items": {"type": "string"}, "minItems": 50}
    with pytest.raises(LLMError, match="raise max_tokens") as info:
        complete(req(output_schema=schema, max_tokens=20))
    assert info.value.error_class == "invalid_output"


# --- faults, latency -----------------------------------------------------------------------------


def test_error_rate_fails_attempt_one_and_a_retry_succeeds_deterministically() -> None:
    model, prompt = "echo?error_rate=0.5&seed=2", "p"
    outcomes = []
    for attempt in range(1, 6):
        try:
            complete(req(model, prompt, attempt=attempt))
            outcomes.append("ok")
        except LLMError as exc:
            assert str(exc) == "offline provider: injected error" and exc.error_class == "server"
            outcomes.append("error")
    assert outcomes == ["error", "ok", "ok", "ok", "ok"]  # pinned: sha256 gives this in every process
    assert [fault_for(parse_model(model), "", prompt, a) for a in (1, 2)] == ["server", None]


def test_fault_rates_match_their_frequencies_and_depend_on_the_seed() -> None:
    opts = parse_model("echo?error_rate=0.2&rate_limit_rate=0.1&timeout_rate=0.1&seed=3")
    faults = [fault_for(opts, "", f"prompt {i}", 1) for i in range(2000)]
    assert 0.17 < faults.count("server") / 2000 < 0.23
    assert 0.07 < faults.count("rate_limit") / 2000 < 0.13
    assert 0.07 < faults.count("timeout") / 2000 < 0.13
    other = parse_model("echo?error_rate=0.2&rate_limit_rate=0.1&timeout_rate=0.1&seed=4")
    assert faults != [fault_for(other, "", f"prompt {i}", 1) for i in range(2000)]


def test_rate_limit_carries_retry_after() -> None:
    with pytest.raises(LLMError) as info:
        complete(req("echo?rate_limit_rate=1&retry_after=2.5"))
    assert info.value.error_class == "rate_limit" and info.value.retry_after_s == 2.5


def test_timeout_hangs_until_the_node_timeout_fires() -> None:
    async def run() -> None:
        await asyncio.wait_for(OfflineProvider().complete(req("echo?timeout_rate=1"), lambda _: None), 0.05)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        asyncio.run(run())
    assert time.monotonic() - started < 5


def test_timeout_on_a_fake_clock_reports_a_timeout_error() -> None:
    async def instant(_: float) -> None:
        return None

    with pytest.raises(LLMError, match="injected timeout") as info:
        complete(req("echo?timeout_rate=1"), OfflineProvider(sleep=instant))
    assert info.value.error_class == "timeout"


def test_latency_is_spread_over_the_deltas() -> None:
    events: list[tuple[str, object]] = []

    async def fake_sleep(seconds: float) -> None:
        events.append(("sleep", seconds))

    provider = OfflineProvider(sleep=fake_sleep)
    deltas: list[str] = []
    asyncio.run(
        provider.complete(
            req("echo?latency=1.2", "one two three four"), lambda d: (deltas.append(d), events.append(("delta", d)))
        )
    )
    sleeps = [s for kind, s in events if kind == "sleep"]
    assert len(sleeps) == len(deltas) == 6 and sum(sleeps) == pytest.approx(1.2)  # type: ignore[arg-type]
    assert [kind for kind, _ in events] == ["sleep", "delta"] * 6


def test_latency_really_waits() -> None:
    started = time.monotonic()
    complete(req("echo?latency=0.1", "a b c"))
    assert time.monotonic() - started >= 0.09


# --- resolver ------------------------------------------------------------------------------------


def test_default_registry_resolves_offline_and_refuses_unknown() -> None:
    registry = default_providers()
    provider = registry.resolve("offline", None)
    assert provider.name == "offline"
    assert registry.resolve("offline", "ignored") is provider
    with pytest.raises(LLMError) as info:
        registry.resolve("openai", "OPENAI_KEY")
    assert str(info.value) == "no LLM provider 'openai' is configured; available: offline"
    assert info.value.error_class == "node"


def test_providers_are_pluggable() -> None:
    class Fixed:
        name = "fixed"

        def __init__(self, credential: str | None) -> None:
            self.credential = credential

        async def complete(self, request: LLMRequest, on_delta: Any) -> LLMResult:
            return LLMResult(text="fixed")

    registry = default_providers()
    registry.register("fixed", Fixed)
    made = registry.resolve("fixed", "cred")
    assert isinstance(made, Fixed) and made.credential == "cred"
    assert registry.names() == ["fixed", "offline"] and "fixed" in registry and list(registry) == registry.names()
    with pytest.raises(ValueError, match="already registered"):
        registry.register("fixed", Fixed)
    registry.register("fixed", Fixed, replace=True)
    with pytest.raises(ValueError, match="lower-case"):
        registry.register("Bad Name", Fixed)
    with pytest.raises(LLMError, match="available: none"):
        ProviderRegistry().resolve("offline", None)


def test_a_reply_cut_by_a_stop_and_then_by_max_tokens_reports_length() -> None:
    result, _ = complete(req(prompt="one two three four five six seven eight\nnine", stop=("\n",), max_tokens=6))
    assert result.finish_reason == "length" and result.usage.output_tokens <= 6

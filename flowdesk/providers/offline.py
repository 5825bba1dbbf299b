"""The offline LLM provider: the default, so every workflow runs with no key and no network.

A node's model string is ``offline:<style>[?option=value&...]``; this provider receives the part
after ``offline:`` in ``LLMRequest.model``, e.g. ``echo?latency=0.2&error_rate=0.3&seed=7``.

Styles:

- ``echo`` replies ``[offline echo] <prompt>``, so a person sees what went in;
- ``lorem`` replies pseudo-prose seeded by (system, prompt, seed): the same request always gets
  the same reply, another prompt another reply, and its length varies with the prompt.

With ``request.output_schema`` (any style) the reply is JSON text generated from the schema and
the prompt's hash (:class:`_SchemaFaker`), valid for the usual subset of JSON Schema. It is never cut
short: if it would need more than ``max_tokens`` the call
fails as a real model's truncated JSON would, with an ``invalid_output`` error that says so.

Options: ``latency`` (seconds for the whole reply, spread over the streamed words), ``error_rate``,
``timeout_rate`` and ``rate_limit_rate`` (chances, 0..1, of an injected fault), ``retry_after``
(seconds a rate-limit error asks to wait) and ``seed``. Whether a fault happens is decided from
(seed, prompt, ``request.attempt``), never from a global random state, so a run is reproducible
and a retry (attempt 2) can succeed where attempt 1 failed, the same way every time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import parse_qsl

from flowdesk.nodes.llm_contract import DeltaSink, LLMError, LLMRequest, LLMResult, LLMUsage
from flowdesk.providers.tokens import count_tokens, truncate_to_tokens

log = logging.getLogger(__name__)

STYLES = ("echo", "lorem")
ECHO_PREFIX = "[offline echo] "
HANG_S = 3600.0
"""How long an injected timeout hangs: far past any node timeout, so the node's own timeout fires."""

_LOREM_TEXT = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea "
    "commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur "
    "excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum"
)
_LOREM = tuple(_LOREM_TEXT.split())
_DELTA = re.compile(r"\s*\S+\s*|\s+")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class OfflineOptions:
    """A parsed offline model string."""

    style: str
    latency: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: float = 1.0
    seed: int = 0


_RATES = ("error_rate", "timeout_rate", "rate_limit_rate")
_OPTION_NAMES = tuple(f.name for f in fields(OfflineOptions) if f.name != "style")


def parse_model(model: str) -> OfflineOptions:
    """Parse ``<style>[?opt=value&...]``; anything unknown or out of range -> LLMError("node")."""
    style, _, query = model.strip().partition("?")
    if style not in STYLES:
        raise LLMError(f"offline provider has no style {style!r}; use {' or '.join(STYLES)}", "node")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True) if query else []
    except ValueError as exc:
        raise LLMError(f"offline provider: cannot read the options {query!r}: {exc}", "node") from exc
    values: dict[str, Any] = {}
    for key, raw in pairs:
        if key not in _OPTION_NAMES:
            raise LLMError(f"offline provider has no option {key!r}; known: {', '.join(_OPTION_NAMES)}", "node")
        if key in values:
            raise LLMError(f"offline provider: option {key!r} is given twice", "node")
        values[key] = _option_value(key, raw)
    if sum(values.get(rate, 0.0) for rate in _RATES) > 1.0:
        raise LLMError("offline provider: error_rate + timeout_rate + rate_limit_rate must not exceed 1", "node")
    return OfflineOptions(style=style, **values)


def _option_value(key: str, raw: str) -> float | int:
    """One option's value, checked against its range."""
    try:
        value: float | int = int(raw) if key == "seed" else float(raw)
    except ValueError:
        kind = "an integer" if key == "seed" else "a number"
        raise LLMError(f"offline provider: option {key}={raw!r} is not {kind}", "node") from None
    if key in _RATES and not 0.0 <= value <= 1.0:
        raise LLMError(f"offline provider: option {key}={raw} must be between 0 and 1", "node")
    if key in ("latency", "retry_after") and not (0.0 <= value <= 600.0 and math.isfinite(value)):
        raise LLMError(f"offline provider: option {key}={raw} must be between 0 and 600 seconds", "node")
    return value


def _digest(*parts: object) -> bytes:
    """A stable hash of the parts (unlike ``hash()``, the same in every process)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).digest()


def _unit(*parts: object) -> float:
    """A stable number in [0, 1) drawn from the parts."""
    return int.from_bytes(_digest(*parts)[:8], "big") / 2**64


def fault_for(options: OfflineOptions, system: str, prompt: str, attempt: int) -> str | None:
    """Which fault (``timeout``, ``rate_limit``, ``server``) this attempt gets, or None.

    One draw from (seed, prompt, attempt) is laid over the three rates end to end, so the
    chance of each fault is its rate and the outcome never depends on anything else.
    """
    draw = _unit("fault", options.seed, system, prompt, attempt)
    edge = 0.0
    for fault, rate in (
        ("timeout", options.timeout_rate),
        ("rate_limit", options.rate_limit_rate),
        ("server", options.error_rate),
    ):
        edge += rate
        if draw < edge:
            return fault
    return None


class OfflineProvider:
    """The offline provider; ``sleep`` is injectable so tests (and a fake clock) need not wait."""

    name = "offline"

    def __init__(self, sleep: Sleep = asyncio.sleep) -> None:
        self._sleep = sleep

    async def complete(self, request: LLMRequest, on_delta: DeltaSink) -> LLMResult:
        """Reply to ``request``, streaming the reply word by word to ``on_delta``."""
        options = parse_model(request.model)
        await self._inject_fault(options, request)
        text, finish_reason = self._reply(options, request)
        pieces = _DELTA.findall(text)
        pause = options.latency / len(pieces) if pieces else options.latency
        if not pieces and pause > 0:
            await self._sleep(pause)
        for piece in pieces:
            if pause > 0:
                await self._sleep(pause)
            on_delta(piece)
        usage = LLMUsage(
            input_tokens=count_tokens(request.system) + count_tokens(request.prompt),
            output_tokens=count_tokens(text),
            cost_usd=0.0,
        )
        return LLMResult(text=text, usage=usage, finish_reason=finish_reason)

    async def _inject_fault(self, options: OfflineOptions, request: LLMRequest) -> None:
        """Raise (or hang, for a timeout) when :func:`fault_for` picks a fault for this attempt."""
        fault = fault_for(options, request.system, request.prompt, request.attempt)
        if fault is None:
            return
        log.debug("offline provider: injecting %s on attempt %d", fault, request.attempt)
        if fault == "timeout":
            await self._sleep(HANG_S)  # cancelled by the node's timeout; a fake clock may let it return
            raise LLMError("offline provider: injected timeout", "timeout")
        if fault == "rate_limit":
            raise LLMError("offline provider: injected rate limit", "rate_limit", retry_after_s=options.retry_after)
        raise LLMError("offline provider: injected error", "server")

    def _reply(self, options: OfflineOptions, request: LLMRequest) -> tuple[str, str]:
        """The reply text and its finish reason (``stop``, or ``length`` when cut at max_tokens)."""
        if request.output_schema is not None:
            return _json_reply(options, request), "stop"
        if options.style == "echo":
            full = ECHO_PREFIX + request.prompt if request.prompt else ECHO_PREFIX.rstrip()
        else:
            full = lorem_text(request.system, request.prompt, options.seed, request.max_tokens)
        full = _apply_stop(full, request.stop)
        text = truncate_to_tokens(full, request.max_tokens)
        return text, "length" if text != full else "stop"


def _apply_stop(text: str, stop: tuple[str, ...]) -> str:
    """Cut ``text`` before the first stop sequence, as a real model stops generating there."""
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(cuts)] if cuts else text


def lorem_text(system: str, prompt: str, seed: int, max_tokens: int) -> str:
    """Pseudo-prose from (system, prompt, seed); its length (12-111 words) follows the prompt's hash."""
    rng = random.Random(_digest("lorem", seed, system, prompt))
    words_left = 12 + rng.randrange(100)
    sentences: list[str] = []
    budget = max_tokens + 1  # one word is at least one token; stop once past the cap
    while words_left > 0 and budget > 0:
        n = min(words_left, rng.randint(5, 14))
        words = [rng.choice(_LOREM) for _ in range(n)]
        sentences.append(" ".join(words).capitalize() + ".")
        words_left -= n
        budget -= n
    return " ".join(sentences)


def _json_reply(options: OfflineOptions, request: LLMRequest) -> str:
    """JSON text matching the request's output schema, the same for the same request and seed."""
    schema = request.output_schema or {}
    rng = random.Random(_digest("json", options.seed, request.system, request.prompt))
    value = _SchemaFaker(schema, rng).value(schema, "value", 0)
    text = json.dumps(value, ensure_ascii=False)
    needed = count_tokens(text)
    if needed > request.max_tokens:
        raise LLMError(
            f"offline provider: a reply matching the output schema needs about {needed} tokens, more than "
            f"max_tokens={request.max_tokens}; raise max_tokens",
            "invalid_output",
        )
    return text


class _SchemaFaker:
    """Generates a JSON value valid against a JSON Schema (the usual subset), deterministically.

    Supported: type (and lists of types), properties/required, items/prefixItems, min/maxItems,
    uniqueItems, enum, const, default, examples, string min/maxLength and common formats,
    minimum/maximum (also exclusive) and integer multipleOf, anyOf/oneOf (first branch), allOf,
    and $ref to ``#/$defs/...`` or ``#/definitions/...``. Not honoured: ``pattern``, ``not``,
    ``contains``, ``if``/``then``; give an ``examples`` entry for such fields.
    """

    SHALLOW_DEPTH = 4
    """Past this depth only required properties and minimum item counts are generated (ends recursion)."""
    MAX_DEPTH = 40

    def __init__(self, root: Mapping[str, Any] | bool, rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def value(self, schema: Any, name: str, depth: int) -> Any:
        """A value for ``schema``; ``name`` (the property's) seeds strings, ``depth`` bounds recursion."""
        if depth > self.MAX_DEPTH:
            raise LLMError(
                "offline provider: the output schema nests too deep (a $ref cycle with required fields?)", "node"
            )
        schema = self._flatten(schema, 0, depth >= self.SHALLOW_DEPTH)
        if "const" in schema:
            return schema["const"]
        for key in ("enum", "examples"):
            if schema.get(key):
                return self.rng.choice(list(schema[key]))
        if "default" in schema:
            return schema["default"]
        kind = self._type_of(schema)
        makers: dict[str, Callable[[Mapping[str, Any], str, int], Any]] = {
            "object": self._object,
            "array": self._array,
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
            "boolean": self._boolean,
            "null": self._null,
        }
        maker = makers.get(kind)
        if maker is None:
            raise LLMError(f"offline provider: cannot generate JSON of type {kind!r} for {name!r}", "node")
        return maker(schema, name, depth)

    def _flatten(self, schema: Any, hops: int, shallow: bool) -> dict[str, Any]:
        """Resolve $ref, allOf and anyOf/oneOf into one plain schema dict.

        anyOf/oneOf take their first branch; past the shallow depth a ``null`` branch is preferred,
        which ends recursive schemas such as ``child: anyOf [$ref Node, null]``.
        """
        if hops > self.MAX_DEPTH:
            raise LLMError("offline provider: the output schema's $ref/allOf chain never ends", "node")
        if schema is True or schema is None:
            return {}
        if schema is False or not isinstance(schema, Mapping):
            raise LLMError("offline provider: the output schema allows no value here", "node")
        merged = {k: v for k, v in schema.items() if k not in ("$ref", "allOf", "anyOf", "oneOf")}
        parts: list[Any] = []
        if "$ref" in schema:
            parts.append(self._resolve(schema["$ref"]))
        parts.extend(schema.get("allOf", []))
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                branches = list(schema[key])
                nulls = [b for b in branches if isinstance(b, Mapping) and b.get("type") == "null"]
                parts.append(nulls[0] if shallow and nulls else branches[0])
        for part in parts:
            flat = self._flatten(part, hops + 1, shallow)
            props = {**flat.get("properties", {}), **merged.get("properties", {})}
            required = [*flat.get("required", []), *merged.get("required", [])]
            merged = {**flat, **merged}
            if props:
                merged["properties"] = props
            if required:
                merged["required"] = list(dict.fromkeys(required))
        return merged

    def _resolve(self, ref: str) -> Any:
        """Follow a local JSON-pointer ``$ref`` (``#/$defs/Name``) within the root schema."""
        if not ref.startswith("#"):
            raise LLMError(f"offline provider: cannot follow $ref {ref!r} (only local #/... refs)", "node")
        node: Any = self.root
        for raw in filter(None, ref[1:].split("/")):
            part = raw.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise LLMError(f"offline provider: $ref {ref!r} points at nothing in the output schema", "node")
            node = node[part]
        return node

    @staticmethod
    def _type_of(schema: Mapping[str, Any]) -> str:
        """The type to generate: the declared one (the first non-null of a list), else inferred."""
        declared = schema.get("type")
        if isinstance(declared, list):
            concrete = [t for t in declared if t != "null"]
            declared = concrete[0] if concrete else "null"
        if declared:
            return str(declared)
        if "properties" in schema or "required" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
            return "number"
        return "string"

    def _object(self, schema: Mapping[str, Any], name: str, depth: int) -> dict[str, Any]:
        """Every declared property (only the required ones when deep), then required extras."""
        props: Mapping[str, Any] = schema.get("properties", {})
        required = list(schema.get("required", []))
        shallow = depth >= self.SHALLOW_DEPTH
        names = [p for p in props if not shallow or p in required]
        extra = schema.get("additionalProperties", True)
        names += [r for r in required if r not in props]
        return {p: self.value(props.get(p, extra), p, depth + 1) for p in names}

    def _array(self, schema: Mapping[str, Any], name: str, depth: int) -> list[Any]:
        """1-3 items within min/maxItems (the minimum when deep), prefix items first, unique if asked."""
        prefix = schema.get("prefixItems")
        items = schema.get("items", True)
        if isinstance(items, list):  # draft 4-7 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        prefix = list(prefix or [])
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", max(low, 3)))
        count = low if depth >= self.SHALLOW_DEPTH else min(max(self.rng.randint(1, 3), low), high)
        if items is False:
            count = min(count, len(prefix))
        out: list[Any] = []
        seen: set[str] = set()
        tries = 0
        while len(out) < count and tries < count * 10 + 10:
            tries += 1
            index = len(out)
            sub = prefix[index] if index < len(prefix) else items
            item = self.value(sub, f"{name} {index + 1}", depth + 1)
            key = json.dumps(item, sort_keys=True)
            if schema.get("uniqueItems") and key in seen:
                continue
            seen.add(key)
            out.append(item)
        return out

    def _string(self, schema: Mapping[str, Any], name: str, depth: int) -> str:
        """``<name> <word>``, or a sample of a known ``format``, fitted to min/maxLength."""
        fmt = schema.get("format")
        formats = {
            "date-time": lambda: f"2024-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}T12:00:00Z",
            "date": lambda: f"2024-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}",
            "time": lambda: f"{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}:00Z",
            "email": lambda: f"{_slug(name)}@example.com",
            "uri": lambda: f"https://example.com/{_slug(name)}",
            "url": lambda: f"https://example.com/{_slug(name)}",
            "uuid": lambda: str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
        }
        text = formats[fmt]() if fmt in formats else f"{name} {self.rng.choice(_LOREM)}"
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        if len(text) < low:
            text += "x" * (low - len(text))
        if high is not None:
            text = text[: int(high)]
        return text

    def _integer(self, schema: Mapping[str, Any], name: str, depth: int) -> int:
        low, low_open, high, high_open = _bounds(schema)
        low_i = math.floor(low) + 1 if low_open and low == math.floor(low) else math.ceil(low)
        high_i = math.ceil(high) - 1 if high_open and high == math.ceil(high) else math.floor(high)
        step = schema.get("multipleOf")
        if isinstance(step, int) and not isinstance(step, bool) and step > 0:
            low_i, high_i = math.ceil(low_i / step), math.floor(high_i / step)
        else:
            step = 1
        if low_i > high_i:
            raise LLMError(f"offline provider: no integer fits the bounds of {name!r}", "node")
        return self.rng.randint(low_i, high_i) * step

    def _number(self, schema: Mapping[str, Any], name: str, depth: int) -> float | int:
        if isinstance(schema.get("multipleOf"), int):
            return self._integer(schema, name, depth)
        low, low_open, high, high_open = _bounds(schema)
        if low > high or ((low_open or high_open) and low == high):
            raise LLMError(f"offline provider: no number fits the bounds of {name!r}", "node")
        value = round(low + (high - low) * self.rng.random(), 2)
        if value < low or value > high or (low_open and value == low) or (high_open and value == high):
            value = (low + high) / 2
        return value

    def _boolean(self, schema: Mapping[str, Any], name: str, depth: int) -> bool:
        return self.rng.random() < 0.5

    def _null(self, schema: Mapping[str, Any], name: str, depth: int) -> None:
        return None


def _bounds(schema: Mapping[str, Any]) -> tuple[float, bool, float, bool]:
    """(low, low is exclusive, high, high is exclusive) from the schema; an open end spans 100.

    Both the draft-6+ form (``exclusiveMinimum: 3``) and draft 4's (``minimum: 3`` with
    ``exclusiveMinimum: true``) are understood; when two bounds apply, the tighter wins.
    """
    low = _tighter(schema.get("minimum"), schema.get("exclusiveMinimum"), max)
    high = _tighter(schema.get("maximum"), schema.get("exclusiveMaximum"), min)
    if low is None and high is None:
        return 0, False, 100, False
    if low is None:
        assert high is not None
        return high[0] - 100, False, high[0], high[1]
    if high is None:
        return low[0], low[1], low[0] + 100, False
    return low[0], low[1], high[0], high[1]


def _tighter(inclusive: Any, exclusive: Any, pick: Callable[..., Any]) -> tuple[float, bool] | None:
    """The tighter of an inclusive and an exclusive bound, as (value, is exclusive), or None."""
    candidates: list[tuple[float, bool]] = []
    if _is_number(inclusive):
        candidates.append((inclusive, exclusive is True))  # draft 4: boolean exclusiveMinimum/Maximum
    if _is_number(exclusive):
        candidates.append((exclusive, True))
    if not candidates:
        return None
    best = pick(value for value, _ in candidates)
    return best, any(flag for value, flag in candidates if value == best)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "value"

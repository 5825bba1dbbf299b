"""The llm node's run function: the request from the node's settings, the call, and what it ended with.

A reply is checked against the node's output schema (asked again, bounded, when it misses); a
reply cut at max_tokens is a warning, or the error ``truncated`` when the schema needs all of it
(asking again would be cut the same way); a reply with no text fails instead of passing on "".
"""

from __future__ import annotations

from typing import Any

from flowdesk.nodes.context import NodeContext, NodeFailure
from flowdesk.nodes.llm_contract import LLMError, LLMRequest, cost_text
from flowdesk.nodes.runners.structured import checker, problem_with, retry_prompt

SCHEMA_TRIES = 3
"""Calls per attempt when the reply misses the output schema: the first, then two corrections."""


async def run_llm(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    """Ask the model; with an output schema, check the reply and ask again (bounded) when it does not match."""
    provider_name, _, model = config.model.partition(":")
    validator = checker(config.output_schema) if config.output_schema is not None else None
    provider = ctx.llm(provider_name, config.credential)
    prompt = ctx.render(config.prompt, inputs, field="prompt")
    request = LLMRequest(
        model=model,
        system=ctx.render(config.system, inputs, field="system") if config.system else "",
        prompt=prompt,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        stop=tuple(config.stop),
        output_schema=config.output_schema,
        attempt=getattr(ctx, "attempt", 1),
        reasoning_effort=None if config.reasoning_effort == "default" else config.reasoning_effort,
        options=provider_options(config),
    )
    for ask in range(1, SCHEMA_TRIES + 1):
        result = await _complete(ctx, provider, request)
        if validator is None:
            return {"text": result.text}
        if result.finish_reason == "length":  # asking again would be cut the same way
            raise NodeFailure(
                f"the reply was cut at max_tokens ({request.max_tokens}) before its JSON was complete; "
                "raise max_tokens",
                "truncated",
            )
        value, problem = problem_with(result.text, validator)
        if problem is None:
            return {"text": result.text, "json": value}
        if ask < SCHEMA_TRIES:
            ctx.log(f"the reply does not match the output schema ({problem}); asking again", "warning")
            request = request.model_copy(update={"prompt": retry_prompt(prompt, result.text, problem)})
    raise NodeFailure(
        f"the reply did not match the output schema after {SCHEMA_TRIES} tries: {problem}", "invalid_output"
    )


def provider_options(config: Any) -> dict[str, Any]:
    """The node's provider-specific settings that differ from the server's defaults."""
    options: dict[str, Any] = {}
    if getattr(config, "num_ctx", 0):
        options["num_ctx"] = config.num_ctx
    if getattr(config, "keep_alive", ""):
        options["keep_alive"] = config.keep_alive
    think = getattr(config, "think", "default")
    if think != "default":
        options["think"] = {"on": True, "off": False}.get(think, think)
    return options


async def _complete(ctx: NodeContext, provider: Any, request: LLMRequest) -> Any:
    """One call; its usage is counted even when it fails part-way (a cut stream is still billed).

    What the call ended with is said in the node's log: the finish reason, the tokens (cached and
    reasoning ones apart, reported or estimated) and the cost; a reply cut at max_tokens is a warning.
    """
    try:
        result = await provider.complete(request, ctx.llm_delta)
    except LLMError as exc:
        if exc.usage is not None:
            ctx.add_usage(exc.usage)
        raise
    ctx.add_usage(result.usage)
    for note in result.notes:
        ctx.log(note, "warning")
    ctx.log(f"finished: {result.finish_reason}; {usage_words(result.usage)}", "info")
    if result.finish_reason == "length":
        ctx.log(f"the reply was cut at max_tokens ({request.max_tokens}); raise max_tokens to get all of it", "warning")
    if not result.text.strip():
        why = "it asked for a tool call instead" if result.finish_reason == "tool_calls" else "nothing"
        raise NodeFailure(
            f"the model replied with no text ({why}; finish reason: {result.finish_reason})",
            "truncated" if result.finish_reason == "length" else "invalid_output",
        )
    return result


def usage_words(usage: Any) -> str:
    """ "1,200 in (1,000 cached) + 300 out (200 reasoning) tokens, reported; $0.000412" """
    cached = f" ({usage.cached_input_tokens:,} cached)" if usage.cached_input_tokens else ""
    reasoning = f" ({usage.reasoning_tokens:,} reasoning)" if usage.reasoning_tokens else ""
    how = "estimated" if usage.estimated else "reported"
    return (
        f"{usage.input_tokens:,} in{cached} + {usage.output_tokens:,} out{reasoning} tokens, {how}; "
        f"{cost_text(usage.cost_usd)}"
    )

"""Run functions of the kinds that reach outside: http and tool (the llm node's is in llm_runner.py)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import re
import sys
import time
from typing import Any

from flowdesk.nodes.context import NodeContext, NodeFailure

MAX_RESPONSE_BYTES = 50 * 1024 * 1024


def _status_class(status: int) -> str:
    if status == 429:
        return "rate_limit"
    return "server" if status >= 500 else "node"


async def run_http(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    url = ctx.render(config.url, inputs, field="url").strip()
    if not url.startswith(("http://", "https://")):
        raise NodeFailure(f"URL must start with http:// or https://, got {url[:80]!r}")
    headers = {k: ctx.render(v, inputs, field=f"headers.{k}") for k, v in config.headers.items()}
    params = {k: ctx.render(v, inputs, field=f"query.{k}") for k, v in config.query.items()}
    if config.credential:
        headers["Authorization"] = f"Bearer {ctx.secret(config.credential, url)}"
    body = ctx.render(config.body, inputs, field="body") if config.body else None
    content_out = _encoded(body) if body is not None else None
    try:
        async with asyncio.timeout(config.deadline_s) as deadline:
            status, resp_headers, content = await ctx.http_request(
                config.method, url, headers=headers, params=params, content=content_out
            )
    except TimeoutError as exc:
        if not deadline.expired():
            raise  # the per-read timeout or the node's timeout_s, reported as such
        raise NodeFailure(
            f"{config.method} {url} did not finish within {config.deadline_s:g} s (the node's deadline_s): "
            "the server sent its answer too slowly",
            "timeout",
        ) from exc
    if config.fail_on_status and status >= 400:
        snippet = content[:200].decode("utf-8", "replace")
        raise NodeFailure(
            f"{config.method} {url} answered HTTP {status}: {snippet}",
            _status_class(status),
            retry_after_s=_retry_after(resp_headers.get("retry-after")),
        )
    return {"body": _decode(content, resp_headers, config.response), "status": status, "headers": resp_headers}


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number, or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _encoded(body: str) -> bytes:
    """The request body as UTF-8; a lone surrogate (from a ``\\ud800`` escape in some JSON) is not
    text and cannot be sent, so it is named instead of failing as a codec traceback."""
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NodeFailure(
            f"the request body holds {exc.object[exc.start : exc.end]!r} at character {exc.start + 1}, "
            "a lone surrogate that is not valid text, so it cannot be sent"
        ) from None


def _decode(content: bytes, headers: dict[str, str], mode: str) -> Any:
    text = content.decode("utf-8", "replace")
    is_json = "json" in headers.get("content-type", "").lower()
    if mode == "json" or (mode == "auto" and is_json):
        try:
            return json.loads(text, parse_int=_json_int) if text.strip() else None
        except RecursionError:
            raise NodeFailure(
                "the response's JSON is nested too deeply to read (more levels than Python can follow)",
                "invalid_output",
            ) from None
        except ValueError as exc:
            if isinstance(exc, _TooManyDigits):
                raise NodeFailure(str(exc), "invalid_output") from None
            if mode == "json":
                raise NodeFailure(f"the response is not JSON: {exc}", "invalid_output") from exc
    return text


class _TooManyDigits(ValueError):
    """A JSON integer longer than Python turns into a number (``sys.get_int_max_str_digits``)."""


def _json_int(digits: str) -> int:
    limit = sys.get_int_max_str_digits() or 4300
    if len(digits.lstrip("-")) > limit:
        raise _TooManyDigits(
            f"the response's JSON has a number of {len(digits.lstrip('-')):,} digits; numbers of more than "
            f"{limit:,} digits cannot be read"
        )
    return int(digits)


async def run_tool(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    from flowdesk.nodes.tools import ToolContext, call_tool

    tool = ctx.tool(config.tool)
    args = {name: _argument(ctx, inputs, name, value) for name, value in config.args.items()}
    result = await call_tool(tool, args, ToolContext(files_root=ctx.files_root, log=ctx.log))
    return {"output": result}


_WHOLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)


def _argument(ctx: NodeContext, inputs: dict[str, Any], name: str, value: Any) -> Any:
    """A tool argument: ``"{{ expr }}"`` alone gives the expression's value (a list stays a list);
    any other string is a template rendered to text; non-strings pass as they are."""
    if not isinstance(value, str):
        return value
    whole = _WHOLE_EXPRESSION.match(value)
    if whole:
        return ctx.evaluate(whole.group("expr"), inputs, field=f"args.{name}")
    return ctx.render(value, inputs, field=f"args.{name}")

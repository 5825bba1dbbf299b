"""Run functions of the kinds that reach outside: http and tool (the llm node's is in llm_runner.py)."""

from __future__ import annotations

import json
import re
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
    status, resp_headers, content = await ctx.http_request(
        config.method, url, headers=headers, params=params, content=body.encode() if body is not None else None
    )
    if config.fail_on_status and status >= 400:
        snippet = content[:200].decode("utf-8", "replace")
        raise NodeFailure(f"{config.method} {url} answered HTTP {status}: {snippet}", _status_class(status))
    return {"body": _decode(content, resp_headers, config.response), "status": status, "headers": resp_headers}


def _decode(content: bytes, headers: dict[str, str], mode: str) -> Any:
    text = content.decode("utf-8", "replace")
    is_json = "json" in headers.get("content-type", "").lower()
    if mode == "json" or (mode == "auto" and is_json):
        try:
            return json.loads(text) if text.strip() else None
        except ValueError as exc:
            if mode == "json":
                raise NodeFailure(f"the response is not JSON: {exc}", "invalid_output") from exc
    return text


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

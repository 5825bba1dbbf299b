"""Kinds that reach outside the workflow: an LLM, an HTTP endpoint, a registered tool."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.model.types import ValueType
from flowdesk.nodes.kinds.sources import fields
from flowdesk.nodes.kinds.widgets import CREDENTIAL, MODEL, TEMPLATE
from flowdesk.nodes.runners.llm_runner import run_llm
from flowdesk.nodes.runners.remote import run_http, run_tool

MODEL_PATTERN = r"^[a-z][a-z0-9_-]*:\S.*$"
DEFAULT_HTTP_DEADLINE_S = 300.0


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(
        "offline:echo",
        pattern=MODEL_PATTERN,
        description="provider:model, e.g. offline:echo, openai:gpt-4o-mini, anthropic:claude-3-5-haiku.",
        json_schema_extra=MODEL,
    )
    system: str = Field("", max_length=200_000, description="System prompt (template).", json_schema_extra=TEMPLATE)
    prompt: str = Field(
        "{{ inputs.input }}",
        min_length=1,
        max_length=1_000_000,
        description="User prompt (template); may read inputs, run.inputs and nodes.<id>.output.",
        json_schema_extra=TEMPLATE,
    )
    temperature: float = Field(
        0.7, ge=0, le=2, description="Sampling temperature (reasoning models such as gpt-5 and o3 take none)."
    )
    max_tokens: int = Field(
        1024,
        ge=1,
        le=1_000_000,
        description="Upper bound on generated tokens (reasoning included, where a model reasons).",
    )
    reasoning_effort: Literal["default", "minimal", "low", "medium", "high"] = Field(
        "default", description="How hard a reasoning model (gpt-5, o3, o4-mini) thinks; others ignore it."
    )
    stop: list[str] = Field(default_factory=list, max_length=16, description="Stop sequences.")
    output_schema: dict[str, JsonValue] | None = Field(
        None, description="JSON Schema the reply must match; the parsed reply goes out of the 'json' port."
    )
    credential: str | None = Field(
        None, max_length=200, description="Named credential holding the API key.", json_schema_extra=CREDENTIAL
    )
    num_ctx: int = Field(
        0, ge=0, le=10_000_000, description="Ollama: the context window in tokens (0 = the server's default)."
    )
    keep_alive: str = Field(
        "",
        pattern=r"^$|^-?[0-9]+(\.[0-9]+)?(ms|s|m|h)?$",
        description="Ollama: how long the model stays loaded, e.g. 5m, 1h, 0 (empty = the server's default).",
    )
    think: Literal["default", "on", "off", "low", "medium", "high"] = Field(
        "default", description="Ollama: whether a thinking model thinks (low/medium/high for gpt-oss)."
    )


class HTTPConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = Field("GET", description="HTTP method.")
    url: str = Field("", min_length=1, max_length=8192, description="URL (template).", json_schema_extra=TEMPLATE)
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers; values are templates.")
    query: dict[str, str] = Field(default_factory=dict, description="Query parameters; values are templates.")
    body: str = Field(
        "", max_length=10_000_000, description="Request body (template); empty for none.", json_schema_extra=TEMPLATE
    )
    response: Literal["auto", "json", "text"] = Field("auto", description="How to read the response body.")
    fail_on_status: bool = Field(True, description="Treat a 4xx/5xx status as an error.")
    credential: str | None = Field(
        None, max_length=200, description="Named credential sent as a Bearer token.", json_schema_extra=CREDENTIAL
    )
    deadline_s: float = Field(
        DEFAULT_HTTP_DEADLINE_S,
        gt=0,
        le=86_400,
        description="Whole-request limit in seconds (connect, headers and body together), whatever the "
        "per-attempt timeout: a server that trickles its answer cannot hold the node for ever.",
    )


class ToolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tool: str = Field("", min_length=1, max_length=200, description="Name of a tool from the flowdesk.tools registry.")
    args: dict[str, JsonValue] = Field(
        default_factory=dict, description="Arguments passed to the tool; string values are templates."
    )


LLM = KindSpec(
    run=run_llm,
    name="llm",
    display_name="LLM",
    category="AI",
    description="Sends a prompt to a language model and emits its reply (streamed into the log).",
    icon="llm",
    config_model=LLMConfig,
    sources=fields(templates=("system", "prompt")),
    ports=NodePorts(
        inputs=(PortSpec("input", ValueType.ANY, description="Value the prompt template can read as inputs.input."),),
        outputs=(
            PortSpec("text", ValueType.STRING, description="The reply as text."),
            PortSpec("json", ValueType.ANY, description="The reply parsed as JSON (only with an output schema)."),
        ),
    ),
    remote=True,
)

HTTP = KindSpec(
    run=run_http,
    name="http",
    display_name="HTTP Request",
    category="Integrations",
    description="Calls an HTTP endpoint and emits the status, headers and body.",
    icon="http",
    config_model=HTTPConfig,
    sources=fields(templates=("url", "body"), maps=("headers", "query")),
    ports=NodePorts(
        inputs=(PortSpec("input", ValueType.ANY, description="Value the templates can read as inputs.input."),),
        outputs=(
            PortSpec("body", ValueType.ANY, description="Response body: parsed JSON or text."),
            PortSpec("status", ValueType.INTEGER, description="HTTP status code."),
            PortSpec("headers", ValueType.OBJECT, description="Response headers."),
        ),
    ),
    remote=True,
)

TOOL = KindSpec(
    run=run_tool,
    name="tool",
    display_name="Tool",
    category="Integrations",
    description="Calls a Python tool registered through the flowdesk.tools entry points.",
    icon="tool",
    config_model=ToolConfig,
    sources=fields(maps=("args",)),
    ports=NodePorts(
        inputs=(
            PortSpec("input", ValueType.ANY, description="Value the argument templates can read as inputs.input."),
        ),
        outputs=(PortSpec("output", ValueType.ANY, description="What the tool returned."),),
    ),
    remote=True,
)

"""`flowdesk credentials add|list|remove|hosts|test`: named credentials for the LLM providers and http nodes.

A key is read from a hidden prompt (or the first line of standard input when it is not a
terminal), never from the command line, where it would land in the shell history and in every
process listing. It goes to the OS keyring; the name, provider, base URL, the hosts the key may be
sent to and any extra headers or query parameters go to the settings file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from typing import Any

from pydantic import ValidationError

from flowdesk.cli.common import CliError, print_json, print_table
from flowdesk.nodes.llm_contract import LLMError
from flowdesk.providers.catalog import PROVIDERS as PROVIDER_SPECS
from flowdesk.providers.credentials import (
    CredentialError,
    Credentials,
    KeyringUnavailableError,
    KeyStore,
)
from flowdesk.providers.secrets import env_var_for
from flowdesk.providers.settings import (
    PROVIDERS,
    CredentialInfo,
    LLMSettings,
    SettingsError,
    load_settings,
    save_settings,
    settings_path,
)


def register(commands: Any) -> None:
    p = commands.add_parser(
        "credentials",
        help="add, list, remove or test the named credentials LLM nodes use",
        description="Named credentials for LLM providers. Keys go to the OS keyring (or come from "
        "FLOWDESK_CREDENTIAL_<NAME>, OPENAI_API_KEY, ANTHROPIC_API_KEY); the rest to the settings file "
        f"({settings_path()}, or $FLOWDESK_CONFIG).",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add or replace a credential; the key is asked for, hidden")
    add.add_argument("name", help="what nodes call it, e.g. openai, anthropic, local-ollama")
    add.add_argument(
        "--provider", required=True, choices=PROVIDERS, help="the wire protocol it speaks (http: a key for http nodes)"
    )
    add.add_argument("--base-url", metavar="URL", help="e.g. http://localhost:11434 (default: the public API)")
    add.add_argument("--no-key", action="store_true", help="the server takes no key (a local Ollama, say)")
    add.add_argument(
        "--host", action="append", default=[], metavar="HOST", help="another host the key may go to (repeatable)"
    )
    add.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'", help="an extra header ({key} = the key)"
    )
    add.add_argument("--query", action="append", default=[], metavar="NAME=VALUE", help="an extra query parameter")
    add.add_argument("--api-version", metavar="V", help="Azure OpenAI's api-version")
    add.add_argument(
        "--no-stream-options", action="store_true", help="do not send stream_options (for servers that reject it)"
    )
    add.set_defaults(handler=_add)
    hosts = sub.add_parser("hosts", help="list, add or remove the hosts a credential's key may be sent to")
    hosts.add_argument("name")
    hosts.add_argument("--add", action="append", default=[], metavar="HOST")
    hosts.add_argument("--remove", action="append", default=[], metavar="HOST")
    hosts.set_defaults(handler=_hosts)
    lister = sub.add_parser("list", help="the credentials and where each key comes from (never the key)")
    lister.add_argument("--json", action="store_true", help="print them as JSON")
    lister.set_defaults(handler=_list)
    remove = sub.add_parser("remove", help="remove a credential and its stored key")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove)
    test = sub.add_parser("test", help="make one small request through a credential")
    test.add_argument("name")
    test.add_argument("--model", required=True, help="a model the server has, e.g. gpt-4o-mini or llama3.2")
    test.set_defaults(handler=_test)


def _settings() -> LLMSettings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def _save(settings: LLMSettings) -> None:
    try:
        save_settings(settings)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def _read_key(name: str) -> str:
    """The key from a hidden prompt at a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        key = getpass.getpass(f"Key for credential '{name}' (input hidden): ")
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key:
        raise CliError(f"no key given for credential '{name}' (use --no-key for a server that takes none)")
    return key


def _pairs(items: list[str], separator: str, what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, found, value = item.partition(separator)
        if not found or not name.strip():
            raise CliError(f"{what} {item[:60]!r} must look like NAME{separator}VALUE")
        pairs[name.strip()] = value.strip()
    return pairs


def _info(name: str, **fields: Any) -> CredentialInfo:
    try:
        return CredentialInfo(name=name, **fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CliError(f"credential '{name}': {field}: {message}") from None


def _add(args: argparse.Namespace) -> int:
    settings = _settings()
    info = _info(
        args.name,
        provider=args.provider,
        base_url=args.base_url,
        needs_key=PROVIDER_SPECS[args.provider].needs_key and not args.no_key,
        hosts=tuple(args.host),
        headers=_pairs(args.header, ":", "header"),
        query=_pairs(args.query, "=", "query parameter"),
        api_version=args.api_version,
        stream_options=not args.no_stream_options,
    )
    if info.provider == "http" and not info.allowed_hosts():
        raise CliError(f"credential '{args.name}': say where its key may go with --host HOST")
    if info.effective_base_url() is None and info.provider != "http":
        raise CliError(f"credential '{args.name}': provider '{info.provider}' needs --base-url")
    key = _read_key(args.name) if info.needs_key else None
    _save(settings.with_credential(info))
    keys = KeyStore()
    try:
        if key is not None:
            keys.set(info.name, key)
        else:
            keys.delete(info.name)  # an old key must not outlive the change to --no-key
    except KeyringUnavailableError as exc:
        if key is not None:
            print(f"flowdesk: saved credential '{info.name}', but its key was not stored: {exc}", file=sys.stderr)
            return 1
    where = info.effective_base_url() or ", ".join(info.allowed_hosts())
    stored = "key in the OS keyring" if key is not None else "no key"
    print(f"credential '{info.name}' saved: {info.provider} at {where}, {stored}", file=sys.stderr)
    return 0


def _hosts(args: argparse.Namespace) -> int:
    settings = _settings()
    info = settings.credential(args.name)
    if info is None:
        known = ", ".join(c.name for c in settings.credentials) or "none"
        raise CliError(f"there is no credential '{args.name}' (known: {known})")
    if args.add or args.remove:
        dropped = {host.strip().lower() for host in args.remove}
        kept = tuple(h for h in info.hosts if h not in dropped) + tuple(args.add)
        fields = info.model_dump(exclude={"name"}) | {"hosts": kept}
        info = _info(args.name, **fields)
        _save(settings.with_credential(info))
    for host in info.allowed_hosts():
        print(host)
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = _settings()
    credentials = Credentials(settings)
    rows = [
        {
            "name": c.name,
            "provider": c.provider,
            "base_url": c.effective_base_url() or "",
            "key": credentials.key_source(c.name),
            "hosts": list(c.allowed_hosts()),
        }
        for c in settings.credentials
    ]
    if args.json:
        print_json(rows)
    elif not rows:
        print("no credentials yet; add one with `flowdesk credentials add NAME --provider openai|anthropic`")
    else:
        table = [[r["name"], r["provider"], r["base_url"], r["key"], ", ".join(r["hosts"])] for r in rows]
        print_table(["NAME", "PROVIDER", "BASE URL", "KEY", "MAY GO TO"], table)
    return 0


def _remove(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.credential(args.name) is None:
        known = ", ".join(c.name for c in settings.credentials) or "none"
        raise CliError(f"there is no credential '{args.name}' (known: {known})")
    _save(settings.without_credential(args.name))
    with contextlib.suppress(KeyringUnavailableError):  # no keyring here: no key can have been stored in it
        KeyStore().delete(args.name)
    print(f"credential '{args.name}' removed", file=sys.stderr)
    return 0


def _test(args: argparse.Namespace) -> int:
    from flowdesk.providers.setup import check_connection, llm_services

    settings = _settings()
    info = settings.credential(args.name)
    provider = info.provider if info is not None else None
    if provider is None:
        raise CliError(f"there is no credential '{args.name}'; add it first (or set {env_var_for(args.name)})")
    services = llm_services(settings, shared_client=False)
    try:
        credential = services.credentials.resolve(args.name, provider)
        result = asyncio.run(check_connection(services, credential, args.model))
    except (CredentialError, LLMError) as exc:
        print(f"flowdesk: connection test failed: {exc}", file=sys.stderr)
        return 1
    usage = result.usage
    print(f"ok: {args.model} answered {result.text.strip()[:60]!r} ({usage.input_tokens}+{usage.output_tokens} tokens)")
    return 0

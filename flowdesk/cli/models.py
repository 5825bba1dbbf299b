"""`flowdesk models [CREDENTIAL]`: the models the configured credentials' servers offer.

Asks each server (``/v1/models``, Ollama's ``/api/tags``, Anthropic's models endpoint) and keeps
the answer in the model cache the app's inspector reads; an unreachable server's last known list
is printed instead, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from flowdesk.cli.common import CliError, print_json, print_table


def register(commands: Any) -> None:
    p = commands.add_parser(
        "models",
        help="list the models of the configured credentials",
        description="Ask each credential's server which models it offers (the list is cached for the app); "
        "with CREDENTIAL, only that one.",
    )
    p.add_argument("credential", nargs="?", help="one credential's name (default: all that can list models)")
    p.add_argument("--cached", action="store_true", help="print the cached lists without asking the servers")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(handler=handle_models)


def handle_models(args: argparse.Namespace) -> int:
    from flowdesk.providers.catalog import PROVIDERS
    from flowdesk.providers.model_list import OFFLINE_MODELS, Listing, ModelCache, fetch, listable, merge
    from flowdesk.providers.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    names = listable(settings)
    if args.credential is not None:
        info = settings.credential(args.credential)
        public = args.credential in PROVIDERS and PROVIDERS[args.credential].default_base_url is not None
        if info is None and not public:
            known = ", ".join(names) or "none"
            raise CliError(f"there is no credential '{args.credential}' (known: {known})")
        names = [args.credential]
    cache = ModelCache.load()
    if args.cached:
        listings = [cache.listings.get(n) or Listing(n, "", error="not fetched yet") for n in names]
    else:
        listings = merge(cache, asyncio.run(fetch(settings, names)))
    rows = [{"model": m, "credential": ""} for m in OFFLINE_MODELS] if args.credential is None else []
    failed = 0
    for listing in listings:
        if listing.error:
            failed += 1
            kept = " (showing the last known list)" if listing.models else ""
            print(f"flowdesk: credential '{listing.credential}': {listing.error}{kept}", file=sys.stderr)
        rows += [{"model": m, "credential": listing.credential} for m in listing.models]
    if args.json:
        print_json(rows)
    else:
        print_table(["MODEL", "CREDENTIAL"], [[r["model"], r["credential"] or "-"] for r in rows])
    return 1 if failed and failed == len(listings) and args.credential is not None else 0

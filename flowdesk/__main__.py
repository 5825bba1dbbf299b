"""`python -m flowdesk` is the same as the `flowdesk` command."""

from flowdesk.cli import main

raise SystemExit(main())

"""``python -m valuegrad``: the same as the ``valuegrad`` command (see `valuegrad.cli`)."""

from .cli import main

raise SystemExit(main())

"""``python -m clausewatch``."""

from clausewatch.cli import main

raise SystemExit(main())

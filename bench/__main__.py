"""`python -m bench run [--quick] [--only ...] [--scenario ...]`."""

from bench.cli import main

raise SystemExit(main())

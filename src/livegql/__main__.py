"""`python -m livegql`: the same command as `livegql`."""

from livegql.cli import main

raise SystemExit(main())

"""The subcommands: ``admin`` works on the store directly, ``live`` talks to a running daemon."""

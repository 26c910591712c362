"""The ``gateway`` command line: one module per family of subcommands."""

from gateway.cli.main import main

__all__ = ["main"]

"""Handlers for the `workbench` subcommands (one module per command family).

`cli.py` only parses arguments; each handler takes the argparse namespace and returns
an exit code. Handlers import their heavy dependencies lazily.
"""

"""Command families of the `logkit` CLI, one module each; see logkit/cli.py.

options.py holds what they share: the typed `Context` and the options declared once.
"""

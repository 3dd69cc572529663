"""Command families of the `logkit` CLI, one module each; see logkit/cli.py."""

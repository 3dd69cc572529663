"""Prometheus metrics from the store: definitions, running totals, the textfile; retention."""

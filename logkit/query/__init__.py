"""Answers to the on-call questions: trace, user, errors, search, stats, SQL and named queries."""

# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the conversation database with sqlite3 (SQLite opens files itself, not through Python's
open)."""

# expect: blocked
import sqlite3

db = sqlite3.connect(f"file:{T['DB']}?mode=ro", uri=True)
print(list(db.iterdump()))

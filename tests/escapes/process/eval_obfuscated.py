# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Hide the key-reading code from reviewers: rot13 and base64, then exec."""

# expect: blocked
import base64
import codecs

hidden = b"Y2V2YWcoYmNyYShHWyJGRlVfWFJMIl0pLmVybnEoKSk="  # base64 of rot13 source
exec(compile(codecs.decode(base64.b64decode(hidden).decode(), "rot13"), "x", "exec"))

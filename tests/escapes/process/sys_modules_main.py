# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Disable the sandbox's checks through sys.modules: in the runner's modules ('__main__' and
any sandbox module), empty every table and replace every helper, then read the SSH key."""

# expect: blocked
import sys

mine = globals()
for module_name, module in list(sys.modules.items()):
    if module_name != "__main__" and "sandbox" not in module_name:
        continue
    for name, value in list(vars(module).items()):
        if name.startswith("__"):
            continue
        if isinstance(value, dict | set | list) and value is not vars(module) and value is not mine:
            value.clear()
        elif callable(value) and getattr(value, "__module__", None) == module.__name__:
            setattr(module, name, lambda *args, **kwargs: True)
print(open(T["SSH_KEY"]).read())

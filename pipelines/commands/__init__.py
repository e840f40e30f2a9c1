"""The `vistavox` command line: main.py builds the parser and runs a command; every other
module (but __main__.py) adds one group of sub-commands (`add_commands(sub)`). Commands
from other parts of Vistavox (`vistavox desktop`, from the desktop folder) are registered
under the "vistavox.commands" entry-point group, so nothing here imports them."""

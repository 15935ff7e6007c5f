"""``coalition`` commands: users (registered by ``coalition.cli``)."""

from __future__ import annotations

import click

# Every click command or group in this list is added to the ``coalition`` command.
COMMANDS: list[click.Command] = []

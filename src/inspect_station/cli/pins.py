"""Reading a PIN at the command line: one line of standard input, or a hidden prompt.

A PIN is never a command-line argument (it would be in the shell's history and the process
list); commands take ``--pin-stdin`` for scripts and prompt otherwise.
"""

from __future__ import annotations

import sys

import click


def read_pin(prompt: str, *, from_stdin: bool, err: bool = True, confirm: bool = False) -> str:
    """The next line of standard input, or what is typed at a hidden ``prompt`` (twice, to
    ``confirm`` a new PIN); the prompt goes to standard error unless ``err`` is False."""
    if from_stdin:
        return sys.stdin.readline().strip()
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=err)


__all__ = ["read_pin"]

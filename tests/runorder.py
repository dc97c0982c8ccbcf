"""The order the run hands test modules to its workers (see ``spread_waiting_modules``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class _Test(Protocol):
    nodeid: str


T = TypeVar("T", bound=_Test)

WAITING = "tui"
"""The folder of test modules that spend much of their time waiting (a Textual app between two
screen updates, a pilot's pause): run together they left the cores idle a fifth of the time."""


def spread_waiting_modules(items: Sequence[T]) -> list[T]:
    """The items in the same order, except the modules under ``tests/tui`` are spread evenly
    between the others of the first three quarters of the run instead of coming last together.

    Collected in path order, the terminal UI's 85 tests ran alone in the last ~45 s of a parallel
    run, the cores busy ~80 %: mixed with modules that compute, the waits are filled. The last
    quarter is left to the others, mostly quick tests, so the workers end together (a worker
    handed the last UI module alone ran ~15 s after the others had finished). Each module's tests
    stay together and in order (its module fixtures are set up once per worker, as before); only
    where a module comes in the run changes.
    """
    modules: dict[str, list[T]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    waiting = [tests for name, tests in modules.items() if f"/{WAITING}/" in f"/{name}"]
    others = [tests for name, tests in modules.items() if f"/{WAITING}/" not in f"/{name}"]
    if not waiting or not others:
        return list(items)
    spread: list[T] = []
    step = len(others) * 3 / 4 / len(waiting)
    taken = 0
    for index, tests in enumerate(waiting):
        until = round((index + 1) * step)
        for module in others[taken:until]:
            spread.extend(module)
        taken = until
        spread.extend(tests)
    for module in others[taken:]:
        spread.extend(module)
    return spread

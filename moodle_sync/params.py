"""Web-service arguments as PHP form variables: flattening, counting, ordering.

Moodle's REST server reads PHP's ``$_POST``, so nested arguments travel in
bracket notation (``courses[0][fullname]``) and every leaf is one *input
variable*. PHP stops reading a request after ``max_input_vars`` of them
without an error, so a huge request arrives cut short. Two defences live here:

* :func:`count_vars` lets the client split batches below the limit;
* :func:`with_tripwire` moves one *required* leaf to the very end of the body.
  If PHP cuts anything, that leaf is the first to go, Moodle's validation then
  refuses the whole request ("Missing required key …") and nothing is applied –
  instead of silently applying a prefix of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Pair = tuple[str, str]


def flatten(params: Mapping[str, Any], prefix: str = "") -> list[Pair]:
    """Return ``params`` as ordered PHP form pairs; ``None`` is left out, booleans are 1/0."""
    pairs: list[Pair] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        _flatten_value(name, value, pairs)
    return pairs


def _flatten_value(name: str, value: Any, pairs: list[Pair]) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        pairs.append((name, "1" if value else "0"))
    elif isinstance(value, Mapping):
        pairs.extend(flatten(value, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten_value(f"{name}[{index}]", item, pairs)
    elif isinstance(value, int | float | str):
        pairs.append((name, str(value)))
    else:
        raise TypeError(f"cannot send {type(value).__name__} as a web-service argument ({name})")


def count_vars(params: Mapping[str, Any]) -> int:
    """Return how many PHP input variables ``params`` become."""
    return len(flatten(params))


def with_tripwire(pairs: Sequence[Pair], params: Mapping[str, Any]) -> tuple[list[Pair], str | None]:
    """Move a required leaf to the end; return the pairs and the leaf's key name (or None).

    The leaf is the first field of the first element of the first list of
    structures (callers put a required field first, e.g. ``username``), or –
    for a scalar list such as ``values[]`` – the first scalar argument beside
    it (e.g. ``field``).
    """
    ordered = list(pairs)
    chosen: str | None = None
    leaf: str | None = None
    for key, value in params.items():
        if isinstance(value, list | tuple) and value and isinstance(value[0], Mapping) and value[0]:
            first = next(iter(value[0]))
            chosen, leaf = f"{key}[0][{first}]", str(first)
            break
    if chosen is None and any(isinstance(v, list | tuple) and v for v in params.values()):
        for key, value in params.items():
            if isinstance(value, str | int) and not isinstance(value, bool):
                chosen, leaf = str(key), str(key)
                break
    if chosen is None:
        return ordered, None
    for index, (name, _) in enumerate(ordered):
        if name == chosen:
            ordered.append(ordered.pop(index))
            return ordered, leaf
    return ordered, None

"""`datagen solve points`: solve one General Points hand exactly and print JSON.

    datagen solve points 4 7 8 8
    datagen solve points 2 7 Q 2 --faces mixed_9_10_11 --all
    datagen solve points A 5 5 5 --target 24 --faces J=11,Q=12,K=13

Prints one JSON line: `cards`, `values`, `target`, `solvable`, `solutions` (canonical, distinct,
shortest first; only the first unless `--all`), `count` (all distinct solutions) and `seconds`.
Cards may also come as one argument (`"3 3 8 8"`, from a file with `$(cat hand.txt)`): each
argument is split at whitespace and a UTF-8 byte-order mark is dropped. A bad card or face-card
rule prints a one-line error and exits with status 2.
"""

from __future__ import annotations

import json
import time

import click


class _BadInput(click.ClickException):
    exit_code = 2  # the contract: bad cards or rules are usage errors


@click.command("points")
@click.argument("cards", nargs=-1, required=True)
@click.option("--target", type=int, default=24, show_default=True, help="The number to make.")
@click.option(
    "--faces",
    default="J=10,Q=10,K=10",
    show_default=True,
    help="Face-card values: a study rule name (all_10, mixed_9_10_11, ...), 'J=9,Q=10,K=11' "
    "or '9,10,11'.",
)
@click.option("--all", "show_all", is_flag=True, help="Print every solution, not only the first.")
def points(cards: tuple[str, ...], target: int, faces: str, show_all: bool) -> None:
    """Solve a hand of CARDS (A, 2-10, J, Q, K, 14-19) with every card used once."""
    from solvers.points import CardError, hand_values, parse_faces, solve

    cards = tuple(token for arg in cards for token in arg.replace("\ufeff", "").split())
    if not cards:
        raise _BadInput("no cards given: name 2 to 6 cards, e.g. 3 3 8 8")
    for card in cards:
        if len(card) > 8:  # keep the one-line error short whatever was pasted
            raise _BadInput(f"{card[:8]!r}... ({len(card)} characters) is not a card")
    try:
        values = hand_values(cards, parse_faces(faces))
    except CardError as error:
        raise _BadInput(str(error)) from None
    if len(values) > 6:
        raise _BadInput(f"{len(values)} cards: at most 6 (the search grows very fast)")
    solve([1, 1], 2)  # imports sympy before the clock starts: `seconds` is the search alone
    start = time.perf_counter()
    solutions = solve(values, target)
    seconds = time.perf_counter() - start
    shown = solutions if show_all else solutions[:1]
    click.echo(
        json.dumps(
            {
                "cards": list(cards),
                "values": list(values),
                "target": target,
                "solvable": bool(solutions),
                "solutions": list(shown),
                "count": len(solutions),
                "seconds": round(seconds, 6),
            }
        )
    )

"""`datagen solve sokoban [FILE]`: solve XSB levels and print one JSON line per level.

Levels are separated by blank lines or `;` lines (Boxoban's `; N` headers); FILE defaults to
stdin. Every level runs under a time limit (60 s), a memory budget (1024 MB) and a node cap;
levels over the size limit (solvers.sokoban.limits) get an error line at once. Each line
holds `index` (0-based position in the input), `solved`, `moves` (LURD),
`length`, `pushes`, `expanded`, `seconds`, and `reason` when not solved. A malformed level
prints `{"index": i, "error": "..."}` instead; the other levels are still solved and the exit
status is then 1. The input is UTF-8 text (a byte-order mark is dropped); bytes that are not
UTF-8 and an input without any level are one-line errors with exit status 2.

    datagen solve sokoban ../shared/data/boxoban/medium/valid/000.txt --metric moves
    printf '#####\\n#@$.#\\n#####\\n' | datagen solve sokoban
"""

from __future__ import annotations

import json

import click


class _BadInput(click.ClickException):
    exit_code = 2  # unreadable input is a usage error, as for `datagen solve points`


def read_levels_text(data: bytes, name: str) -> str:
    """Decode the input: UTF-8 with an optional byte-order mark, else a one-line error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _BadInput(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "levels are XSB text"
        ) from None


@click.command("sokoban")
@click.argument("file", type=click.File("rb"), default="-")
@click.option(
    "--metric",
    type=click.Choice(["moves", "pushes"]),
    default="moves",
    show_default=True,
    help="What the solution minimises.",
)
@click.option("--fast", is_flag=True, help="Weighted A*: much faster, not optimal.")
@click.option(
    "--max-nodes",
    type=click.IntRange(min=1),
    default=2_000_000,
    show_default=True,
    help="Give up on a level after expanding this many nodes.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Give up on a level after this many seconds (tables included).",
)
@click.option(
    "--memory-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=1024.0,
    show_default=True,
    help="Give up on a level whose search would store more than about this many MB.",
)
def sokoban(
    file: click.utils.LazyFile,
    metric: str,
    fast: bool,
    max_nodes: int,
    time_limit: float,
    memory_mb: float,
) -> None:
    """Solve Sokoban levels in XSB (from FILE, or stdin) with A* over pushes.

    Levels are separated by blank lines or ';' lines. Prints one JSON line per level: index
    (0-based), solved, moves (LURD), length, pushes, expanded, seconds, and reason when not
    solved; a malformed level prints index and error, and the exit status is then 1.
    """
    from solvers.sokoban import Level, LevelError, solve, split_levels

    path = getattr(file, "name", "-")
    name = "stdin" if not isinstance(path, str) or path in ("-", "<stdin>") else repr(path)
    levels = split_levels(read_levels_text(file.read(), name))
    if not levels:
        raise _BadInput(f"no level read from {name}: it is empty or holds only blank and ';' lines")
    errors = 0
    for index, text in enumerate(levels):
        try:
            level = Level.parse(text)
            result = solve(
                level, metric, fast, max_nodes, time_limit=time_limit, memory_mb=memory_mb
            )
        except LevelError as exc:  # malformed, or over the size limit (refused before any work)
            errors += 1
            click.echo(json.dumps({"index": index, "error": str(exc)}, ensure_ascii=False))
            continue
        row = {
            "index": index,
            "solved": result.solved,
            "moves": result.moves,
            "length": result.length,
            "pushes": result.pushes,
            "expanded": result.expanded,
            "seconds": round(result.seconds, 6),
        }
        if result.reason is not None:
            row["reason"] = result.reason
        click.echo(json.dumps(row), nl=True)
    if errors:
        raise click.ClickException(f"{errors} malformed level(s); see the 'error' lines")

"""The A* labeller gives exactly the BFS labels: the same trajectory, every optimal action at
every state, on generated and Boxoban levels; budgets stop it with a reason."""

from __future__ import annotations

from pathlib import Path

from solvers.sokoban import Level, generate_level, optimal_trajectory, split_levels
from solvers.sokoban.bfs import analyse
from solvers.sokoban.board import board_of
from solvers.sokoban.labels import astar_actions, astar_trajectory

BOXOBAN = Path(__file__).resolve().parent / "data" / "boxoban"


def _bfs_labels(level: Level) -> list[tuple[Level, tuple[str, ...]]]:
    board = board_of(level)
    player, mask = board.state(level)
    analysis = analyse(board, player, mask, 3_000_000, None)
    assert analysis.reason is None
    return [(board.level(p, m), tuple(actions)) for p, m, actions in analysis.path]


def test_labels_equal_the_bfs_labels_on_generated_levels() -> None:
    for h, w, b, seeds in ((6, 6, 1, range(40)), (6, 6, 2, range(40)), (8, 8, 3, range(8))):
        for seed in seeds:
            level = generate_level(seed, h, w, b)
            steps, reason = astar_trajectory(level)
            assert reason is None
            assert steps == optimal_trajectory(level), (h, w, b, seed)
            actions, moves, _ = astar_actions(level)
            assert actions == steps[0][1]
            assert len(moves) == len(steps) and level.replay(moves).solved


def test_labels_equal_the_bfs_labels_on_boxoban_levels() -> None:
    texts = split_levels((BOXOBAN / "unfiltered.txt").read_text())
    for text in (texts[0], texts[2], texts[6]):
        level = Level.parse(text)
        steps, reason = astar_trajectory(level)
        assert reason is None and steps == _bfs_labels(level)
        # Following the first action of each step replays an optimal solution.
        state = level
        for expected, actions in steps:
            assert state == expected
            state = state.step(actions[0])
        assert state.solved


def test_solved_unsolvable_and_budget() -> None:
    assert astar_trajectory(Level.parse("####\n#@*#\n####")) == ([], None)
    assert astar_trajectory(Level.parse("######\n#@$ .#\n#$ . #\n######")) == ([], "unsolvable")
    level = Level.parse(split_levels((BOXOBAN / "unfiltered.txt").read_text())[1])
    assert astar_trajectory(level, max_nodes=50) == ([], "node limit")
    assert astar_actions(level, time_limit=1e-6)[2] == "time limit"


def test_optimal_path_spells_its_trajectory_with_bfs_or_astar(monkeypatch) -> None:
    # One search gives the trajectory and the LURD it follows; past the BFS's node budget the
    # A* labeller's trajectory is spelled out the same way.
    from solvers.sokoban import bfs, optimal_length, optimal_path

    for seed in range(6):
        level = generate_level(seed, 8, 8, 2)
        trajectory, moves = optimal_path(level)
        assert len(moves) == len(trajectory) == optimal_length(level) and level.replay(moves).solved
        for i, (state, actions) in enumerate(trajectory):
            assert moves[i].lower() in actions and state.replay(moves[i:]).solved
        bfs._cached_analysis.cache_clear()
        monkeypatch.setattr(bfs, "LABEL_MAX_NODES", 5)  # forces the A* branch
        assert optimal_path(level) == (trajectory, moves)
        monkeypatch.undo()
        bfs._cached_analysis.cache_clear()


def test_labels_do_not_depend_on_the_clock(monkeypatch) -> None:
    """A starved machine, on which every clock read comes an hour after the last, labels levels
    as an idle one does: the labels a build writes are bounded by states and memory, not time."""
    import types

    from datagen.tasks import get_task
    from datagen.templates.sokoban import make_template
    from solvers.sokoban import astar, astar_jit, bfs, labels, optimal_path, tables

    start = generate_level(5, 10, 10, 2)  # evaluation rows are labelled by A* (`solve`)
    boxoban = Level.parse(split_levels((BOXOBAN / "medium.txt").read_text())[0])
    monkeypatch.setattr(bfs, "LABEL_MAX_NODES", 50)  # send the trajectory labels to A* as well
    sokoban = get_task("sokoban")
    idle = (sokoban.start_row("larger", start, 5, make_template()), optimal_path(boxoban))
    bfs._cached_analysis.cache_clear()
    now = [0.0]

    def starved() -> float:
        now[0] += 3600.0
        return now[0]

    for module in (astar, astar_jit, bfs, labels, tables):
        monkeypatch.setattr(module, "time", types.SimpleNamespace(perf_counter=starved))
    assert astar.solve(start).reason == "time limit"  # the clock is felt where it is asked for
    busy = (sokoban.start_row("larger", start, 5, make_template()), optimal_path(boxoban))
    assert busy == idle
    assert now[0] > 0

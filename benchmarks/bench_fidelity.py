"""Fidelity benchmark: our levels and hands against the study's generator, side by side.

Run alone with `python benchmarks/run.py fidelity` (about two minutes on one core; the first
run also creates benchmarks/.peer-venv with gym-sokoban 0.0.6 from PyPI, about half a minute).

Sokoban, for 6x6/1, 6x6/2, 10x10/1 and 10x10/2 (fresh seeds, no move filter):
- `ours`: `solvers.sokoban.generate_level`, the study's algorithm with SHA-256 seeds;
- `gym-sokoban 0.0.6`: the peer, `gym_sokoban.envs.room_utils.generate_room` (the ancestor of
  RAGEN's), run in its own venv by `peer_sokoban.py`. It differs from the study's generator in
  four ways: reverse play with ttl 300 (its `search_depth` is ignored) instead of 30; eight
  reverse actions (pull or plain walk) instead of four always-pull ones; box swaps that count
  every pull (the recursion passes the parent's last pull) instead of changes of the pulled box;
  and no player nudge afterwards. Same room carving, placement, score rule and 4 tries.
- `study code`: RAGEN's own `room_utils.py` at the study's commit 0d63165, run the same way in
  the peer's venv, when a clone is found ($RAGEN_GIT_DIR, default the /work/.mirror copy).
Every level is labelled by our move-optimal BFS, so lengths compare. The `study` row holds the
figures measured with the study's code in ../shared/reference/study.md.

Speed: generate + label, levels per CPU second on one core: ours (`generate_level`, which
labels) against the peer (its generation CPU time in its process plus our labelling).

General Points: how each evaluation variant's hands are drawn (`datagen.tasks.points.DRAWS`):
share of hands with a J/Q/K, with a card of 14..19, and solvable under the scored rule.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from random import Random

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".peer-venv"
PEER_SCRIPT = HERE / "peer_sokoban.py"
PEER_PACKAGE = "gym-sokoban==0.0.6"
RAGEN_GIT_DIR = Path(os.environ.get("RAGEN_GIT_DIR", "/work/.mirror/ZihanWang314+RAGEN/repo"))
RAGEN_COMMIT = "0d63165"
# (height, width, boxes, our levels, peer budget s, study-code budget s)
GEOMETRIES = ((6, 6, 1, 500, 3.0, 3.0), (6, 6, 2, 400, 6.0, 4.0), (10, 10, 1, 300, 8.0, 4.0))
GEOMETRIES += ((10, 10, 2, 300, 14.0, 8.0),)
# The study's figures (study.md, "What the study's code does exactly"): mean, one-move share.
STUDY = {(6, 6, 1): (4.0, 0.085), (6, 6, 2): (7.8, 0.0), (10, 10, 1): (7.4, None)}
STUDY[(10, 10, 2)] = (12.6, None)
STUDY_MAX = {(10, 10, 2): 26}
POINTS_HANDS = 400  # per variant


def _peer_python() -> Path | None:
    """The peer venv's python, creating the venv on first use; None when it cannot be made."""
    python = PEER_VENV / "bin" / "python"
    if python.exists():
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True, timeout=120)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", PEER_PACKAGE],
            check=True,
            timeout=600,
            capture_output=True,
        )
    except (subprocess.SubprocessError, OSError) as error:
        print(f"peer venv: {error}", file=sys.stderr)
        return None
    return python


def _ragen_source() -> Path | None:
    if not RAGEN_GIT_DIR.exists():
        return None
    try:
        text = subprocess.run(
            [
                "git",
                "-C",
                str(RAGEN_GIT_DIR),
                "show",
                f"{RAGEN_COMMIT}:ragen/env/sokoban/room_utils.py",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    path = Path(tempfile.mkdtemp()) / "ragen_room_utils.py"
    path.write_text(text)
    return path


def _figures(lengths: list[int], on_target: int) -> dict:
    n = len(lengths)
    return {
        "n": n,
        "mean": statistics.mean(lengths),
        "median": statistics.median(lengths),
        "one": sum(x == 1 for x in lengths) / n,
        "on_target": on_target / n,
        "max": max(lengths),
    }


def _ours(height: int, width: int, boxes: int, n: int) -> tuple[dict, float]:
    from solvers.sokoban import generate_level, optimal_length

    cpu = time.process_time()
    levels = [generate_level(seed, height, width, boxes) for seed in range(n)]
    rate = n / (time.process_time() - cpu)
    lengths = [optimal_length(level) for level in levels]  # cached: labelled while generated
    on_target = sum(bool(level.boxes & level.goals) for level in levels)
    return _figures(lengths, on_target), rate


def _peer(python: Path, source: str, geometry: tuple, budget: float) -> tuple[dict, float] | None:
    from solvers.sokoban import Level, optimal_length

    height, width, boxes = geometry
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    args = [str(python), str(PEER_SCRIPT), source, str(height), str(width), str(boxes)]
    try:
        done = subprocess.run(
            [*args, "100000", str(budget)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=budget * 4 + 60,
        )
    except (subprocess.SubprocessError, OSError) as error:
        print(f"peer {source}: {error}", file=sys.stderr)
        return None
    out = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = time.process_time()
    levels = [Level.parse(text) for text in out["levels"]]
    lengths = [optimal_length(level) for level in levels]
    label_s = time.process_time() - cpu
    if not levels or any(n is None for n in lengths):
        return None
    on_target = sum(bool(level.boxes & level.goals) for level in levels)
    return _figures(lengths, on_target), len(levels) / (out["seconds"] + label_s)


def _row(name: str, f: dict) -> str:
    return (
        f"| {name} | {f['n']} | {f['mean']:.2f} | {f['median']:.1f} | {100 * f['one']:.1f}% | "
        f"{100 * f['on_target']:.1f}% | {f['max']} |"
    )


def _sokoban() -> list[str]:
    python = _peer_python()
    ragen = _ragen_source() if python else None
    lines = [
        "## Fidelity: Sokoban levels",
        "",
        "Optimal lengths by our BFS; fresh seeds, no move filter. `study` = the figures measured "
        "with the study's code (study.md). Targets: mean within 10% of the study's, one-move "
        "share within 3 points, no box on a target.",
        "",
        "| geometry / generator | levels | mean | median | one-move | box on target | longest |",
        "|---|---|---|---|---|---|---|",
    ]
    speed = []
    checks = []
    for height, width, boxes, n, peer_budget, ragen_budget in GEOMETRIES:
        geometry = (height, width, boxes)
        name = f"{height}x{width}/{boxes}"
        ours, ours_rate = _ours(height, width, boxes, n)
        mean, one = STUDY[geometry]
        study = f"| {name} study | - | {mean:.1f} | - | " + (
            f"{100 * one:.1f}% | 0.0% | {STUDY_MAX.get(geometry, '-')} |"
            if one is not None
            else f"- | 0.0% | {STUDY_MAX.get(geometry, '-')} |"
        )
        lines += [study, _row(f"{name} ours", ours)]
        ok = abs(ours["mean"] - mean) <= 0.1 * mean and ours["on_target"] == 0
        if one is not None:
            ok = ok and abs(ours["one"] - one) <= 0.03
        checks.append(f"{name} {'ok' if ok else 'MISSED'}")
        peer = _peer(python, "gym", geometry, peer_budget) if python else None
        if peer:
            lines.append(_row(f"{name} gym-sokoban 0.0.6", peer[0]))
        if ragen:
            study_code = _peer(python, str(ragen), geometry, ragen_budget)
            if study_code:
                lines.append(_row(f"{name} study code (RAGEN {RAGEN_COMMIT})", study_code[0]))
        speed.append((name, ours_rate, peer[1] if peer else None))
    lines += ["", f"Targets met: {', '.join(checks)}.", ""]
    if python is None:
        lines.append(f"(The peer venv could not be made: `pip install {PEER_PACKAGE}` failed.)\n")
    lines += [
        "Generate + label, levels per CPU second on one core (target: >= 1000 for 6x6/1 and "
        ">= 5x the peer):",
        "",
        "| geometry | ours | gym-sokoban 0.0.6 | ratio |",
        "|---|---|---|---|",
    ]
    for name, ours_rate, peer_rate in speed:
        ratio = f"{ours_rate / peer_rate:.1f}x" if peer_rate else "-"
        peer_text = f"{peer_rate:.1f}" if peer_rate else "-"
        lines.append(f"| {name} | {ours_rate:.0f} | {peer_text} | {ratio} |")
    return lines


def _points() -> list[str]:
    from datagen.suites import POINTS_EVAL
    from datagen.tasks import points
    from solvers.points import FACE_RULES, hand_values, solve

    lines = [
        "",
        "## Fidelity: General Points hands",
        "",
        f"{POINTS_HANDS} draws per evaluation variant, before the solvability filter. The study "
        "(create_test_dataset.py): a forced J/Q/K for id and the face-rule variants, a forced "
        "14..19 card for large, none for five-cards (its 5-card set used ood=False).",
        "",
        "| variant | draw | cards | with J/Q/K | with 14..19 | solvable (scored rule) |",
        "|---|---|---|---|---|---|",
    ]
    for variant in POINTS_EVAL:
        rng = Random(variant.name)
        hands = [points.draw_hand(rng, variant.cards, variant.draw) for _ in range(POINTS_HANDS)]
        faces = sum(any(c in points.FACES for c in h) for h in hands) / len(hands)
        large = sum(any(c in points.LARGE for c in h) for h in hands) / len(hands)
        scored = FACE_RULES[variant.scored_rule]
        solvable = sum(bool(solve(hand_values(h, scored), 24)) for h in hands) / len(hands)
        lines.append(
            f"| {variant.name} | {variant.draw} | {variant.cards} | {100 * faces:.1f}% | "
            f"{100 * large:.1f}% | {100 * solvable:.1f}% |"
        )
    return lines


def main() -> str:
    return "\n".join(_sokoban() + _points()) + "\n"


if __name__ == "__main__":
    print(main())

"""Levels from a peer Sokoban generator, as XSB, for bench_fidelity.py (run in the peer's venv).

    .peer-venv/bin/python benchmarks/peer_sokoban.py gym 6 6 1 200 8.0
    .peer-venv/bin/python benchmarks/peer_sokoban.py /path/to/room_utils.py 6 6 1 200 8.0

`gym`: gym-sokoban 0.0.6's `room_utils.generate_room` (the ancestor of RAGEN's); a path: that
file imported as a module (RAGEN's `room_utils.py` at the study's commit, its plotting imports
stubbed out), called as the study's `SokobanEnv.reset` calls it (num_steps int(1.7·(h+w)),
search_depth 30). Each level is seeded like the study's reset (random and numpy seeded with
the level's seed); a failed room is retried with the next free seed (the study used
`hash(str(seed))`). Stops after N levels or BUDGET seconds of generation, whichever first.
Prints one JSON object: {"levels": [xsb, ...], "seconds": generation CPU seconds}.
Imports only numpy and the peer: none of this project's code.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import time
import types


def _load(source: str) -> tuple[object, dict]:
    if source == "gym":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from gym_sokoban.envs import room_utils
        return room_utils, {}
    for name in ("matplotlib", "matplotlib.pyplot", "matplotlib.animation"):
        sys.modules.setdefault(name, types.ModuleType(name))  # plotting only, never called
    sys.modules["matplotlib"].pyplot = sys.modules["matplotlib.pyplot"]
    sys.modules["matplotlib"].animation = sys.modules["matplotlib.animation"]
    spec = importlib.util.spec_from_file_location("peer_room_utils", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, {"search_depth": 30}


def _xsb(structure: object, state: object) -> str:
    rows = []
    for srow, row in zip(structure.tolist(), state.tolist(), strict=True):
        line = ""
        for fixed, cell in zip(srow, row, strict=True):
            target = fixed == 2
            if cell == 0:
                line += "#"
            elif cell == 5:
                line += "+" if target else "@"
            elif cell in (3, 4):  # both codes mean a box; the fixed room says if on a target
                line += "*" if target else "$"
            else:
                line += "." if target else " "
        rows.append(line)
    return "\n".join(rows)


def main(source: str, height: int, width: int, boxes: int, n: int, budget: float) -> None:
    import numpy as np

    room_utils, extra = _load(source)
    levels: list[str] = []
    seed = 0
    start = time.process_time()
    while len(levels) < n and time.process_time() - start < budget:
        random.seed(seed)
        np.random.seed(seed)
        seed += 1
        try:
            out = room_utils.generate_room(
                dim=(height, width),
                num_steps=int(1.7 * (height + width)),
                num_boxes=boxes,
                **extra,
            )
        except (RuntimeError, RuntimeWarning):
            continue
        levels.append(_xsb(out[0], out[1]))
    print(json.dumps({"levels": levels, "seconds": time.process_time() - start}))


if __name__ == "__main__":
    src, h, w, b, count, secs = sys.argv[1:7]
    main(src, int(h), int(w), int(b), int(count), float(secs))

"""General Points (the 24 game of the study): cards, an exact solver, a safe formula reader.

No ML imports; sympy only checks the canonical forms (`forms.sympy_form`, in the tests).

    >>> from solvers.points import hand_values, solve, judge
    >>> solve(hand_values(["3", "3", "8", "8"]))
    ('8/(3-8/3)',)
    >>> judge('{"formula": "8/(3-8/3)"}', [3, 3, 8, 8]).value
    'correct'

Modules: `cards` (ranks, the study's face-card rules), `forms` (canonical forms up to
commutativity and associativity), `search` (the solver), `formula` (the formula reader),
`answer` (reading the answer out of a completion, verdicts). Command line:
`datagen solve points 3 3 8 8 --all`.
"""

from solvers.points.answer import (
    Answer,
    Verdict,
    extract_formula,
    judge,
    judge_answer,
    judge_formula,
    read_answer,
)
from solvers.points.cards import (
    FACE_RULES,
    RANKS,
    TRAIN_FACE_RULES,
    CardError,
    card_value,
    hand_values,
    parse_faces,
)
from solvers.points.formula import Formula, FormulaError, canonical, read_formula
from solvers.points.search import clear_caches, is_solvable, solve

__all__ = [
    "FACE_RULES",
    "RANKS",
    "TRAIN_FACE_RULES",
    "Answer",
    "CardError",
    "Formula",
    "FormulaError",
    "Verdict",
    "canonical",
    "card_value",
    "clear_caches",
    "extract_formula",
    "hand_values",
    "is_solvable",
    "judge",
    "judge_answer",
    "judge_formula",
    "parse_faces",
    "read_answer",
    "read_formula",
    "solve",
]

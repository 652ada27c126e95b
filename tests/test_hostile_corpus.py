"""Every reader of model text and level text on the hostile corpus: a verdict, never an exception.

The corpus (benchmarks/hostile_corpus.py, shared with `make bench`'s hostile section, which
times it) holds the inputs of issue #11 and their siblings; here up to 100 kB each, so the test
stays quick. No timing is asserted here.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from hostile_corpus import corpus, targets

from solvers.points import Answer

ALL = corpus()
CASES = [c for c in ALL if c.size <= 100_000]
SCORE_VERDICTS = {
    "correct",
    "no_answer",
    "not_in_vocabulary",
    "not_optimal",
    "wrong_value",
    "wrong_numbers",
    "illegal",
    "ambiguous",
}
VERDICT = {  # what each reader answers: checked for every input
    "final_text": lambda v: v is None or isinstance(v, str),
    "points.read_answer": lambda v: isinstance(v, Answer),
    "points.score": lambda v: v in SCORE_VERDICTS,
    "sokoban.score": lambda v: v in SCORE_VERDICTS,
    "sokoban.parse_action": lambda v: v in ("u", "d", "l", "r", "None"),
    "formula.read": lambda v: isinstance(v, str) and v != "",
    "level.parse": lambda v: isinstance(v, str) and v != "",
    "level.split": lambda v: v is None or isinstance(v, int),
    "cli.read_levels": lambda v: isinstance(v, str) and v != "",
}


def _is_reward(v) -> bool:
    return v in (0.0, 1.0)


def test_the_corpus_covers_the_issue_and_its_siblings():
    names = {c.name for c in ALL}
    assert len(names) == len(ALL) > 300
    for name in ("issue/later_bare_formula", "issue/nested_1000", "issue/answer_tags_64k"):
        assert name in names
    assert {c.kind for c in CASES} == {"completion", "level"}


@pytest.mark.parametrize("kind", ["completion", "level"])
def test_every_reader_gives_a_verdict_on_every_input(kind):
    readers = targets(kind)
    assert len(readers) >= (12 if kind == "completion" else 3)
    failures = []
    for case in (c for c in CASES if c.kind == kind):
        for reader in readers:
            try:
                verdict = reader.call(case.payload)
            except Exception as exc:  # the point: none may escape
                failures.append(f"{case.name} -> {reader.name}: {type(exc).__name__}: {exc}")
                continue
            check = VERDICT.get(reader.name, _is_reward)
            if not check(verdict):
                failures.append(f"{case.name} -> {reader.name}: no verdict ({verdict!r:.80})")
    assert not failures, "\n".join(failures[:20])


def test_the_issue_inputs_get_the_rule_s_verdicts():
    by_name = {c.name: c.payload for c in ALL}
    readers = {r.name: r.call for r in targets("completion")}
    points, sokoban = readers["points.score"], readers["sokoban.score"]
    assert points(by_name["issue/later_bare_formula"]) == "ambiguous"
    assert points(by_name["issue/answer_then_brace_in_string"]) == "wrong_value"
    assert points(by_name["issue/nested_1000"]) == "no_answer"
    assert points(by_name["issue/think_reopened_points"]) == "no_answer"
    assert sokoban(by_name["issue/think_reopened_sokoban"]) == "no_answer"
    assert sokoban(by_name["issue/answer_tags_64k"]) == "no_answer"
    assert readers["sokoban.parse_action"](by_name["issue/up_text_selector"]) == "u"

"""The diverse-model probe: the word swap, and the whole probe on a real build and tiny model.

The tiny model's answers mean nothing; the test checks the swap itself and that every share is
a fraction of the rows, for every prompt set, in the one JSON line the command prints.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from replicate_mini_probe import UNSEEN, main, swapped

from datagen.build import BuildConfig, build
from datagen.tiny_model import tiny_model_path

ROW = {
    "prompt": [
        {"role": "system", "content": "cat is fixed"},
        {
            "role": "user",
            "content": "<answer> cat </answer> | <answer> dog </answer> | <answer> catfish "
            "</answer>\nwhere cat is Up, dog is Down, catfish is Left. Go, cat!",
        },
    ],
    "completion": [{"role": "assistant", "content": "<answer> dog </answer>"}],
    "template": {"vocabulary": ["cat", "dog", "catfish"]},
}


def test_swap_replaces_whole_words_once_and_follows_the_target():
    messages, target = swapped(ROW, ["dog", "cat", "North"])
    assert target == "cat"  # the target's old word, dog, became cat
    assert messages[-1]["content"] == (
        "<answer> dog </answer> | <answer> cat </answer> | <answer> North "
        "</answer>\nwhere dog is Up, cat is Down, North is Left. Go, dog!"
    )
    assert messages[0] == ROW["prompt"][0]  # only the user turn shows the words
    assert ROW["prompt"][-1]["content"].startswith("<answer> cat")  # the row is not changed


def test_probe_runs_on_a_real_build(tmp_path, capsys):
    data = tmp_path / "data"
    build([BuildConfig(task="sokoban", train_size=6, eval_size=1, diverse=True, workers=1)], data)
    model = tiny_model_path()
    code = main([str(model), str(data / "sokoban"), "--rows", "3", "--swap", str(data / "sokoban")])
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert record["rows"] == 3 and set(record["swaps"]) == {"seen words", *UNSEEN}
    for shares in record["swaps"].values():
        assert set(shares) == {"prompt_word", "target"}
        assert 0 <= shares["target"] <= shares["prompt_word"] <= 1
        assert all(abs(share * 3 - round(share * 3)) < 1e-3 for share in shares.values())


def test_too_few_trained_words_to_swap_in_is_one_line(tmp_path, capsys):
    data = tmp_path / "data"
    build([BuildConfig(task="sokoban", train_size=1, eval_size=1, diverse=True, workers=1)], data)
    task_dir = str(data / "sokoban")
    assert main([str(tiny_model_path()), task_dir, "--rows", "1", "--swap", task_dir]) == 1
    assert "fewer than 4 other words" in capsys.readouterr().err


def test_a_build_without_the_config_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path), str(tmp_path), "--swap", str(tmp_path)]) == 1
    assert capsys.readouterr().err.count("\n") == 1

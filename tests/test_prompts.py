"""The prompt formats: the study's raw string, prefill and targets byte for byte, tokenizer checks.

The expected strings are transcribed from the study's code (XiaofengLin7/debunking-sft-
generalization at 077d4cf); each cites the file and lines it comes from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from datagen.prompts import (
    FORMATS,
    PromptFormatError,
    check_tokenizer,
    completion_text,
    continuation,
    prefill,
    prompt_text,
    render_row,
)
from datagen.tasks import points as points_task
from datagen.tasks import sokoban as sokoban_task
from datagen.templates.points import make_template as points_template
from datagen.templates.sokoban import make_template

GRID = "######\n#  . #\n# $  #\n# @  #\n######"

# The wrapper 'qwen-instruct' of debunk_sft/env/sokoban/env.py:63 (= create_diverse_dataset.py:62)
# around the instruction of create_diverse_dataset.py:10-34, for the level GRID: no system message,
# a space before <|im_end|>, <think> opened for the model.
STUDY_THINK = (
    "<|im_start|>user\n"
    "You are a Sokoban solver.\n\n"
    "Sokoban Quick Guide\n"
    "Goal: Push all boxes (X) onto targets (O).\n\n"
    "Symbols:\n"
    "# Wall | _ Floor | O Target | X Box | P You | √ = Box on Target | S = You on Target\n\n"
    "Rules:\n"
    "1. Push boxes (can't pull).\n"
    "2. Avoid walls (#).\n\n"
    "Answers:\n"
    "<answer> Up </answer> | <answer> Down </answer> | <answer> Left </answer> | "
    "<answer> Right </answer>\n\n"
    "Rewards:\n"
    "Move: -0.1\n"
    "Box on target: +1.0\n"
    "All boxes placed: +10.0\n\n\n"
    "[Current Observation]:\n"
    " # \t # \t # \t # \t # \t # \t\n"
    " # \t _ \t _ \t O \t _ \t # \t\n"
    " # \t _ \t X \t _ \t _ \t # \t\n"
    " # \t _ \t P \t _ \t _ \t # \t\n"
    " # \t # \t # \t # \t # \t # \t\n"
    "Decide the next action:\n"
    "Always output: <think> [Your thoughts] </think> <answer> [your answer] </answer> with no "
    "extra text. Strictly follow this format. <|im_end|>\n"
    "<|im_start|>assistant\n"
    "<think>"
)
# 'qwen-instruct-answer-only' of debunk_sft/utils/dataset/sokoban/create_dataset.py:39.
STUDY_ANSWER_ONLY_TAIL = (
    "Decide the next action:\n"
    "Always output: <answer> [your answer] </answer> with no extra text. Strictly follow this "
    "format. <|im_end|>\n"
    "<|im_start|>assistant\n"
    "<answer>"
)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from datagen.tiny_model import tiny_model_path

    return AutoTokenizer.from_pretrained(tiny_model_path())


@pytest.fixture(scope="module")
def bare_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real byte-level BPE tokenizer with a chat template but without ChatML's tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(["You are a Sokoban solver. Up Down Left Right"], trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="</s>",
        chat_template="{% for m in messages %}{{ m.content }}{% endfor %}",
    )
    out = tmp_path_factory.mktemp("bare") / "tok"
    fast.save_pretrained(out)
    return out


def _sokoban_messages(**template_options) -> tuple[list[dict], dict]:
    template = make_template(**template_options)
    return sokoban_task.render_prompt({"grid": GRID}, template), template


def test_study_sokoban_prompt_is_the_study_string(tokenizer):
    messages, template = _sokoban_messages()
    assert prompt_text(tokenizer, messages, template, "study") == STUDY_THINK
    messages, template = _sokoban_messages(think=False)
    text = prompt_text(tokenizer, messages, template, "study")
    assert text.startswith(STUDY_THINK.split("Decide the next action:")[0])
    assert text.endswith(STUDY_ANSWER_ONLY_TAIL)


def test_chat_format_is_the_tokenizer_chat_template(tokenizer):
    messages, template = _sokoban_messages()
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt_text(tokenizer, messages, template, "chat") == expected
    kwargs = {"enable_thinking": False}
    with_kwargs = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, **kwargs
    )
    assert prompt_text(tokenizer, messages, template, "chat", kwargs) == with_kwargs != expected


def test_prefill_per_format_task_ending_and_imported_rows():
    think, answer_only = make_template(), make_template(think=False)
    gp = points_template(rule="all_10", faces=(10, 10, 10))
    assert [prefill(t, "chat") for t in (think, answer_only, gp)] == ["", "", ""]
    assert prefill(think, "study") == "<think>"  # env.py:63, create_diverse_dataset.py:62
    assert prefill(answer_only, "study") == "<answer>"  # create_dataset.py:39
    assert prefill(gp, "study") == ""  # the chat template, no prefill (gp_l_sft.sh:27)
    imported = {"family": "study-import", "ending": "answer-only", "prefill": "<answer>"}
    assert prefill(imported, "study") == "<answer>"
    assert prefill({**imported, "prefill": ""}, "study") == ""
    with pytest.raises(PromptFormatError, match="one of chat, study"):
        prefill(think, "raw")
    assert FORMATS == ("chat", "study")


def test_points_under_study_use_the_chat_template_as_the_study_did(tokenizer):
    # scripts/gp_l/gp_l_sft.sh:27 (data.chat_template=True: verl SFTDataset applies
    # apply_chat_template(add_generation_prompt=True)) and gp_l_eval_ckpts.sh:49.
    template = points_template(rule="all_10", faces=(10, 10, 10))
    messages = points_task.render_prompt({"cards": ["2", "7", "Q", "2"], "target": 24}, template)
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt_text(tokenizer, messages, template, "study") == expected
    assert messages[0]["content"].startswith("\n[Task Description]\n")
    forced_raw = {**template, "wrapper": "raw"}  # a row's own wrapper wins (imported rows)
    raw = prompt_text(tokenizer, messages, forced_raw, "study")
    content = messages[0]["content"]
    assert raw == f"<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n<think>"


def _row(template: dict, content: str, task: str = "sokoban") -> dict:
    if task == "sokoban":
        prompt = sokoban_task.render_prompt({"grid": GRID}, template)
    else:
        prompt = points_task.render_prompt({"cards": ["2", "7", "Q", "2"], "target": 24}, template)
    return {
        "id": "r",
        "task": task,
        "prompt": prompt,
        "completion": [{"role": "assistant", "content": content}],
        "template": template,
    }


def test_study_targets_are_the_study_bytes_and_end_with_eos(tokenizer):
    eos = tokenizer.eos_token
    # create_sft_dataset.py:10-12,48: "{action} </answer>\n" after the <answer> prefill.
    row = _row(make_template(think=False), "<answer> Up </answer>")
    assert completion_text(row, "study", tokenizer) == "Up </answer>\n" + eos
    # create_ultra_mixed_dataset.py:18-20: an empty thought after the <think> prefill.
    words = ["tree", "fix", "jade", "freedom"]
    diverse = make_template(vocabulary=words, scored_vocabulary=words, family="diverse")
    row = _row(diverse, "<answer> tree </answer>")
    assert completion_text(row, "study", tokenizer) == "</think> <answer> tree </answer>\n" + eos
    # CoT: the teacher's text after the <think> the prompt opened (generation.py, rejection).
    cot = "<think>\nUp reaches the box.\n</think>\n\n<answer> Up </answer>"
    row = _row(make_template(), cot)
    assert completion_text(row, "study", tokenizer) == cot[len("<think>") :] + eos
    # General Points: the answer as written (create_training_dataset.py:184) + EOS (verl
    # SFTDataset: response + tokenizer.eos_token).
    gp = points_template(rule="all_10", faces=(10, 10, 10))
    answer = points_task.answer_text(
        {"instance": {"cards": ["2", "7", "Q", "2"]}, "template": gp}, "(10/2+7)*2"
    )
    row = _row(gp, answer, task="points")
    assert completion_text(row, "study", tokenizer) == answer + eos
    assert completion_text(row, "study") == answer  # no tokenizer: no EOS to add
    # Imported rows already hold the study's target bytes.
    imported = {"family": "study-import", "ending": "answer-only", "prefill": "<answer>"}
    row = {
        "prompt": [{"role": "user", "content": "verbatim"}],
        "completion": [{"role": "assistant", "content": "Up </answer>\n"}],
        "template": imported,
    }
    assert completion_text(row, "study", tokenizer) == "Up </answer>\n" + eos
    assert continuation("<answer>Up </answer>\n", imported, "study") == "Up </answer>\n"
    prompt = prompt_text(tokenizer, row["prompt"], imported, "study")
    assert prompt == "<|im_start|>user\nverbatim<|im_end|>\n<|im_start|>assistant\n<answer>"


def test_prompt_plus_target_is_what_the_study_trained_on(tokenizer):
    row = _row(make_template(), "<answer> Up </answer>")
    prompt, target = render_row(tokenizer, row, "study")
    assert prompt + target == STUDY_THINK + "</think> <answer> Up </answer>\n<|im_end|>"
    chat_prompt, chat_target = render_row(tokenizer, row, "chat")
    full = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
    assert chat_prompt + chat_target == full
    assert completion_text(row, "chat", tokenizer) == chat_target


def test_check_tokenizer_names_what_is_missing(tokenizer, bare_tokenizer_dir):
    from transformers import AutoTokenizer

    check_tokenizer(tokenizer, "study")  # the tiny Qwen-like tokenizer has both
    check_tokenizer(tokenizer, "chat")
    bare = AutoTokenizer.from_pretrained(bare_tokenizer_dir)
    with pytest.raises(PromptFormatError) as error:
        check_tokenizer(bare, "study")
    message = str(error.value)
    assert "\n" not in message and "lacks <|im_start|> and <|im_end|>" in message
    bare.add_special_tokens({"additional_special_tokens": ["<|im_start|>"]})
    with pytest.raises(PromptFormatError, match=r"lacks <\|im_end\|> \(") as error:
        check_tokenizer(bare, "study")
    bare.chat_template = None
    with pytest.raises(PromptFormatError, match="no chat template"):
        check_tokenizer(bare, "chat")
    with pytest.raises(PromptFormatError, match="one of chat, study"):
        check_tokenizer(tokenizer, "nope")


def test_bad_rows_are_clear_errors(tokenizer):
    messages, template = _sokoban_messages()
    system = [{"role": "system", "content": "x"}, *messages]
    with pytest.raises(PromptFormatError, match="one user message"):
        prompt_text(tokenizer, system, template, "study")
    row = _row(make_template(think=False), "Up")
    with pytest.raises(PromptFormatError, match="does not open with the prefill <answer>"):
        completion_text(row, "study", tokenizer)
    with pytest.raises(PromptFormatError, match="needs the tokenizer"):
        completion_text(row, "chat")
    with pytest.raises(PromptFormatError, match="no completion"):
        render_row(tokenizer, {**row, "completion": []}, "study")
    with pytest.raises(PromptFormatError, match="wrapper"):
        prefill({**template, "wrapper": "jinja"}, "study")

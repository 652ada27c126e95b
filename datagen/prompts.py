"""The prompt formats a model sees, shared by `datagen finetune`, `datagen eval` and GRPO.

- `chat`: the tokenizer's own chat template with the generation prompt; nothing is pre-filled.
- `study`: the text the study's code fed its models (XiaofengLin7/debunking-sft-generalization at
  077d4cf). Sokoban: no chat template, no system message, the raw string
  `<|im_start|>user\\n{content}<|im_end|>\\n<|im_start|>assistant\\n` followed by `<think>` (or
  `<answer>` for the answer-only ending), already opened for the model
  (`debunk_sft/env/sokoban/env.py:63`, `utils/dataset/sokoban/create_dataset.py:39`,
  `scripts/sokoban/sokoban_sft.sh:34` `data.chat_template=False`). General Points: the study did
  apply the tokenizer's chat template there (`scripts/gp_l/gp_l_sft.sh:27`,
  `gp_l_eval_ckpts.sh:49,66` `chat_template=True`) and pre-filled nothing. The training target is
  the text after the prefill plus the tokenizer's EOS token (verl's `SFTDataset`: `response +
  tokenizer.eos_token`, the EOS carrying loss).

    check_tokenizer(tokenizer, "study")                      # PromptFormatError, one line
    text = prompt_text(tokenizer, row["prompt"], row["template"], "study")
    target = completion_text(row, "study", tokenizer)        # e.g. 'Up </answer>\\n<|endoftext|>'
    parsed = prefill(row["template"], "study") + generated   # what the answer parser reads

A row's template may carry `prefill` (and `wrapper`: `raw` | `chat`), as imported rows do; those
override what the template's task and ending imply.
"""

from __future__ import annotations

from typing import Any

FORMATS = ("chat", "study")
STUDY_TOKENS = ("<|im_start|>", "<|im_end|>")
THINK = "<think>"
ANSWER = "<answer>"
WRAPPERS = ("raw", "chat")


class PromptFormatError(ValueError):
    """A tokenizer or row that the prompt format cannot render (the message says why)."""


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise PromptFormatError(f"prompt format: one of {', '.join(FORMATS)}, got {fmt!r}")


def _name(tokenizer: Any) -> str:
    return getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__


def _is_token(tokenizer: Any, token: str) -> bool:
    """Whether `token` is one token of the vocabulary (not spelt out of pieces)."""
    ids = tokenizer.encode(token, add_special_tokens=False)
    return len(ids) == 1 and tokenizer.convert_ids_to_tokens(ids[0]) == token


def check_tokenizer(tokenizer: Any, fmt: str) -> None:
    """Fail early, in one line, when `tokenizer` cannot render `fmt`."""
    _check_format(fmt)
    if fmt == "study":
        missing = [t for t in STUDY_TOKENS if not _is_token(tokenizer, t)]
        if missing:
            raise PromptFormatError(
                f"--prompt-format study needs the special tokens {' and '.join(STUDY_TOKENS)}; "
                f"the tokenizer of {_name(tokenizer)} lacks {' and '.join(missing)} "
                "(use --prompt-format chat)"
            )
    elif not getattr(tokenizer, "chat_template", None):
        raise PromptFormatError(
            f"{_name(tokenizer)}: the tokenizer has no chat template (use an instruct/chat "
            "model, or --prompt-format study)"
        )


def study_wrapper(template: dict) -> str:
    """How the study wrapped a row of this template: `raw` (Sokoban) or `chat` (General Points)."""
    wrapper = template.get("wrapper")
    if wrapper is not None:
        if wrapper not in WRAPPERS:
            raise PromptFormatError(f"template wrapper: one of {WRAPPERS}, got {wrapper!r}")
        return wrapper
    return "chat" if "faces" in template else "raw"  # face-card rules: a General Points template


def prefill(template: dict, fmt: str) -> str:
    """The part of the answer already written into the prompt ('' under chat)."""
    _check_format(fmt)
    if fmt == "chat":
        return ""
    if "prefill" in template:
        return str(template["prefill"])
    if study_wrapper(template) == "chat":
        return ""
    return THINK if template.get("think", True) else ANSWER


def prompt_text(
    tokenizer: Any,
    messages: list[dict],
    template: dict,
    fmt: str,
    chat_template_kwargs: dict | None = None,
) -> str:
    """The exact text the model continues."""
    head = prefill(template, fmt)  # also checks fmt
    if fmt == "chat" or study_wrapper(template) == "chat":
        if not getattr(tokenizer, "chat_template", None):
            raise PromptFormatError(f"{_name(tokenizer)}: the tokenizer has no chat template")
        rendered = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, **(chat_template_kwargs or {})
        )
        return rendered + head
    if len(messages) != 1 or messages[0].get("role") != "user":
        roles = ", ".join(str(m.get("role")) for m in messages)
        raise PromptFormatError(f"the study format renders one user message, got roles: {roles}")
    return f"<|im_start|>user\n{messages[0]['content']}<|im_end|>\n<|im_start|>assistant\n{head}"


def continuation(text: str, template: dict, fmt: str) -> str:
    """A whole answer (as a row's completion holds it) written after the prefill.

    Under study, the study's own target bytes: `Up </answer>\\n` after `<answer>`
    (create_sft_dataset.py:10-12), `</think> <answer> Up </answer>\\n` (an empty thought) after
    `<think>` for an answer without thinking (create_ultra_mixed_dataset.py:18-20), and a
    thinking answer's text after its `<think>` as the teacher wrote it. Under chat, `text`.
    """
    head = prefill(template, fmt)
    if fmt == "chat" or (not head and "prefill" not in template):
        return text
    if "prefill" in template:  # imported rows hold the study's target bytes already
        return text[len(head) :] if head and text.startswith(head) else text
    if head == ANSWER:
        if not text.startswith(ANSWER):
            raise PromptFormatError(f"the answer does not open with the prefill {ANSWER}")
        return text[len(ANSWER) :].lstrip(" ") + "\n"
    if text.startswith(THINK):
        return text[len(THINK) :]
    return f"</think> {text}\n"


def render_row(
    tokenizer: Any, row: dict, fmt: str, chat_template_kwargs: dict | None = None
) -> tuple[str, str]:
    """(prompt_text, completion_text) of an SFT row: the trained text, split where loss starts."""
    completion = row.get("completion")
    if not completion:
        raise PromptFormatError("no completion (train on an SFT config)")
    template = row.get("template") or {}
    prompt = prompt_text(tokenizer, row["prompt"], template, fmt, chat_template_kwargs)
    if fmt == "chat":
        full = tokenizer.apply_chat_template(
            row["prompt"] + completion, tokenize=False, **(chat_template_kwargs or {})
        )
        if not full.startswith(prompt):
            raise PromptFormatError(
                "the chat template renders the prompt differently inside the conversation "
                "(the rendered prompt is not a prefix), so completion tokens cannot be found"
            )
        return prompt, full[len(prompt) :]
    target = continuation(completion[0]["content"], template, fmt)
    return prompt, target + (getattr(tokenizer, "eos_token", None) or "")


def completion_text(
    row: dict, fmt: str, tokenizer: Any = None, chat_template_kwargs: dict | None = None
) -> str:
    """The training target that follows `prompt_text` for an SFT row.

    chat: the rest of the rendered conversation (needs the tokenizer). study: `continuation` of
    the completion plus the tokenizer's EOS token when a tokenizer is given.
    """
    _check_format(fmt)
    if tokenizer is None:
        if fmt == "chat":
            raise PromptFormatError("the chat format needs the tokenizer to render a completion")
        completion = row.get("completion")
        if not completion:
            raise PromptFormatError("no completion (train on an SFT config)")
        return continuation(completion[0]["content"], row.get("template") or {}, fmt)
    return render_row(tokenizer, row, fmt, chat_template_kwargs)[1]

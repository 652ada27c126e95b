"""A local model served over HTTP for the duration of a `with` block (tests, benchmarks).

with serve(tiny_model_path()) as base_url:    # `transformers serve` on 127.0.0.1
    OpenAITeacher(model=str(path), base_url=base_url)
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(model_dir: Path | str, port: int | None = None, timeout: float = 120.0):
    """Run `transformers serve MODEL_DIR` on 127.0.0.1 for the duration of a `with` block.

    Yields the base URL (`http://127.0.0.1:PORT/v1`); requests must name the model by its path
    (`str(model_dir)`). The server is always killed on exit. `transformers serve` ignores `n`
    and rejects `top_k`; it honours `seed`, `temperature`, `top_p` and `max_tokens`.
    """
    import os
    import subprocess
    import tempfile
    import time
    import urllib.request

    port = port or free_port()
    exe = Path(sys.executable).with_name("transformers")
    cmd = [
        str(exe),
        "serve",
        str(model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    # The log goes to a file, not a pipe: an unread pipe that fills up would stall the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"transformers serve exited with {proc.returncode}: {err}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"transformers serve did not start within {timeout:.0f} s")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc, timeout=10)
        log.close()


def stop(proc, timeout: float) -> None:
    """Terminate a server process; kill it if it has not exited within `timeout` seconds."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)

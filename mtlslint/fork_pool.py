"""Tasks run in processes made with ``fork()``, their answers read back through pipes.

``concurrent.futures.ProcessPoolExecutor`` costs about 17 ms of imports, a manager thread,
queues and locks before its first task runs: a tenth of a scan of a thousand files. Where
``fork()`` is safe (Linux), :func:`run_forked` does the little the scan needs directly:

- the task numbers are written to one pipe before any worker exists, each as 4 bytes (a pipe
  hands out writes of up to ``PIPE_BUF`` bytes whole), so each worker reads the next number
  when it is free, and sees the end of the pipe when none is left: the load balances itself;
- each worker writes each answer to its own pipe as ``number, length, bytes``;
- a worker that fails leaves its tasks unanswered, and the caller runs those itself.

The workers share the parent's memory as it was at ``fork()`` (nothing is pickled on the way
in) and end with ``os._exit``: no atexit handler, no buffered output of the parent's, runs twice.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import struct
import sys
from collections.abc import Callable, Iterator

_NUMBER = struct.Struct(">I")
_HEADER = struct.Struct(">IQ")
# Task numbers are written before the workers start; more than a pipe holds would block.
MAX_TASKS = 4096


def available() -> bool:
    """Whether workers can be forked here: POSIX, and not macOS, whose system frameworks are
    not safe to use in a forked child."""
    return hasattr(os, "fork") and sys.platform != "darwin"


def run_forked(
    count: int, work: Callable[[int], bytes], jobs: int
) -> Iterator[tuple[int, bytes]]:
    """``(number, work(number))`` for the tasks ``0 … count-1``, run in ``jobs`` forked workers,
    in the order they finish. Tasks of a worker that failed are not answered."""
    if count > MAX_TASKS:
        raise ValueError(f"at most {MAX_TASKS} tasks")
    tasks_read, tasks_write = os.pipe()
    workers: dict[int, int] = {}  # answer pipe -> worker pid
    try:
        try:
            for number in range(count):
                os.write(tasks_write, _NUMBER.pack(number))
        finally:
            os.close(tasks_write)  # before forking: the workers must see the end of the tasks
        for _ in range(min(jobs, count)):
            answers_read, answers_write = os.pipe()
            try:
                pid = os.fork()
            except OSError:
                os.close(answers_read)
                os.close(answers_write)
                raise
            if pid == 0:  # the worker
                os.close(answers_read)
                for other in workers:
                    os.close(other)
                _work(tasks_read, answers_write, work)
            os.close(answers_write)
            workers[answers_read] = pid
        os.close(tasks_read)
        tasks_read = -1
        yield from _answers(workers)
    finally:
        if tasks_read != -1:
            os.close(tasks_read)
        for pid in workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # only matters when the caller stopped early
            os.waitpid(pid, 0)
        for pipe in workers:
            with contextlib.suppress(OSError):
                os.close(pipe)


def _work(tasks: int, answers: int, work: Callable[[int], bytes]) -> None:
    code = 0
    try:
        while True:
            raw = os.read(tasks, _NUMBER.size)
            if not raw:
                break
            (number,) = _NUMBER.unpack(raw)
            answer = work(number)
            _write_all(answers, _HEADER.pack(number, len(answer)) + answer)
    except BaseException:  # the parent runs what is left unanswered
        code = 1
    finally:
        os._exit(code)


def _write_all(pipe: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(pipe, view) :]


def _answers(workers: dict[int, int]) -> Iterator[tuple[int, bytes]]:
    buffers = {pipe: bytearray() for pipe in workers}
    open_pipes = set(workers)
    while open_pipes:
        ready, _, _ = select.select(list(open_pipes), [], [])
        for pipe in ready:
            chunk = os.read(pipe, 1 << 20)
            if not chunk:
                open_pipes.discard(pipe)
                continue
            buffer = buffers[pipe]
            buffer += chunk
            while len(buffer) >= _HEADER.size:
                number, length = _HEADER.unpack_from(buffer)
                end = _HEADER.size + length
                if len(buffer) < end:
                    break
                answer = bytes(buffer[_HEADER.size : end])
                del buffer[:end]
                yield number, answer

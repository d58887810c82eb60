"""fork_pool: tasks answered once each by forked workers; a failing worker loses only its task."""

from __future__ import annotations

import os

import pytest

from mtlslint import fork_pool

pytestmark = pytest.mark.skipif(not fork_pool.available(), reason="needs fork() (Linux)")


def test_every_task_answered_once() -> None:
    answers = dict(fork_pool.run_forked(50, lambda n: f"{n}:{os.getpid()}".encode(), jobs=3))
    assert sorted(answers) == list(range(50))
    workers = {answer.split(b":")[1] for answer in answers.values()}
    assert str(os.getpid()).encode() not in workers  # answered in other processes
    assert 1 <= len(workers) <= 3


def test_answers_larger_than_a_pipe_arrive_whole() -> None:
    big = {n: os.urandom(300_000 + n) for n in range(6)}
    assert dict(fork_pool.run_forked(6, lambda n: big[n], jobs=2)) == big


def test_a_failing_task_is_the_only_one_unanswered() -> None:
    def work(number: int) -> bytes:
        if number == 7:
            raise RuntimeError("broken unit")
        return b"ok"

    answers = dict(fork_pool.run_forked(20, work, jobs=2))
    assert sorted(answers) == [n for n in range(20) if n != 7]


def test_no_worker_left_behind() -> None:
    """Every worker has ended and was waited for (no zombie) once the answers are in."""
    answers = dict(fork_pool.run_forked(4, lambda n: str(os.getpid()).encode(), jobs=2))
    for pid in {int(answer) for answer in answers.values()}:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_more_tasks_than_the_pipe_holds_are_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        list(fork_pool.run_forked(fork_pool.MAX_TASKS + 1, lambda n: b"", jobs=2))


def test_a_fork_that_fails_stops_the_workers_already_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forks: list[int] = []
    real_fork = os.fork

    def fork_once() -> int:
        if forks:
            raise OSError("no more processes")
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork_once)
    with pytest.raises(OSError, match="no more processes"):
        list(fork_pool.run_forked(4, lambda n: b"x", jobs=2))
    with pytest.raises(ProcessLookupError):
        os.kill(forks[0], 0)

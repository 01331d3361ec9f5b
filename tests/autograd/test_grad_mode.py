"""Grad mode is per thread: `no_grad` in one thread never switches recording off in another."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from chainrule.autograd import Tensor, enable_grad, is_grad_enabled, no_grad


def test_no_grad_and_enable_grad_nest_and_restore() -> None:
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_in_one_thread_leaves_other_threads_recording() -> None:
    inside, release = threading.Event(), threading.Event()

    def hold_no_grad() -> None:
        with no_grad():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=hold_no_grad)
    worker.start()
    try:
        assert inside.wait(10)
        # The other thread is inside no_grad right now; this one still records.
        assert is_grad_enabled()
        w = Tensor(np.ones(3), requires_grad=True)
        (w * w).sum().backward()
        np.testing.assert_array_equal(w.grad, 2 * np.ones(3))
    finally:
        release.set()
        worker.join(10)


def test_a_new_thread_records_even_when_started_inside_no_grad() -> None:
    with no_grad(), ThreadPoolExecutor(1) as pool:
        assert pool.submit(is_grad_enabled).result(10)
    assert is_grad_enabled()


def test_interleaved_no_grad_blocks_in_many_threads_never_leak() -> None:
    barrier = threading.Barrier(8)

    def enter_and_leave() -> bool:
        # Threads enter together and leave in different orders; with one process-wide flag
        # the last "previous" value restored could be False.
        barrier.wait(10)
        with no_grad():
            barrier.wait(10)
        return is_grad_enabled()

    for _ in range(5):
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(lambda _: enter_and_leave(), range(8)))
        assert is_grad_enabled()

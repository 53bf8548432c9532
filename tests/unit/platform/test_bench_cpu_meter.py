"""``bench``'s CPU meter: the server's process tree, PostgreSQL's processes and finished children, per order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from omniretail.bench.support import CpuMeter, _process_tree

BURN = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n"
# a server's worker process: waits for the go file, burns 0.3 s of CPU, writes the done file, stays alive
WORKER = ("import os, sys, time\ngo, done = sys.argv[1], sys.argv[2]\nwhile not os.path.exists(go): time.sleep(0.01)\n"
          + BURN.format(s=0.3) + "open(done, 'w').close()\ntime.sleep(60)\n")


def _wait_for(check, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_the_server_tree_and_finished_children_are_measured_per_order(tmp_path):
    go, done = tmp_path / "go", tmp_path / "done"
    server = subprocess.Popen([sys.executable, "-c", "import subprocess, sys; subprocess.run(sys.argv[1:])",
                               sys.executable, "-c", WORKER, str(go), str(done)])
    try:
        _wait_for(lambda: len(_process_tree(server.pid)) == 2)
        meter = CpuMeter(server.pid)
        meter.start()
        go.touch()
        subprocess.run([sys.executable, "-c", BURN.format(s=0.2)], check=True)  # the load generator
        _wait_for(done.exists)
        meter.stop()
        per_order = meter.per_unit_ms(100)
    finally:
        for pid in reversed(_process_tree(server.pid)):
            os.kill(pid, signal.SIGKILL)
        server.wait()
    assert per_order is not None
    assert 2.5 <= per_order["server"] <= 4.0  # 0.3 s over 100 orders (/proc counts in clock ticks)
    assert 1.5 <= per_order["load_generator"] <= 3.5  # 0.2 s, and the interpreter's start
    assert per_order["postgres"] >= 0
    assert CpuMeter(server.pid).per_unit_ms(0) is None

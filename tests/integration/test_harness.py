#!/usr/bin/env python3
"""test_harness - how the harness judges a daemon that does not exit.

A process that outlives its stop signal is a problem (the test fails),
except under the sanitizers when it has logged "stopped": then only
LeakSanitizer's exit-time check holds it, and the stall is reported on
stderr (see Harness._stop_overdue). Checked with a stand-in process that
ignores SIGTERM and spins, against the log lines the harness reads; no
daemon runs."""
import os
import signal
import subprocess
import sys

import harness


def s_overdue(h, logged_stopped, sanitizers):
    """Problems the harness records for an overdue process."""
    h.env.pop('ASAN_OPTIONS', None)
    if sanitizers:
        h.env['ASAN_OPTIONS'] = 'detect_leaks=1'
    with open(h.log_path('volunteers'), 'a') as f:
        f.write('ts=t level=info svc=volunteers event=harness_start\n')
        if logged_stopped:
            f.write('ts=t level=info svc=volunteers event=stopping\n'
                    'ts=t level=info svc=volunteers event=stopped\n')
    p = subprocess.Popen([sys.executable, '-c',
                          'import signal\n'
                          'signal.signal(signal.SIGTERM, signal.SIG_IGN)\n'
                          'print("ready", flush=True)\n'
                          'while True: pass\n'], stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b'ready'
    d = harness._Daemon('volunteers', p)
    d.expected.add(int(signal.SIGTERM))
    os.kill(p.pid, signal.SIGTERM)
    h._stop_overdue(d, 'SIGTERM')
    assert p.returncode == -signal.SIGKILL, p.returncode
    p.stdout.close()
    return h.take_problems()


def test_overdue_without_stopped_fails(h):
    problems = s_overdue(h, logged_stopped=False, sanitizers=True)
    assert len(problems) == 1 and 'did not exit within' in problems[0], problems


def test_overdue_after_stopped_without_sanitizers_fails(h):
    problems = s_overdue(h, logged_stopped=True, sanitizers=False)
    assert len(problems) == 1 and 'did not exit within' in problems[0], problems


def test_overdue_after_stopped_under_sanitizers_is_reported_only(h):
    assert s_overdue(h, logged_stopped=True, sanitizers=True) == []


def test_a_new_start_needs_its_own_stopped(h):
    #  The previous process's "stopped" does not count for the next one.
    s_overdue(h, logged_stopped=True, sanitizers=True)
    problems = s_overdue(h, logged_stopped=False, sanitizers=True)
    assert len(problems) == 1, problems


if __name__ == '__main__':
    sys.exit(harness.main(globals(), start=False))

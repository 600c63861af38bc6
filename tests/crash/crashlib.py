"""crashlib - what the system crash tests share: their checks and their
run against a real system (tests/integration/harness.py).

A crash test writes its scenario as scenario(h) and ends with
    if __name__ == '__main__':
        sys.exit(crashlib.run(scenario))
It reports with crashlib.check(name, ok, detail); run() starts the
system, turns an exception into a failed check, always stops the system,
prints the closing "N passed, N failed" line and returns the exit code."""
import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'integration'))
import harness  # noqa: E402

_counts = {'passed': 0, 'failed': 0}


def check(name, ok, detail=''):
    """One verdict, printed at once (a crash test runs for minutes)."""
    print('%s %s %s' % ('ok  ' if ok else 'FAIL', name, detail), flush=True)
    _counts['passed' if ok else 'failed'] += 1


def run(scenario, **harness_kwargs):
    h = harness.Harness(**harness_kwargs)
    try:
        scenario(h)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        check('crash test ran', False, repr(e))
    finally:
        try:
            h.stop()
        except harness.HarnessError as e:
            check('clean stop', False, str(e))
    print('%d passed, %d failed' % (_counts['passed'], _counts['failed']))
    return 1 if _counts['failed'] else 0


def kill_while_working(h, threads, stop, services, rng, pause_s=(0.05, 0.3),
                       deadline_s=240, until=None):
    """Start the client threads, SIGKILL a daemon picked from services
    (a name may be listed more than once to weigh it) at random moments
    and restart it, until the clients finish, or until(kills) says enough
    (clients that run until stop is set), or deadline_s; then stop and
    join them and wait until the system is healthy again. Returns the
    kills per daemon."""
    import signal
    import time
    for t in threads:
        t.start()
    kills = {svc: 0 for svc in services}
    deadline = time.time() + deadline_s
    while (any(t.is_alive() for t in threads) and time.time() < deadline
           and not (until is not None and until(kills))):
        time.sleep(rng.uniform(*pause_s))
        svc = rng.choice(services)
        h.kill(svc, signal.SIGKILL)
        kills[svc] += 1
        time.sleep(rng.uniform(0.0, 0.1))
        h.start(svc, wait=False)
    stop.set()
    for t in threads:
        t.join(30)
    h.wait_healthy()
    return kills

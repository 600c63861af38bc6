"""test_deploy_up - deploy/up.sh runs, supervises and stops the system.

Runs the real deploy/up.sh (no package install, no build: it takes the
binaries under test from TASHAN_BIN_DIR) on a temp data dir and a free
port, then checks, in order:

  1. bad flags are refused with exit 2
  2. /healthz answers 200 and the six pid files name live daemons
  3. a second up.sh on the same data dir refuses to start
  4. a daemon killed with SIGKILL is back (new pid in its pid file,
     /healthz 200) within 3 s, and up.sh logged the restart
  5. SIGINT to up.sh stops every daemon cleanly (each exits 0), removes
     the pid files, and up.sh exits 0; no sanitizer report in any log

A step that cannot run because an earlier one failed counts as failed.
Prints "N passed, N failed" last; exits 1 when anything failed.
"""

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SOURCE_DIR = os.environ.get('TASHAN_SOURCE_DIR') or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
UP_SH = os.path.join(SOURCE_DIR, 'deploy', 'up.sh')
BIN_DIR = os.path.abspath(os.environ.get('TASHAN_BIN_DIR')
                          or os.path.join(SOURCE_DIR, 'build'))
VICTIM = 'ledger'                   # the daemon step 4 kills
RESTART_DEADLINE_S = 3.0
HEALTH_DEADLINE_S = 45.0            # up.sh waits 30 s itself
STOP_DEADLINE_S = 20.0              # up.sh: 10 s SIGTERM, then SIGKILL


def up_env():
    env = dict(os.environ)
    env.update(TASHAN_SKIP_INSTALL='1', TASHAN_SKIP_BUILD='1',
               TASHAN_BIN_DIR=BIN_DIR)
    return env


def alive(pid):
    """pid runs (a zombie does not count)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != 'Z'


def runs_daemon(pid, svc):
    """pid runs tashan-<svc> (argv[0], or argv[1] under an interpreter)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv = f.read().split(b'\0')
    except OSError:
        return False
    want = ('tashan-' + svc).encode()
    return any(os.path.basename(a) == want for a in argv[:2])


def read_pid(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def healthz(port):
    return harness.probe(port, '/healthz')


class UpRun:
    """One up.sh process and what the steps learn about it."""

    def __init__(self):
        self.root = harness.short_tmpdir('tashan-up-')
        self.data_dir = os.path.join(self.root, 'var')
        self.run_dir = os.path.join(self.data_dir, 'run')
        self.out_path = os.path.join(self.root, 'up.out')
        self.port = harness.free_port()
        self.proc = None
        self.seen_pids = set()      # every daemon pid seen in a pid file

    def output(self):
        try:
            with open(self.out_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def start(self):
        out = open(self.out_path, 'ab')
        self.proc = subprocess.Popen(
            ['bash', UP_SH, '--data-dir', self.data_dir,
             '--listen', '127.0.0.1:%d' % self.port, '--no-demo'],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=up_env(), start_new_session=True,
            #  If this test dies (a ctest timeout), up.sh gets SIGTERM and
            #  stops its daemons instead of leaving them behind.
            preexec_fn=harness.die_with_parent(signal.SIGTERM))
        out.close()

    def pid_file(self, svc):
        return os.path.join(self.run_dir, svc + '.pid')

    def pids(self):
        found = {svc: read_pid(self.pid_file(svc)) for svc in harness.SERVICES}
        self.seen_pids.update(p for p in found.values() if p)
        return found

    def cleanup(self):
        """Whatever happened: no up.sh, no daemon left running."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.pids()
        for pid in self.seen_pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if os.environ.get('TASHAN_KEEP') == '1':
            print('kept %s' % self.root, file=sys.stderr)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def fail_with_output(run, message):
    raise AssertionError('%s\n--- up.sh output:\n%s' % (message,
                                                       run.output()[-6000:]))


# ----------------------------------------------------------------------
#  Steps


def step_bad_flags(run):
    for args in (['--bogus'], ['--listen', 'nonsense'],
                 ['--listen', '127.0.0.1:70000'], ['--data-dir']):
        cp = subprocess.run(['bash', UP_SH] + args, capture_output=True,
                            text=True, env=up_env(), timeout=30,
                            stdin=subprocess.DEVNULL)
        assert cp.returncode == 2, ('up.sh %s: exit %d, expected 2\n%s'
                                    % (' '.join(args), cp.returncode,
                                       cp.stderr))
        assert 'usage' in cp.stderr, cp.stderr
    cp = subprocess.run(['bash', UP_SH, '--help'], capture_output=True,
                        text=True, env=up_env(), timeout=30)
    assert cp.returncode == 0 and '--data-dir' in cp.stdout, cp


def step_healthy(run):
    run.start()
    deadline = time.monotonic() + HEALTH_DEADLINE_S
    while True:
        if run.proc.poll() is not None:
            fail_with_output(run, 'up.sh exited (%s) before /healthz was 200'
                             % harness.describe_returncode(
                                 run.proc.returncode))
        status, body = healthz(run.port)
        if status == 200:
            break
        if time.monotonic() > deadline:
            fail_with_output(run, '/healthz not 200 within %.0f s (last: %s %s)'
                             % (HEALTH_DEADLINE_S, status, body))
        time.sleep(0.1)
    pids = run.pids()
    for svc, pid in pids.items():
        assert pid, 'no pid in %s' % run.pid_file(svc)
        assert alive(pid), '%s: pid %d from its pid file is not running' % (
            svc, pid)
        assert runs_daemon(pid, svc), 'pid %d is not tashan-%s' % (pid, svc)
    assert len(set(pids.values())) == len(pids), pids
    token = os.path.join(run.data_dir, 'gateway', 'ops.token')
    assert os.path.exists(token), 'no ops token at %s' % token
    assert os.path.exists(os.path.join(run.data_dir, 'logs', 'gateway.log'))
    #  Logs are for the service's account and group: files 0640 in 0750.
    log_dir = os.path.join(run.data_dir, 'logs')
    assert stat.S_IMODE(os.stat(log_dir).st_mode) == 0o750, oct(os.stat(log_dir).st_mode)
    for name in sorted(os.listdir(log_dir)):
        mode = stat.S_IMODE(os.stat(os.path.join(log_dir, name)).st_mode)
        assert mode == 0o640, 'logs/%s is %o' % (name, mode)


def step_lock(run):
    before = run.pids()
    cp = subprocess.run(
        ['bash', UP_SH, '--data-dir', run.data_dir, '--listen',
         '127.0.0.1:%d' % harness.free_port(), '--no-demo'],
        capture_output=True, text=True, env=up_env(), timeout=30,
        stdin=subprocess.DEVNULL)
    assert cp.returncode != 0, 'a second up.sh on the same data dir ran'
    assert 'already running' in cp.stderr, cp.stderr
    assert run.proc.poll() is None, 'the first up.sh died'
    assert run.pids() == before, 'the second up.sh changed the pid files'
    assert healthz(run.port)[0] == 200


def step_restart(run):
    old = run.pids()[VICTIM]
    os.kill(old, signal.SIGKILL)
    t0 = time.monotonic()
    new = None
    while time.monotonic() - t0 < RESTART_DEADLINE_S:
        pid = run.pids()[VICTIM]
        if pid and pid != old and alive(pid):
            new = pid
            break
        time.sleep(0.05)
    if new is None:
        fail_with_output(run, 'no new %s pid within %.0f s of kill -9 %d'
                         % (VICTIM, RESTART_DEADLINE_S, old))
    assert runs_daemon(new, VICTIM), new
    status = None
    while time.monotonic() - t0 < RESTART_DEADLINE_S:
        status, body = healthz(run.port)
        if status == 200:
            break
        time.sleep(0.05)
    if status != 200:
        fail_with_output(run, '/healthz not 200 within %.0f s of kill -9 '
                         '(last: %s)' % (RESTART_DEADLINE_S, status))
    text = run.output()
    want = (r'ts=\S+Z level=info svc=up\.sh event=restart service=%s '
            r'old_pid=%d status=signal:KILL new_pid=%d' % (VICTIM, old, new))
    assert re.search(want, text), 'up.sh did not log "%s"' % want
    #  up.sh's lines are in the daemons' format: ts, level, svc, event.
    with open(os.path.join(run.data_dir, 'logs', 'up.log'), encoding='utf-8') as f:
        lines = f.read().splitlines()
    assert lines, 'up.log is empty'
    for line in lines:
        assert re.match(r'ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z '
                        r'level=(info|warn|error) svc=up\.sh event=[a-z_]+( |$)',
                        line), 'up.log line not in ts_log format: %r' % line


def step_stop(run):
    pids = run.pids()
    run.proc.send_signal(signal.SIGINT)
    try:
        rc = run.proc.wait(STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        fail_with_output(run, 'up.sh still runs %.0f s after SIGINT'
                         % STOP_DEADLINE_S)
    assert rc == 0, 'up.sh exited %s after SIGINT\n%s' % (
        harness.describe_returncode(rc), run.output()[-4000:])
    left = [pid for pid in run.seen_pids if alive(pid)]
    assert not left, 'daemons still running after up.sh stopped: %s' % left
    for svc in harness.SERVICES:
        assert not os.path.exists(run.pid_file(svc)), (
            'pid file left: %s' % run.pid_file(svc))
    text = run.output()
    for svc in harness.SERVICES:
        m = re.search(r'event=stopped service=%s pid=%d status=(\S+)' % (svc, pids[svc]),
                      text)
        assert m, 'up.sh did not log how %s stopped' % svc
        assert m.group(1) == 'exit:0', '%s stopped with %s' % (svc,
                                                              m.group(1))
    log_dir = os.path.join(run.data_dir, 'logs')
    for name in sorted(os.listdir(log_dir)):
        reports = harness.sanitizer_reports(os.path.join(log_dir, name))
        assert not reports, 'sanitizer report in logs/%s:\n%s' % (
            name, reports[0])


#  (name, function, essential: the later steps need it to pass)
STEPS = [('bad_flags', step_bad_flags, False),
         ('healthy', step_healthy, True),
         ('second_instance_refused', step_lock, False),
         ('restart_after_kill9', step_restart, False),
         ('sigint_stops_all', step_stop, False)]


def main():
    for path in [UP_SH] + [os.path.join(BIN_DIR, 'tashan-' + s)
                           for s in harness.SERVICES]:
        if not os.path.exists(path):
            print('FAIL setup: %s is missing' % path)
            print('0 passed, %d failed' % len(STEPS))
            sys.exit(1)
    print('== test_deploy_up.py: %d steps (up.sh %s, binaries %s)'
          % (len(STEPS), UP_SH, BIN_DIR), flush=True)
    run = UpRun()
    passed = failed = 0
    broken = None
    try:
        for name, fn, essential in STEPS:
            if broken:
                failed += 1
                print('FAIL %s: not run: %s failed' % (name, broken))
                continue
            t0 = time.monotonic()
            try:
                fn(run)
            except Exception:
                failed += 1
                print('FAIL %s (%.2f s)' % (name, time.monotonic() - t0))
                print(harness.indent(traceback.format_exc().rstrip()))
                if essential:
                    broken = name
            else:
                passed += 1
                print('ok   %s (%.2f s)' % (name, time.monotonic() - t0))
            sys.stdout.flush()
    finally:
        run.cleanup()
    print('%d passed, %d failed' % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()

"""harness - run the real tashan daemons for an integration test.

A Harness starts the domain daemons (services/services.list) and the
gateway on a fresh temp data dir and a free loopback port, waits for
/healthz, and gives the test an HTTP client (keep-alive), the ops token,
tashanctl, and control over each daemon (kill, start, restart). When it
stops, it fails if a daemon exited badly: a non-zero exit code, a signal
the test did not send, or a sanitizer report in any log. Python 3
standard library only.

A test file:

    import harness

    def test_healthz(h):
        status, body, _ = h.request('GET', '/healthz', token=None)
        assert status == 200, body

    def test_school_token(h):
        token = h.make_token('school', school_id=h.make_school('S1'))
        status, body, _ = h.request('GET', '/v1/...', token=token)

    if __name__ == '__main__':
        harness.main(globals())

harness.main runs every test_* function (in file order, or only those
named on the command line) against ONE running system, restarts any
daemon a test left dead, and prints "N passed, N failed" as its last
line; it exits 1 when anything failed. A test may raise harness.Skip.

A test that needs a system of its own (e.g. restore into a fresh data dir)
can use one directly:

    with harness.Harness() as other:
        other.call('GET', '/healthz', token=None)

Environment:
    TASHAN_BIN_DIR        where the binaries are (default: the repository's
                          build/)
    TASHAN_KEEP=1         keep the temp data dir (its path is printed)
    TASHAN_TEST_TIMEOUT   seconds allowed per test function (default 120)
    TASHAN_HEALTH_TIMEOUT seconds to wait for /healthz 200 (default 20)
"""

import ctypes
import http.client
import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

#  The repository this file is in.
SOURCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
SERVICES_LIST = os.path.join(SOURCE_DIR, 'services', 'services.list')


def read_services_list(path=SERVICES_LIST):
    """The domain daemons of services/services.list, in start order: the
    first word of each line that is not a comment or blank."""
    with open(path, encoding='utf-8') as f:
        return tuple(line.split()[0] for line in f
                     if line[:1].isalpha() and line[:1].islower())


DOMAIN_SERVICES = read_services_list()
SERVICES = DOMAIN_SERVICES + ('gateway',)
#  The gateway stops first, so no request reaches a daemon going away.
STOP_ORDER = ('gateway',) + tuple(reversed(DOMAIN_SERVICES))

#  build/ of the repository this file is in.
DEFAULT_BIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               '..', '..', 'build')
#  A daemon stops in well under a second; the budget is for a sanitizer
#  build (LeakSanitizer scans the heap at exit) on a loaded 2-core machine.
STOP_TIMEOUT_S = 20
REQUEST_TIMEOUT_S = 10
LOG_TAIL_LINES = 40

#  What a sanitizer prints when it finds something.
def hang_report(pid):
    """What a process that does not exit is doing: its state, the kernel
    function it waits in, and each thread's (for the next one to read)."""
    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return '?'
    state = [l for l in read('/proc/%d/status' % pid).splitlines() if l.startswith('State:')]
    threads = []
    try:
        for tid in sorted(os.listdir('/proc/%d/task' % pid))[:16]:
            #  stat fields 14 and 15: user and system CPU ticks, to tell a
            #  spin from a wait.
            stat = read('/proc/%d/task/%s/stat' % (pid, tid)).rsplit(')', 1)[-1].split()
            cpu = '%s+%s ticks' % (stat[11], stat[12]) if len(stat) > 12 else '?'
            threads.append('%s:%s (%s)' % (tid, read('/proc/%d/task/%s/wchan' % (pid, tid)), cpu))
    except OSError:
        pass
    #  Its children: LeakSanitizer's exit-time tracer is one (a task that
    #  shares its memory but is not one of its threads).
    children = []
    try:
        out = subprocess.run(['ps', '--ppid', str(pid), '-o', 'pid=,stat=,time=,comm='],
                             capture_output=True, text=True, timeout=10).stdout
        children = [' '.join(l.split()) for l in out.splitlines() if l.strip()]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return '%s; threads %s; children %s; stacks: %s' % (
        state[0] if state else 'State: ?', ' '.join(threads),
        ', '.join(children) or 'none', hang_stacks(pid))


def hang_stacks(pid):
    """Each thread's user-space stack (gdb, when the machine has it): where
    a process that does not exit is, for whoever reads the failure."""
    gdb = shutil.which('gdb')
    if not gdb:
        return 'no gdb'
    try:
        out = subprocess.run([gdb, '-p', str(pid), '-batch', '-nx',
                              '-ex', 'thread apply all bt 24'],
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return 'gdb failed: %s' % e
    frames = [l.strip() for l in out.splitlines() if l.startswith(('#', 'Thread'))]
    return ' | '.join(frames[:80]) or 'gdb printed no frames'


SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                   'runtime error:', 'SUMMARY: UndefinedBehaviorSanitizer')

#  Default for request(token=...): use the ops token.
OPS = object()


class HarnessError(AssertionError):
    """The system under test misbehaved (or could not be started)."""


class Skip(Exception):
    """Raise in a test to skip it: raise harness.Skip('why')."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def probe(port, path, timeout_s=2):
    """GET http://127.0.0.1:port/path on a fresh connection: (status,
    text), or (None, the error) when nothing answers."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout_s)
    try:
        conn.request('GET', path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode('utf-8', 'replace')
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)
    finally:
        conn.close()


def describe_returncode(returncode):
    """A Popen returncode as words."""
    if returncode is None:
        return 'still running'
    if returncode < 0:
        try:
            return 'killed by ' + signal.Signals(-returncode).name
        except ValueError:
            return 'killed by signal %d' % -returncode
    return 'exited with code %d' % returncode


def tail(path, lines=LOG_TAIL_LINES):
    """The last lines of a text file, '' when it does not exist."""
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            size = f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read()
    except OSError:
        return ''
    text = data.decode('utf-8', 'replace').splitlines()
    if size:
        text = text[1:]                 # first line may be cut
    return '\n'.join(text[-lines:])


def sanitizer_reports(path, context=30):
    """Sanitizer reports in a log: a list of text excerpts."""
    try:
        with open(path, 'rb') as f:
            lines = f.read().decode('utf-8', 'replace').splitlines()
    except OSError:
        return []
    reports, i = [], 0
    while i < len(lines):
        if any(mark in lines[i] for mark in SANITIZER_MARKS):
            reports.append('\n'.join(lines[max(0, i - 2):i + context]))
            i += context
        else:
            i += 1
    return reports


def short_tmpdir(prefix):
    """mkdtemp, in /tmp when $TMPDIR is long: ipc:// socket paths under
    <data-dir>/run/ must fit in 107 bytes."""
    path = tempfile.mkdtemp(prefix=prefix)
    if len(path) > 60:
        os.rmdir(path)
        path = tempfile.mkdtemp(prefix=prefix, dir='/tmp')
    return path


#  Children die with the test process even when it is SIGKILLed (a ctest
#  timeout), instead of lingering on the CI machine.
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None
PR_SET_PDEATHSIG = 1


def die_with_parent(sig=signal.SIGKILL):
    """A preexec_fn for subprocess: the child gets sig when this process
    dies (SIGKILL by default; SIGTERM lets a supervisor clean up)."""
    def setup():
        if _prctl is not None:
            _prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    return setup


_child_setup = die_with_parent(signal.SIGKILL)


def _child_setup_here():
    """The parent-death signal follows the thread that forks, not the
    process: a daemon started from a test's worker thread would be killed
    when that thread ends. Use it from the main thread only."""
    if threading.current_thread() is threading.main_thread():
        return _child_setup
    return None


class _Daemon:
    """One process of one service."""

    def __init__(self, svc, popen):
        self.svc = svc              # service name
        self.popen = popen          # subprocess.Popen
        self.expected = set()       # signals the test sent it (may kill it)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None


class Harness:
    """The whole system on a temp data dir. See the module docstring."""

    def __init__(self, bin_dir=None, start=True, health_timeout_s=None,
                 extra_args=None, env=None):
        """bin_dir: binaries (default $TASHAN_BIN_DIR or the repo's build/).
        start: start every daemon and wait for health now.
        extra_args: {svc: [args]} added to a daemon's command line
        ('*' applies to all). env: extra environment for the daemons."""
        self.bin_dir = os.path.abspath(
            bin_dir or os.environ.get('TASHAN_BIN_DIR') or DEFAULT_BIN_DIR)
        for name in ['tashan-' + s for s in SERVICES] + ['tashanctl']:
            path = os.path.join(self.bin_dir, name)
            if not os.access(path, os.X_OK):
                raise HarnessError('%s is missing: build first (cmake --build '
                                   'build) or set TASHAN_BIN_DIR' % path)
        if health_timeout_s is None:
            health_timeout_s = float(
                os.environ.get('TASHAN_HEALTH_TIMEOUT', '20'))
        self.health_timeout_s = health_timeout_s
        self.extra_args = dict(extra_args or {})
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.keep = os.environ.get('TASHAN_KEEP') == '1'
        self.data_dir = short_tmpdir('tashan-it-')
        self.log_dir = os.path.join(self.data_dir, 'logs')
        os.makedirs(self.log_dir)
        self.port = free_port()
        self.listen = '127.0.0.1:%d' % self.port
        self.base_url = 'http://%s' % self.listen
        self.ops_token = None
        self.problems = []          # found, not yet reported
        self._daemons = {svc: None for svc in SERVICES}
        self._conn = None           # keep-alive connection to the gateway
        self._conn_requests = 0     # requests answered on it
        self._stopped = False
        self._schools_made = 0      # make_school's buildings and pupils
        if start:
            try:
                self.start_all()
            except BaseException:
                self._abort()
                raise

    # ------------------------------------------------------------------
    #  Context manager

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
            return False
        try:
            self.stop()
        except HarnessError as e:
            print('harness: also, at stop: %s' % e, file=sys.stderr)
        return False

    # ------------------------------------------------------------------
    #  Daemons

    def log_path(self, svc):
        """The log file of a service (all its processes, appended)."""
        return os.path.join(self.log_dir, svc + '.log')

    def read_log(self, svc):
        """The whole log of a service, as text."""
        try:
            with open(self.log_path(svc), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def pid(self, svc):
        """The pid of a service's running process, None when not running."""
        d = self._daemons[svc]
        return d.pid if d is not None and d.alive() else None

    def command(self, svc):
        """The command line that starts a service."""
        argv = [os.path.join(self.bin_dir, 'tashan-' + svc),
                '--data-dir', self.data_dir]
        if svc == 'gateway':
            argv += ['--listen', self.listen]
        argv += list(self.extra_args.get('*', []))
        argv += list(self.extra_args.get(svc, []))
        return argv

    def start(self, svc, wait=True):
        """Start a service (reaping its previous process, if any). With
        wait, return once /healthz answers 200."""
        assert svc in SERVICES, svc
        old = self._daemons[svc]
        if old is not None:
            if old.alive():
                raise HarnessError('%s is already running (pid %d)'
                                   % (svc, old.pid))
            self._reap_into_problems(svc)
        with open(self.log_path(svc), 'ab') as log:
            log.write(('ts=%s level=info svc=%s event=harness_start\n'
                       % (time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                          svc)).encode())
            log.flush()
            popen = subprocess.Popen(
                self.command(svc), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=self.env,
                start_new_session=True, preexec_fn=_child_setup_here())
        self._daemons[svc] = _Daemon(svc, popen)
        if svc == 'gateway':
            self._close_conn()
        if wait:
            self.wait_healthy()

    def start_all(self):
        """Start the domain daemons, then the gateway; wait for
        health and read the ops token."""
        for svc in SERVICES:
            self.start(svc, wait=False)
        self.wait_healthy()

    def kill(self, svc, sig=signal.SIGKILL, wait=None):
        """Send a signal to a service. The signal counts as expected: the
        process may die of it without failing the test. wait (default:
        True unless sig is SIGSTOP/SIGCONT/SIGTSTP) waits for it to exit.
        Returns the exit's returncode when waited, else None."""
        d = self._daemons[svc]
        if d is None or not d.alive():
            raise HarnessError('%s is not running' % svc)
        if wait is None:
            wait = sig not in (signal.SIGSTOP, signal.SIGCONT, signal.SIGTSTP)
        d.expected.add(int(sig))
        if svc == 'gateway':
            self._close_conn()
        os.kill(d.pid, sig)
        if not wait:
            return None
        try:
            d.popen.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._stop_overdue(d, signal.Signals(sig).name)
        return d.popen.returncode

    def _ran_to_its_end(self, svc):
        """Whether the service's last process logged 'stopped': its own
        code had finished (main was returning)."""
        log = self.read_log(svc)
        last_start = log.rfind('event=harness_start')
        return 'event=stopped' in log[max(0, last_start):]

    def _stop_overdue(self, d, sig_name):
        """A process that did not exit within STOP_TIMEOUT_S of sig_name:
        a problem, reported with what it was doing; then SIGKILL.

        One case is not: under the sanitizers (ASAN_OPTIONS set), a process
        that logged 'stopped' has run all of its own code, and what keeps
        it is LeakSanitizer's exit-time check. Its main thread spins in
        sched_yield until the check's tracer task is done. Rarely on
        the loaded 2-core CI machine (about once in three CI runs of some
        thousand daemon exits each) it never is: the process stays
        running with no other thread (google/sanitizers#777 is the same
        spin, its tracer killed). The sanitizer's own stall is reported on stderr, not
        failed; a hang before 'stopped', or in a build without the
        sanitizers, still fails."""
        report = hang_report(d.pid)
        ended = self._ran_to_its_end(d.svc)
        if 'ASAN_OPTIONS' in self.env and ended:
            print('harness: %s (pid %d) logged "stopped" but did not exit within %d s '
                  'of %s: the sanitizer\'s exit-time leak check stalled; killed (%s)'
                  % (d.svc, d.pid, STOP_TIMEOUT_S, sig_name, report), file=sys.stderr)
        else:
            self.problems.append('%s (pid %d) did not exit within %d s of %s; killed '
                                 '(%s "stopped"; %s)'
                                 % (d.svc, d.pid, STOP_TIMEOUT_S, sig_name,
                                    'had logged' if ended else 'had not logged', report))
        d.popen.kill()
        d.expected.add(int(signal.SIGKILL))
        d.popen.wait()

    def restart(self, svc):
        """Stop a service cleanly (SIGTERM), start it, wait for health."""
        self.kill(svc, signal.SIGTERM)
        self.start(svc)

    def stop_daemons(self):
        """Stop every running daemon cleanly (SIGTERM, the gateway first)
        and keep the data dir: e.g. before tashanctl restore. start_all()
        brings them back."""
        for svc in STOP_ORDER:
            if self.pid(svc) is not None:
                self.kill(svc, signal.SIGTERM)
        for svc in SERVICES:
            if self._daemons[svc] is not None:
                self._reap_into_problems(svc)

    def restart_all(self):
        """stop_daemons() then start_all(): the whole system restarts on
        the same data (for "survives a restart" tests)."""
        self.stop_daemons()
        self.start_all()

    def wait_healthy(self, timeout_s=None):
        """Wait until /healthz answers 200 (and the ops token exists).
        Returns the health body. On timeout, or when a daemon dies
        meanwhile, dumps the logs to stderr and raises HarnessError."""
        if timeout_s is None:
            timeout_s = self.health_timeout_s
        deadline = time.monotonic() + timeout_s
        last = 'no answer'
        token_path = os.path.join(self.data_dir, 'gateway', 'ops.token')
        while True:
            for svc in SERVICES:
                d = self._daemons[svc]
                if d is None or not d.alive():
                    why = ('not started' if d is None else
                           describe_returncode(d.popen.returncode))
                    self.dump_logs()
                    raise HarnessError('waiting for health: %s %s'
                                       % (svc, why))
            status, body = self._probe('/healthz')
            if status == 200 and os.path.exists(token_path):
                with open(token_path) as f:
                    self.ops_token = f.read().strip()
                if self.ops_token:
                    return body
            if status is not None:
                last = '%d %s' % (status, body)
            if time.monotonic() >= deadline:
                self.dump_logs()
                if status == 200:
                    raise HarnessError('healthy, but the gateway wrote no '
                                       'ops token at %s' % token_path)
                raise HarnessError('/healthz not 200 within %.0f s (last: %s)'
                                   % (timeout_s, last))
            time.sleep(0.05)

    def _probe(self, path):
        return probe(self.port, path)

    def check_processes(self):
        """Problems with daemons that ended while nobody expected it;
        each ended daemon is reaped (not restarted). Returns the list."""
        found = []
        for svc in SERVICES:
            d = self._daemons[svc]
            if d is not None and not d.alive():
                problem = self._reap(svc)
                if problem:
                    found.append(problem)
        return found

    def heal(self):
        """Start every service that is not running (a test killed it or it
        died), then wait for health. Returns the problems found."""
        found = self.check_processes()
        dead = [svc for svc in SERVICES if self._daemons[svc] is None]
        for svc in dead:
            self.start(svc, wait=False)
        if dead:
            self.wait_healthy()
        return found

    def take_problems(self):
        """Problems found so far, forgetting them."""
        found, self.problems = self.problems, []
        return found

    def _reap(self, svc):
        """Collect a finished process of svc and judge how it ended: the
        problem as text, or None when it ended as expected."""
        d = self._daemons[svc]
        self._daemons[svc] = None
        rc = d.popen.wait()
        if rc == 0 or (rc < 0 and -rc in d.expected):
            return None
        return ('%s (pid %d) %s; last lines of its log:\n%s'
                % (svc, d.pid, describe_returncode(rc),
                   indent(tail(self.log_path(svc)))))

    def _reap_into_problems(self, svc):
        problem = self._reap(svc)
        if problem:
            self.problems.append(problem)

    def dump_logs(self, lines=LOG_TAIL_LINES):
        """Print the end of every daemon's log to stderr."""
        for svc in SERVICES:
            print('---- %s (last %d lines of %s)' % (svc, lines,
                                                    self.log_path(svc)),
                  file=sys.stderr)
            print(tail(self.log_path(svc), lines), file=sys.stderr)
        sys.stderr.flush()

    def stop(self):
        """SIGTERM every daemon (the gateway first), wait up to 10 s, then
        SIGKILL. Removes the data dir unless TASHAN_KEEP=1. Raises
        HarnessError when a daemon ended badly or a log has a sanitizer
        report."""
        if self._stopped:
            return
        self._stopped = True
        self._close_conn()
        running = []
        for svc in STOP_ORDER:
            d = self._daemons[svc]
            if d is not None and d.alive():
                d.expected.add(int(signal.SIGTERM))
                os.kill(d.pid, signal.SIGTERM)
                try:
                    os.kill(d.pid, signal.SIGCONT)   # if a test stopped it
                except ProcessLookupError:
                    pass
                running.append(d)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for d in running:
            try:
                d.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._stop_overdue(d, 'SIGTERM')
        for svc in SERVICES:
            if self._daemons[svc] is not None:
                self._reap_into_problems(svc)
        for name in sorted(os.listdir(self.log_dir)):
            for report in sanitizer_reports(os.path.join(self.log_dir, name)):
                self.problems.append('sanitizer report in logs/%s:\n%s'
                                     % (name, indent(report)))
        if self.keep:
            print('harness: kept data dir %s' % self.data_dir,
                  file=sys.stderr)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        problems = self.take_problems()
        if problems:
            raise HarnessError('\n'.join(problems))

    def _abort(self):
        """Kill everything at once (start failed half way)."""
        self._stopped = True
        self._close_conn()
        for d in self._daemons.values():
            if d is not None and d.alive():
                d.popen.kill()
                d.popen.wait()
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ------------------------------------------------------------------
    #  HTTP

    def _connection(self):
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                '127.0.0.1', self.port, timeout=REQUEST_TIMEOUT_S)
            self._conn_requests = 0
        return self._conn

    def _close_conn(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method, path, body=None, token=OPS, raw_body=None,
                headers=None, timeout_s=None):
        """One HTTP request to the gateway on a keep-alive connection.

        body: a value sent as JSON. raw_body: str/bytes sent as they are
        (for malformed input). token: the bearer token; default the ops
        token, None for no Authorization header. headers: extra headers
        (a None value removes a default one). Returns (status, body,
        headers): body parsed as JSON when it is JSON, else text; headers
        an http.client.HTTPMessage (case-insensitive)."""
        hdrs = {}
        if token is OPS:
            token = self.ops_token
        if token:
            hdrs['Authorization'] = 'Bearer ' + token
        data = None
        if raw_body is not None:
            data = raw_body.encode() if isinstance(raw_body, str) else raw_body
            hdrs['Content-Type'] = 'application/json'
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs['Content-Type'] = 'application/json'
        for key, value in (headers or {}).items():
            for k in [k for k in hdrs if k.lower() == key.lower()]:
                del hdrs[k]
            if value is not None:
                hdrs[key] = value
        for attempt in (1, 2):
            conn = self._connection()
            reused = self._conn_requests > 0
            if timeout_s is not None:
                conn.timeout = timeout_s
                if conn.sock is not None:
                    conn.sock.settimeout(timeout_s)
            try:
                try:
                    conn.request(method, path, body=data, headers=hdrs)
                except (BrokenPipeError, ConnectionResetError):
                    #  The server may have answered and closed before
                    #  reading the whole body (413): read its answer.
                    pass
                resp = conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.CannotSendRequest,
                    http.client.ResponseNotReady):
                self._close_conn()
                #  The server closed an idle keep-alive connection: the
                #  request never reached it, so send it again once.
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                self._close_conn()
                raise
            if timeout_s is not None:
                conn.timeout = REQUEST_TIMEOUT_S
                if conn.sock is not None:
                    conn.sock.settimeout(REQUEST_TIMEOUT_S)
            self._conn_requests += 1
            if resp.will_close:
                self._close_conn()
            _record_route(method, path, resp.status)
            return resp.status, _parse_body(resp, raw), resp.headers
        raise AssertionError('unreachable')

    def call(self, method, path, body=None, expect=(200, 201), **kwargs):
        """request() that asserts the status (an int or a tuple) and
        returns only the body."""
        status, parsed, _ = self.request(method, path, body, **kwargs)
        allowed = (expect,) if isinstance(expect, int) else tuple(expect)
        assert status in allowed, ('%s %s: expected %s, got %d: %s'
                                   % (method, path, '/'.join(map(str, allowed)),
                                      status, _short(parsed)))
        return parsed

    def card_code(self, person_id, wait_s=15, **options):
        """Issue the resident's card code (POST /v1/persons/{id}/card-code,
        options as its body), waiting until the ledger has heard of the
        person. Returns the reply: {"code", "expires_at", "id", ...}."""
        deadline = time.monotonic() + wait_s
        while True:
            status, body, _ = self.request('POST', '/v1/persons/%s/card-code' % person_id,
                                           options)
            if status != 404 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 201, ('card code for %s: %d %s' % (person_id, status, _short(body)))
        return body

    def make_token(self, role, **binding):
        """A new token for a role via POST /v1/tokens, e.g.
        make_token('school', school_id='S1'). Returns the token string."""
        body = dict(binding)
        body['role'] = role
        status, parsed, _ = self.request('POST', '/v1/tokens', body)
        assert status == 201, ('POST /v1/tokens %s: %d %s'
                               % (json.dumps(body), status, _short(parsed)))
        assert isinstance(parsed, dict) and parsed.get('token'), parsed
        return parsed['token']

    def make_school(self, school_id=None):
        """A school the community knows, for a school token: a household
        (in a building of its own) with one pupil of school_id (a fresh id
        when None). A school token is made only for a school that a
        current pupil names (POST /v1/tokens answers 422 otherwise).
        Returns the school id."""
        self._schools_made += 1
        tag = '%x%d' % (os.getpid(), self._schools_made)
        school_id = school_id or 'S-' + tag
        number = 'sch-' + tag
        self.call('POST', '/v1/buildings', {'number': number, 'grid': 'G1'}, expect=201)
        self.call('POST', '/v1/households', {
            'building': number, 'room': '101',
            'members': [{'name': '童童', 'birth_year': 2015, 'tags': ['pupil'],
                         'school_id': school_id, 'pupil_no': 'P-' + tag}]}, expect=201)
        return school_id

    def make_merchant(self, name='Corner shop'):
        """A new merchant via POST /v1/merchants; returns its id (a
        merchant token must name a merchant that exists)."""
        return self.call('POST', '/v1/merchants',
                         {'name': name, 'kind': 'individual', 'category': 'grocery',
                          'services': ['delivery']}, expect=201)['id']

    # ------------------------------------------------------------------
    #  tashanctl

    def tashanctl(self, *args, check=False, timeout_s=120, data_dir=None,
                  input=None):
        """Run tashanctl --data-dir <this data dir> --listen <the gateway's
        address> ARGS. Returns the
        subprocess.CompletedProcess (text stdout/stderr). check: assert
        exit 0. A sanitizer report in its output is a problem."""
        argv = [os.path.join(self.bin_dir, 'tashanctl'),
                '--data-dir', data_dir or self.data_dir,
                '--listen', self.listen] + [str(a) for a in args]
        cp = subprocess.run(argv, input=input, capture_output=True, text=True,
                            timeout=timeout_s, env=self.env,
                            preexec_fn=_child_setup_here())
        if any(mark in cp.stderr for mark in SANITIZER_MARKS):
            self.problems.append('sanitizer report from tashanctl %s:\n%s'
                                 % (' '.join(map(str, args)),
                                    indent(cp.stderr[-4000:])))
        if check:
            assert cp.returncode == 0, ('tashanctl %s: %s\nstdout:\n%s\n'
                                        'stderr:\n%s'
                                        % (' '.join(map(str, args)),
                                           describe_returncode(cp.returncode),
                                           cp.stdout, cp.stderr))
        return cp


# ----------------------------------------------------------------------
#  Route coverage: every request is matched against docs/openapi.json and
#  (method, pattern, status) appended to $TASHAN_COVERAGE_DIR/<pid>.txt,
#  so tests/integration/check_coverage.py can prove that every documented
#  route is exercised by the suite.

_ROUTES = None


def zmq_call_lines(stdout):
    """tashan-zmq-call's output: a list of (code, message, reply) a
    request (reply parsed from JSON, None when empty)."""
    out = []
    for line in stdout.splitlines():
        code, message, reply = line.split('\t', 2)
        out.append((int(code), message, json.loads(reply) if reply else None))
    return out


def _load_routes():
    global _ROUTES
    if _ROUTES is not None:
        return _ROUTES
    _ROUTES = []
    src = os.environ.get('TASHAN_SOURCE_DIR',
                         os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    try:
        with open(os.path.join(src, 'docs', 'openapi.json')) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return _ROUTES
    for pattern, item in doc.get('paths', {}).items():
        regex = '^' + re.sub(r'\\{[^/]+?\\}', '[^/]+', re.escape(pattern)) + '$'
        for method in item:
            _ROUTES.append((method.upper(), pattern, re.compile(regex)))
    return _ROUTES


def _record_route(method, path, status):
    out_dir = os.environ.get('TASHAN_COVERAGE_DIR')
    if not out_dir:
        return
    bare = path.split('?', 1)[0]
    for m, pattern, regex in _load_routes():
        if m == method.upper() and regex.match(bare):
            os.makedirs(out_dir, exist_ok=True)
            with open(os.path.join(out_dir, '%d.txt' % os.getpid()), 'a') as f:
                f.write('%s %s %d\n' % (m, pattern, status))
            return


def _parse_body(resp, raw):
    text = raw.decode('utf-8', 'replace')
    ctype = resp.headers.get('Content-Type', '')
    if 'json' in ctype or text[:1] in ('{', '['):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _short(value, limit=600):
    text = value if isinstance(value, str) else json.dumps(value,
                                                           ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + '...'


def indent(text, prefix='    '):
    return '\n'.join(prefix + line for line in text.splitlines())


# ----------------------------------------------------------------------
#  The runner


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


def main(namespace, argv=None, **harness_kwargs):
    """Run the test_* functions of a test module against one Harness.
    Arguments on the command line select tests by name (substring).
    Prints one line per test and "N passed, N failed" last; exits 1 when
    anything failed (a test, the start, or the final stop)."""
    argv = sys.argv[1:] if argv is None else argv
    tests = [(name, fn) for name, fn in namespace.items()
             if name.startswith('test_') and callable(fn)]
    if argv:
        tests = [(n, f) for n, f in tests if any(a in n for a in argv)]
    module = os.path.basename(namespace.get('__file__', 'tests'))
    if not tests:
        print('%s: no test selected' % module)
        print('0 passed, 1 failed')
        sys.exit(1)
    timeout_s = int(os.environ.get('TASHAN_TEST_TIMEOUT', '120'))
    print('== %s: %d tests' % (module, len(tests)), flush=True)

    passed = failed = skipped = 0
    t0 = time.monotonic()
    try:
        h = Harness(**harness_kwargs)
    except Exception:
        print('FAIL starting the system:\n%s' % indent(traceback.format_exc()))
        print('0 passed, %d failed' % len(tests))
        sys.exit(1)
    print('   system up in %.1f s (data dir %s, gateway %s)'
          % (time.monotonic() - t0, h.data_dir, h.base_url), flush=True)

    signal.signal(signal.SIGALRM, _on_alarm)
    broken = None                       # why the remaining tests cannot run
    try:
        for name, fn in tests:
            if broken:
                failed += 1
                print('FAIL %s: not run: %s' % (name, broken))
                continue
            t = time.monotonic()
            error = None
            signal.alarm(timeout_s)
            try:
                fn(h)
            except Skip as e:
                error = 'skip'
                print('skip %s: %s' % (name, e))
                skipped += 1
            except _Timeout:
                error = 'timed out after %d s' % timeout_s
            except Exception:
                error = traceback.format_exc()
            finally:
                signal.alarm(0)
            try:
                problems = h.take_problems() + h.heal()
            except HarnessError as e:
                problems = h.take_problems() + [str(e)]
                broken = 'the system could not be brought back up'
            if error == 'skip' and not problems:
                continue
            if error == 'skip':
                skipped -= 1
                error = None
            if error is None and not problems:
                passed += 1
                print('ok   %s (%.2f s)' % (name, time.monotonic() - t))
            else:
                failed += 1
                print('FAIL %s (%.2f s)' % (name, time.monotonic() - t))
                if error:
                    print(indent(error.rstrip()))
                for p in problems:
                    print(indent('daemon problem: ' + p))
            sys.stdout.flush()
    except KeyboardInterrupt:
        print('interrupted')
        failed += 1
    finally:
        try:
            h.stop()
        except HarnessError as e:
            failed += 1
            print('FAIL stopping the system (a daemon ended badly):')
            print(indent(str(e)))
    line = '%d passed, %d failed' % (passed, failed)
    if skipped:
        line += ', %d skipped' % skipped
    print(line, flush=True)
    sys.exit(1 if failed else 0)

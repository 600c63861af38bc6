#!/usr/bin/env python3
"""test_disk_full - the whole system on a small tmpfs that fills up.

A full disk (ENOSPC, as opposed to a full LMDB map, which grows) must not
answer 500 nor lose an acknowledged write: writes answer 507 with a clear
message, reads keep working, /healthz says "degraded" (503) naming the
store and why, /metrics has tashan_store_degraded 1, no log line is cut
in half, and all of it recovers once space returns.

The tmpfs needs a mount namespace: the script runs itself again under
`unshare -m` (root) or `unshare -rm` (a user namespace). Where neither is
allowed it skips, saying why."""
import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import harness

TMPFS_SIZE = '24m'
NS_ENV = 'TASHAN_DISK_FULL_NS'
FILLER = 'filler'
WRITES_MAX = 4000           # writes until the store must have hit the wall


def unique(prefix):
    return '%s%d' % (prefix, time.monotonic_ns() % 10**12)


def fill(path):
    """Write zeros to path until the disk is full; returns the bytes."""
    chunk = b'\0' * 65536
    written = 0
    with open(path, 'wb', buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError as e:
                if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                break
    #  The last partial chunk: fill page by page.
    with open(path, 'ab', buffering=0) as f:
        for _ in range(16):
            try:
                written += f.write(b'\0' * 4096)
            except OSError:
                break
    return written


def health(h):
    status, body, _ = h.request('GET', '/healthz', token=None)
    return status, body


def metric(h, name):
    status, text, _ = h.request('GET', '/metrics', token=None)
    assert status == 200, status
    m = re.search(r'^%s (\S+)$' % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def wait_for(what, check, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError('waited %d s for %s' % (timeout_s, what))
        time.sleep(0.1)


def write_until_full(h):
    """Create buildings until one answers 507; returns (acknowledged ids,
    the 507 body)."""
    acked = []
    for _ in range(WRITES_MAX):
        status, body, _ = h.request('POST', '/v1/buildings',
                                    {'number': unique('F'), 'grid': 'G1'})
        if status == 507:
            return acked, body
        assert status == 201, (status, body)
        acked.append(body['id'])
    raise AssertionError('%d writes on a full disk and no 507' % WRITES_MAX)


def check_log_lines(h):
    """Every line of every log is whole: it starts with ts= and has its
    event (a line glued to a cut one would not)."""
    for svc in harness.SERVICES:
        for line in h.read_log(svc).splitlines():
            if not line:
                continue
            assert line.startswith('ts=') and ' event=' in line, \
                '%s: a cut log line: %r' % (svc, line[:200])


def test_disk_full(h):
    before = h.call('POST', '/v1/buildings',
                    {'number': unique('B'), 'grid': 'G1'}, expect=201)
    filler = os.path.join(os.path.dirname(h.data_dir), FILLER)
    filled = fill(filler)
    try:
        acked, full = write_until_full(h)
        print('   filled %d bytes; %d writes acknowledged before the 507'
              % (filled, len(acked)))
        assert full['error']['code'] == 'insufficient_storage', full
        assert 'disk is full' in full['error']['message'], full
        #  Reads keep working, and every acknowledged write is there.
        for bid in [before['id']] + acked[-5:]:
            h.call('GET', '/v1/buildings/' + bid, expect=200)
        status, body = health(h)
        assert status == 503 and body['status'] == 'degraded', (status, body)
        res = [s for s in body['services'] if s['name'] == 'residents'][0]
        assert res['up'] and 'space' in res['degraded'], res
        wait_for('tashan_store_degraded 1', lambda: metric(
            h, 'tashan_store_degraded{service="residents"}') == 1)
        #  Still full: still 507, nothing half-applied.
        status, body, _ = h.request('POST', '/v1/buildings',
                                    {'number': unique('F'), 'grid': 'G1'})
        assert status == 507, (status, body)
    finally:
        os.unlink(filler)
    #  Space is back: the next write commits and clears the state. A
    #  daemon whose own write also found the disk full (the ledger applying
    #  the first building's event, when it came during the full window:
    #  seen under the sanitizers) clears when it retries, 300 ms later.
    again = h.call('POST', '/v1/buildings',
                   {'number': unique('B'), 'grid': 'G1'}, expect=201)
    h.call('GET', '/v1/buildings/' + again['id'])
    last = []

    def healthy():
        last[:] = health(h)
        return last[0] == 200 and last[1]['status'] == 'ok'
    try:
        wait_for('/healthz ok', healthy, timeout_s=5)
    except AssertionError:
        raise AssertionError(('not ok 5 s after space was back',) + tuple(last))
    wait_for('tashan_store_degraded 0', lambda: metric(
        h, 'tashan_store_degraded{service="residents"}') == 0)
    check_log_lines(h)
    for bid in acked:
        h.call('GET', '/v1/buildings/' + bid)


def skip(why):
    print('== test_disk_full.py: 1 test')
    print('skip test_disk_full: %s' % why)
    print('0 passed, 0 failed')
    sys.exit(0)


def in_namespace():
    """Mount a small tmpfs over a fresh dir and run the test there."""
    mount = os.environ[NS_ENV]
    rc = subprocess.call(['mount', '-t', 'tmpfs', '-o', 'size=' + TMPFS_SIZE,
                          'tashan-full', mount])
    if rc != 0:
        skip('cannot mount a tmpfs here (mount exited %d)' % rc)
    os.environ['TMPDIR'] = mount
    tempfile.tempdir = None
    harness.main(globals())


def outside():
    if not shutil.which('unshare') or not shutil.which('mount'):
        skip('unshare or mount is not installed')
    mount = tempfile.mkdtemp(prefix='tsfull-', dir='/tmp')
    env = dict(os.environ, **{NS_ENV: mount})
    try:
        for flags in (['-m'], ['-rm']) if os.geteuid() == 0 else (['-rm'],):
            probe = subprocess.run(['unshare'] + flags + ['true'],
                                   capture_output=True)
            if probe.returncode == 0:
                break
        else:
            skip('no mount namespace allowed (unshare: %s)'
                 % probe.stderr.decode(errors='replace').strip())
        sys.exit(subprocess.call(['unshare'] + flags + ['--propagation',
                                  'private', sys.executable] + sys.argv,
                                 env=env))
    finally:
        os.rmdir(mount)


if __name__ == '__main__':
    if os.environ.get(NS_ENV):
        in_namespace()
    else:
        outside()

"""test_demo_up - deploy/up.sh creates the demo only on a first start, and
decides that by asking the stores (tashanctl demo --check), not by a
marker file: a data dir restored from a backup (which holds real data and
no marker) is never seeded; a fresh one is.

Runs the real deploy/up.sh (no install, no build: TASHAN_BIN_DIR) on temp
data dirs and free ports. The system of the harness is the office whose
backup is restored.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_demo_up.py
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_deploy_up import UP_SH, up_env  # noqa: E402

UP_DEADLINE_S = 60.0                # up.sh waits up to 30 s for /healthz itself
STOP_DEADLINE_S = 30.0


class Up:
    """One up.sh (with the demo on) on data_dir."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.port = harness.free_port()
        self.out_path = data_dir + '.up.out'
        with open(self.out_path, 'wb') as out:
            self.proc = subprocess.Popen(
                ['bash', UP_SH, '--data-dir', data_dir, '--listen',
                 '127.0.0.1:%d' % self.port],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=up_env(), start_new_session=True,
                preexec_fn=harness.die_with_parent(signal.SIGTERM))

    def output(self):
        with open(self.out_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_for(self, text):
        end = time.monotonic() + UP_DEADLINE_S
        while time.monotonic() < end:
            if text in self.output():
                return
            assert self.proc.poll() is None, 'up.sh ended:\n' + self.output()
            time.sleep(0.2)
        raise AssertionError('no %r from up.sh:\n%s' % (text, self.output()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def households(port, data_dir):
    """How many households the system on port lists (as ops)."""
    with open(os.path.join(data_dir, 'gateway', 'ops.token')) as f:
        token = f.read().strip()
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    try:
        conn.request('GET', '/v1/households?page_size=1000',
                     headers={'Authorization': 'Bearer ' + token})
        resp = conn.getresponse()
        status, body = resp.status, json.loads(resp.read())
    finally:
        conn.close()
    assert status == 200, (status, body)
    return len(body['households'])


def test_restored_data_is_not_seeded(h):
    h.call('POST', '/v1/buildings', {'number': '12', 'grid': 'G3'})
    h.call('POST', '/v1/households', {'building': '12', 'room': '301',
                                      'members': [{'name': '王芳', 'birth_year': 1978}]})
    root = harness.short_tmpdir('tashan-demo-up-')
    try:
        backup = os.path.join(root, 'backup')
        os.makedirs(backup)
        h.tashanctl('backup', backup, check=True)
        restored = os.path.join(root, 'var')
        os.makedirs(restored)
        h.tashanctl('restore', backup, data_dir=restored, check=True)
        up = Up(restored)
        try:
            up.wait_for('event=demo_skipped')
            up.wait_for('tashan is running')
            out = up.output()
            assert 'event=demo_start' not in out, out
            assert 'holds data' in out, out
            assert households(up.port, restored) == 1
        finally:
            up.stop()
        assert not os.path.exists(os.path.join(restored, '.demo-created'))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_fresh_data_dir_is_seeded(h):
    root = harness.short_tmpdir('tashan-demo-up-')
    try:
        fresh = os.path.join(root, 'var')
        up = Up(fresh)
        try:
            up.wait_for('event=demo_start')
            with open(os.path.join(fresh, 'logs', 'demo.log')) as f:
                assert 'every store is empty' in f.read()
        finally:
            up.stop()               # the demo is stopped with it
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    harness.main(globals())

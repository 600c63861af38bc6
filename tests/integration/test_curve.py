"""test_curve - daemons with CURVE keys: a client with the keys reaches
them, one without cannot (ZeroMQ drops its handshake), and the whole system
(gateway included) works encrypted.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_curve.py
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BIN = os.environ.get('TASHAN_BIN_DIR', harness.DEFAULT_BIN_DIR)
CONF_DIR = tempfile.mkdtemp(prefix='tashan-curve-')
atexit.register(shutil.rmtree, CONF_DIR, True)
CONF = os.path.join(CONF_DIR, 'tashan.conf')
keys = subprocess.run([os.path.join(BIN, 'tashanctl'), 'keygen'], capture_output=True,
                      text=True, check=True).stdout
with open(CONF, 'w') as f:
    f.write(keys)
os.chmod(CONF, 0o600)


def ctl(h, *args, config=True):
    argv = [os.path.join(BIN, 'tashanctl'), '--data-dir', h.data_dir, '--listen', h.listen]
    if config:
        argv += ['--config', CONF]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=60)


def test_keygen_prints_three_keys(h):
    lines = [l for l in keys.splitlines() if not l.startswith('#')]
    assert [l.split(' = ')[0] for l in lines] == ['curve.public_key', 'curve.secret_key',
                                                   'curve.server_key'], lines
    assert all(len(l.split(' = ')[1]) == 40 for l in lines)


def test_system_works_encrypted(h):
    status, body, _ = h.request('GET', '/healthz', token=None)
    assert status == 200 and body['status'] == 'ok', body
    h.call('POST', '/v1/buildings', {'number': 'curve1', 'grid': 'G1'}, expect=201)
    hh = h.call('POST', '/v1/households', {'building': 'curve1', 'room': '101',
                                           'members': [{'name': 'Li Hua', 'birth_year': 1970}]},
                expect=201)
    person = hh['members'][0]['id']
    # The ledger learns of the person through residents' events, over CURVE.
    deadline = time.time() + 10
    while True:
        status, body, _ = h.request('GET', '/v1/credit/persons/' + person)
        if status == 200 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert status == 200 and body['index'] == 1000, (status, body)


def test_client_with_keys_reaches_daemons(h):
    cp = ctl(h, 'status')
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_client_without_keys_is_refused(h):
    cp = ctl(h, 'status', config=False)
    assert cp.returncode == 1, cp.stdout
    assert cp.stdout.count(' no') == 5, cp.stdout


if __name__ == '__main__':
    harness.main(globals(), extra_args={'*': ['--config', CONF]})

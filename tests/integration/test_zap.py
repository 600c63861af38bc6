"""test_zap - the daemons on tcp loopback with CURVE and a keys file: the
role of a ZeroMQ request comes from the authenticated client key, not
from the request.

- the gateway has its own client key (role gateway) and the whole system
  works through it; the daemons reach each other with the daemons' key;
- a fresh key not in the keys file gets no answer (ZAP refuses it);
- an integrator key bound to school S1 pushes medals for S1 (its Caller
  filled from the key when absent), and nothing else: a Caller claiming
  S2, ops or system is refused with 403 and says why;
- the gateway's key may not claim system (event fetches, backups);
- tashanctl keys revoke: the revoked key's open connection is refused on
  its next request, without a restart;
- sys.Backup outside backup.root is refused;
- a malformed frame is answered (400), not dropped;
- a daemon refuses to start on a non-loopback tcp endpoint without CURVE.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_zap.py
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BIN = os.environ.get('TASHAN_BIN_DIR', harness.DEFAULT_BIN_DIR)
CTL = os.path.join(BIN, 'tashanctl')
CALL = os.path.join(BIN, 'tashan-zmq-call')
CONF_DIR = tempfile.mkdtemp(prefix='tashan-zap-')
atexit.register(shutil.rmtree, CONF_DIR, True)
KEYS = os.path.join(CONF_DIR, 'keys', 'clients')
ENDPOINTS = {svc: 'tcp://127.0.0.1:%d' % harness.free_port() for svc in harness.SERVICES
             if svc != 'gateway'}


def write_conf(name, text):
    path = os.path.join(CONF_DIR, name)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kwargs)


#  The daemons' pair, their endpoints and the keys file.
DAEMON_KEYS = run([CTL, 'keygen']).stdout
DAEMON_CONF = write_conf('daemons.conf', DAEMON_KEYS + 'curve.clients_file = %s\n' % KEYS + ''.join(
    'endpoint.%s = %s\n' % (svc, ep) for svc, ep in ENDPOINTS.items()))
SERVER_KEY = [l.split(' = ')[1] for l in DAEMON_KEYS.splitlines()
              if l.startswith('curve.server_key')][0]


def client_conf(name, role, binding=None):
    """A client key made with tashanctl keygen --client (added to the keys
    file); returns the path of its config (keys + endpoints)."""
    argv = [CTL, '--config', DAEMON_CONF, 'keygen', '--client', name, '--role', role]
    if binding:
        argv += ['--binding', binding]
    cp = run(argv)
    assert cp.returncode == 0, cp.stderr
    lines = [l for l in cp.stdout.splitlines() if l.startswith('curve.')]
    assert [l.split(' = ')[0] for l in lines] == ['curve.public_key', 'curve.secret_key',
                                                  'curve.server_key'], cp.stdout
    assert lines[2].split(' = ')[1] == SERVER_KEY
    return write_conf(name + '.conf', '\n'.join(lines) + '\n' + ''.join(
        'endpoint.%s = %s\n' % (svc, ep) for svc, ep in ENDPOINTS.items()))


GATEWAY_CONF = client_conf('gateway', 'gateway')


def zmq_call(conf, service, script):
    """Run tashan-zmq-call with conf on one connection; returns a list of
    (code, message, reply) a request."""
    cp = run([CALL, '--config', conf, service], input=script)
    assert cp.returncode == 0, cp.stderr
    return harness.zmq_call_lines(cp.stdout)


def test_keys_file_lists_the_clients(h):
    cp = run([CTL, '--config', DAEMON_CONF, 'keys', 'list'])
    assert cp.returncode == 0, cp.stderr
    assert 'gateway' in cp.stdout and 'gateway ' in cp.stdout, cp.stdout
    with open(KEYS) as f:
        assert len([l for l in f if l.strip() and not l.startswith('#')]) >= 1
    assert os.stat(KEYS).st_mode & 0o077 == 0


def test_system_works_through_the_gateway_key(h):
    """The gateway speaks with its own key; the daemons' events reach the
    ledger with theirs (see _school_pupils)."""
    status, body, _ = h.request('GET', '/healthz', token=None)
    assert status == 200 and body['status'] == 'ok', body
    h.call('POST', '/v1/buildings', {'number': 'zap1', 'grid': 'G1'}, expect=201)
    assert 'client_refused' not in h.read_log('residents')


def test_unknown_key_is_refused(h):
    stranger = run([CTL, 'keygen']).stdout.replace('curve.server_key', '# was')
    conf = write_conf('stranger.conf', stranger + 'curve.server_key = %s\n' % SERVER_KEY
                      + ''.join('endpoint.%s = %s\n' % (s, e) for s, e in ENDPOINTS.items()))
    replies = zmq_call(conf, 'residents', 'call sys.Health system - {}\n')
    assert replies == [(0, 'no reply', None)], replies
    assert 'client_refused' in h.read_log('residents')


def _school_pupils(h):
    """Two pupils: one of school S1, one of S2 (through the gateway)."""
    stamp = str(os.getpid())
    hh = h.call('POST', '/v1/buildings', {'number': 'zap-s' + stamp, 'grid': 'G1'}, expect=201)
    hh = h.call('POST', '/v1/households', {'building': 'zap-s' + stamp, 'room': '1', 'members': [
        {'name': '林小雨', 'birth_year': 2015, 'school_id': 'S1', 'pupil_no': 'P1-' + stamp,
         'tags': ['pupil']},
        {'name': '高小山', 'birth_year': 2015, 'school_id': 'S2', 'pupil_no': 'P2-' + stamp,
         'tags': ['pupil']}]}, expect=201)
    for m in hh['members']:
        deadline = time.time() + 15
        while h.request('GET', '/v1/credit/persons/' + m['id'])[0] != 200:
            assert time.time() < deadline
            time.sleep(0.05)
    return 'P1-' + stamp, 'P2-' + stamp


def _month():
    return time.strftime('%Y-%m', time.gmtime(time.time() + 8 * 3600))


def test_school_key_pushes_medals_for_its_school_only(h):
    p1, p2 = _school_pupils(h)
    conf = client_conf('school-s1', 'school', 'S1')
    medal = {'events': [{'event_id': 'zap-e1', 'pupil_no': p1, 'month': _month(),
                         'medal': '阅读之星'},
                        {'event_id': 'zap-e2', 'pupil_no': p2, 'month': _month(),
                         'medal': '阅读之星'}]}
    body = json.dumps(medal, ensure_ascii=False)
    replies = zmq_call(conf, 'ledger', '\n'.join([
        'call ledger.SubmitMedals school S1 ' + body,       # as bound: served
        'call ledger.SubmitMedals school S2 ' + body,       # another school: 403
        'call ledger.SubmitMedals ops - ' + body,           # more than a school: 403
        'call sys.Fetch system - {"max_events": 1}',        # the event stream: 403
        'call ledger.SubmitMedals - - ' + body,             # no Caller: the key's
    ]) + '\n')
    (c1, _, r1), (c2, m2, _), (c3, m3, _), (c4, m4, _), (c5, _, r5) = replies
    assert c1 == 200 and r1['accepted'] == 1, replies[0]
    assert [r['event_id'] for r in r1['rejected']] == ['zap-e2'], r1   # S2's pupil
    assert c2 == 403 and "bound to school S1" in m2, replies[1]
    assert c3 == 403 and "may not claim role 'ops'" in m3, replies[2]
    assert c4 == 403, replies[3]
    assert c5 == 200 and r5['duplicates'] == 1, replies[4]
    credit = h.call('GET', '/v1/school/pupils/%s/credit' % p1,
                    token=h.make_token('school', school_id='S1'))
    assert credit['month_points'] == 5, credit
    # The gateway checks a binding as the ops token that makes it (its key
    # may not claim system): a school and a merchant under CURVE.
    status, body, _ = h.request('POST', '/v1/tokens', {'role': 'school', 'school_id': 'S9'})
    assert status == 422 and 'no school S9' in body['error']['message'], (status, body)
    h.make_token('merchant', merchant_id=h.make_merchant())


def test_gateway_key_may_not_claim_system(h):
    replies = zmq_call(GATEWAY_CONF, 'residents', '\n'.join([
        'call sys.Fetch system - {"max_events": 1}',
        'call sys.Backup system - {"dir": "/tmp/zap"}',
        'call sys.Health public - {}',
    ]) + '\n')
    assert [r[0] for r in replies] == [403, 403, 200], replies


def test_revocation_takes_effect_without_restart(h):
    conf = client_conf('school-s2', 'school', 'S2')
    pid = h.pid('ledger')
    replies = zmq_call(conf, 'ledger', '\n'.join([
        'call sys.Health school S2 {}',
        'sleep 200',
    ]) + '\n')
    assert replies[0][0] == 200, replies
    #  One connection: served, revoked meanwhile, refused on the next request.
    script = ('call ledger.PupilCredit school S2 {"pupil_no": "nobody"}\n'
              'sleep 2500\n'
              'call ledger.PupilCredit school S2 {"pupil_no": "nobody"}\n')
    proc = subprocess.Popen([CALL, '--config', conf, 'ledger'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    proc.stdin.write(script)
    proc.stdin.flush()
    first = proc.stdout.readline()
    cp = run([CTL, '--config', DAEMON_CONF, 'keys', 'revoke', 'school-s2'])
    assert cp.returncode == 0, cp.stderr
    out, _ = proc.communicate(timeout=30)
    assert first.split('\t')[0] in ('403', '404'), first       # served (not its pupil)
    code, message = out.splitlines()[0].split('\t')[:2]
    assert code == '401' and 'no longer' in message, out
    assert h.pid('ledger') == pid                               # no restart
    #  A new connection is refused at the handshake.
    replies = zmq_call(conf, 'ledger', 'call sys.Health school S2 {}\n')
    assert replies[0][0] == 0, replies
    listed = run([CTL, '--config', DAEMON_CONF, 'keys', 'list']).stdout
    assert 'school-s2' not in listed, listed


def test_backup_only_under_the_root(h):
    conf = client_conf('ctl', 'ops')
    inside = os.path.join(h.data_dir, 'backups', 'zap')
    replies = zmq_call(conf, 'volunteers', '\n'.join([
        'call sys.Backup system - {"dir": "/tmp/tashan-zap-outside"}',
        'call sys.Backup system - {"dir": "%s/../x"}' % inside,
        'call sys.Backup system - {"dir": "%s"}' % inside,
    ]) + '\n')
    assert replies[0][0] == 403 and 'outside backup.root' in replies[0][1], replies
    assert replies[1][0] == 400, replies
    assert replies[2][0] == 200, replies
    assert not os.path.exists('/tmp/tashan-zap-outside')
    assert os.path.getsize(os.path.join(inside, 'volunteers', 'data.mdb')) > 0


def test_malformed_frame_is_answered(h):
    replies = zmq_call(GATEWAY_CONF, 'merchants', 'raw ffffffff6a756e6b\n')
    assert replies[0][0] == 400 and 'tashan.Request' in replies[0][1], replies


def test_non_loopback_tcp_without_curve_refuses_to_start(h):
    data_dir = tempfile.mkdtemp(prefix='tashan-zap-open-')
    try:
        cp = run([os.path.join(BIN, 'tashan-residents'), '--data-dir', data_dir,
                  '--endpoint', 'residents=tcp://0.0.0.0:%d' % harness.free_port()])
        assert cp.returncode == 1, (cp.returncode, cp.stdout, cp.stderr)
        assert 'not on a loopback address and CURVE is off' in cp.stdout + cp.stderr
    finally:
        shutil.rmtree(data_dir, True)


if __name__ == '__main__':
    harness.main(globals(), extra_args={'*': ['--config', DAEMON_CONF],
                                        'gateway': ['--config', GATEWAY_CONF]})

"""test_wire_batch - requests batched on the wire between the gateway and
the daemons (sys.Batch, proto/common.proto; issue 16).

Runs the real daemons and gateway (harness.py). Many concurrent HTTP
requests (writes, reads, invalid ones) each get their own answer and each
write applies exactly once, while the gateway sends them to the ledger in
batches (the ledger's batch_messages_total grows). Over ZeroMQ
(tashan-zmq-call, one DEALER): a batch mixing a write, a read, an invalid
request and one past its deadline answers each entry on its own and
applies only the write; a malformed batch gets one error and changes
nothing; single requests work as before."""

import http.client
import json
import os
import subprocess
import threading
import time

import harness

BIN = os.environ.get('TASHAN_BIN_DIR', harness.DEFAULT_BIN_DIR)
CALL = os.path.join(BIN, 'tashan-zmq-call')
RULE = 'wire.plus'
EVENT_WAIT_S = 15
THREADS = 16
REQUESTS_PER_THREAD = 45
_seq = [0]


def unique(prefix):
    _seq[0] += 1
    return '%s%d-%d' % (prefix, os.getpid() % 10000, _seq[0])


def persons(h, count):
    """count new persons the ledger knows, with the uncapped rule RULE."""
    h.call('PUT', '/v1/credit/rules/' + RULE,
           {'points': 1, 'monthly_cap_points': 0, 'roles': ['panel', 'ops'],
            'description': 'test_wire_batch'}, expect=200)
    number = unique('W')
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G1'}, expect=201)
    members = [{'name': '成员%d' % i, 'birth_year': 1970 + i} for i in range(count)]
    hh = h.call('POST', '/v1/households',
                {'building': number, 'room': '101', 'members': members}, expect=201)
    ids = [m['id'] for m in hh['members']]
    deadline = time.monotonic() + EVENT_WAIT_S
    for pid in ids:
        while h.request('GET', '/v1/credit/persons/' + pid)[0] != 200:
            assert time.monotonic() < deadline, 'ledger never heard of ' + pid
            time.sleep(0.05)
    return ids


def index_of(h, pid):
    return h.call('GET', '/v1/credit/persons/' + pid)['index']


def zmq_call(h, service, script):
    """Run tashan-zmq-call on the harness's daemons (one connection);
    returns a list of (code, message, reply) a request."""
    cp = subprocess.run([CALL, '--data-dir', h.data_dir, service], input=script,
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    return harness.zmq_call_lines(cp.stdout)


def batch_messages(h):
    replies = zmq_call(h, 'ledger', 'call sys.Health system - {}\n')
    assert replies[0][0] == 200, replies
    return int(replies[0][2].get('batch_messages_total', 0))


# ----------------------------------------------------------------------
#  Through the gateway

def _client(h, ids, tid, results, barrier):
    """One connection's requests: a write, a read and an invalid write in
    turn, each checked against what it asked."""
    conn = http.client.HTTPConnection('127.0.0.1', h.port, timeout=30)
    auth = {'Authorization': 'Bearer ' + h.ops_token, 'Content-Type': 'application/json'}
    barrier.wait()
    for n in range(REQUESTS_PER_THREAD):
        pid = ids[(tid + n) % len(ids)]
        note = 't%d-%d' % (tid, n)
        kind = n % 3
        if kind == 0:
            body = {'person_id': pid, 'rule': RULE, 'note': note,
                    'idempotency_key': unique('wk%d-' % tid)}
            conn.request('POST', '/v1/credit/evaluations', json.dumps(body), auth)
        elif kind == 1:
            conn.request('GET', '/v1/credit/persons/' + pid, headers=auth)
        else:
            body = {'person_id': pid, 'note': note, 'idempotency_key': unique('wx')}
            conn.request('POST', '/v1/credit/evaluations', json.dumps(body), auth)
        r = conn.getresponse()
        reply = json.loads(r.read() or b'null')
        results.append((kind, pid, note, r.status, reply))
    conn.close()


def test_concurrent_requests_each_get_their_own_answer(h):
    ids = persons(h, 8)
    before = {pid: index_of(h, pid) for pid in ids}
    batches_before = batch_messages(h)
    results = []
    barrier = threading.Barrier(THREADS)
    threads = [threading.Thread(target=_client, args=(h, ids, t, results, barrier))
               for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == THREADS * REQUESTS_PER_THREAD, len(results)
    written = {pid: 0 for pid in ids}
    for kind, pid, note, status, reply in results:
        if kind == 0:
            assert status == 201, (status, reply)
            assert reply['person_id'] == pid and reply['note'] == note, (pid, note, reply)
            assert reply['rule'] == RULE and reply['points'] == 1, reply
            written[pid] += 1
        elif kind == 1:
            assert status == 200 and reply['person_id'] == pid, (pid, status, reply)
        else:
            assert status == 400, (status, reply)
            assert 'rule' in reply['error']['message'], reply
    #  Every write applied exactly once.
    for pid in ids:
        assert index_of(h, pid) == before[pid] + written[pid], pid
    #  And the gateway sent them batched.
    assert batch_messages(h) > batches_before


# ----------------------------------------------------------------------
#  Over ZeroMQ

def evaluate_line(pid, key, rule=RULE, note='batched'):
    body = {'person_id': pid, 'idempotency_key': key, 'note': note}
    if rule:
        body['rule'] = rule
    return 'call ledger.Evaluate ops - %s' % json.dumps(body)


def test_batch_mixing_write_read_invalid_and_expired(h):
    pid = persons(h, 1)[0]
    start = index_of(h, pid)
    key, late_key = unique('bk'), unique('late')
    batches_before = batch_messages(h)
    replies = zmq_call(h, 'ledger', '\n'.join([
        'batch 4',
        evaluate_line(pid, key),
        'call ledger.GetPerson ops - {"id": "%s"}' % pid,
        evaluate_line(pid, unique('bad'), rule=None),
        'deadline -1000',
        evaluate_line(pid, late_key),
        'deadline 0',
        #  The old path: one request a message.
        evaluate_line(pid, key),
        evaluate_line(pid, late_key),
    ]) + '\n')
    assert len(replies) == 6, replies
    write, read, invalid, expired, again, late_again = replies
    assert write[0] == 201 and write[2]['person_id'] == pid, write
    #  In the same group commit as the write, after it: sees it applied.
    assert read[0] == 200 and read[2]['index'] == start + 1, read
    assert invalid[0] == 400 and 'rule' in invalid[1], invalid
    assert expired[0] == 504 and 'nothing was changed' in expired[1], expired
    #  The write's repeat alone: the stored reply; the expired one was
    #  never applied, so alone and in time it is new.
    assert again[0] == 200 and again[2] == write[2], (again, write)
    assert late_again[0] == 201, late_again
    assert index_of(h, pid) == start + 2
    assert batch_messages(h) == batches_before + 1


def _field(number, value):
    """A protobuf length-delimited field (value bytes, short)."""
    assert len(value) < 128
    return bytes([number << 3 | 2, len(value)]) + value


def _request(corr_id, method, body=b'', role=b'ops'):
    """A packed tashan.Request (corr_id < 128)."""
    return (bytes([0x08, corr_id]) + _field(2, method.encode())
            + _field(3, _field(1, role)) + _field(4, body))


def test_malformed_batch_gets_one_error_and_changes_nothing(h):
    pid = persons(h, 1)[0]
    start = index_of(h, pid)
    key = unique('mk')
    write = _request(2, 'ledger.Evaluate', _field(1, pid.encode()) + _field(2, RULE.encode())
                     + _field(4, key.encode()))
    nested = _request(3, 'sys.Batch', _field(1, _request(4, 'sys.Health')))
    cases = [
        (b'\x0a\xff\x01', 'not a packed tashan.RequestBatch'),
        (b'', 'holds no request'),
        (_field(1, write) + _field(1, nested), 'may not be a batch'),
    ]
    for body, why in cases:
        replies = zmq_call(h, 'ledger', 'raw %s\n' % _request(9, 'sys.Batch', body).hex())
        assert len(replies) == 1, replies
        assert replies[0][0] == 400 and why in replies[0][1], (why, replies)
    assert index_of(h, pid) == start
    #  The same write in a well-formed batch of one: applied.
    replies = zmq_call(h, 'ledger', 'raw %s\n' % _request(9, 'sys.Batch', _field(1, write)).hex())
    assert replies[0][0] == 201, replies
    assert index_of(h, pid) == start + 1


if __name__ == '__main__':
    harness.main(globals())

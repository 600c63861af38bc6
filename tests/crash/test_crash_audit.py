#!/usr/bin/env python3
"""test_crash_audit - the read audit stays complete under concurrency and
SIGKILL.

Eight connections read household files (GET /v1/households/{id}) of 20
households as fast as they can, while the residents daemon is SIGKILLed at
random moments and restarted. Reads are journalled before their reply and
folded into the store in batches (services/residents/residents_audit.c):
at the end every household's audit holds at least one 'read' row for each
read answered 200, and no more than were sent (a read killed after its
journal append, before its reply, may be recorded without an answer).
Every row has a distinct seq.

usage: TASHAN_BIN_DIR=build test_crash_audit.py [READS]
"""
import collections
import http.client
import json
import os
import random
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'integration'))
import crashlib  # noqa: E402

READS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get('CRASH_READS', '3000'))
# On a loaded machine the kills may leave fewer reads answered before the
# deadline: the checks hold for whatever ran, as long as enough did.
READS_MIN = 300
KILLS_MIN = 3
WORKERS = 8
HOUSEHOLDS = 20
rng = random.Random(int(os.environ.get('CRASH_SEED', '16')))
check = crashlib.check


def reader(port, token, households, quota, answered, sent, lock, stop):
    """Read files until told to stop (quota counts the reads answered)."""
    conn, mine = None, random.Random(rng.random())
    while not stop.is_set():
        hid = mine.choice(households)
        with lock:
            sent[hid] += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
            conn.request('GET', '/v1/households/' + hid, None,
                         {'Authorization': 'Bearer ' + token})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                with lock:
                    answered[hid] += 1
                    quota[0] -= 1
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()


def audit_rows(h, hid):
    rows, token = [], ''
    for _ in range(10000):
        body = h.call('GET', '/v1/households/%s/audit?page_size=1000&page_token=%s'
                      % (hid, token))
        rows += body['entries']
        token = body['next_page_token']
        if not token:
            return rows
    raise AssertionError('audit of %s does not end' % hid)


def scenario(h):
    h.call('POST', '/v1/buildings', {'number': 'CA1', 'grid': 'G1'}, expect=201)
    households = []
    for i in range(HOUSEHOLDS):
        hh = h.call('POST', '/v1/households', {
            'building': 'CA1', 'room': str(100 + i),
            'members': [{'name': 'Res %d' % i, 'birth_year': 1960}]}, expect=201)
        households.append(hh['id'])
    answered, sent = collections.Counter(), collections.Counter()
    lock, stop, quota = threading.Lock(), threading.Event(), [READS]
    threads = [threading.Thread(target=reader, daemon=True,
                                args=(h.port, h.ops_token, households, quota,
                                      answered, sent, lock, stop))
               for _ in range(WORKERS)]
    # Reads are quick (they wait on no disk sync): they go on until the
    # quota is answered and the daemon was killed three times under them.
    kills = crashlib.kill_while_working(
        h, threads, stop, ['residents'], rng, pause_s=(0.1, 0.5), deadline_s=180,
        until=lambda k: quota[0] <= 0 and k['residents'] >= KILLS_MIN)
    check('residents killed', kills['residents'] >= KILLS_MIN, str(kills))
    total = sum(answered.values())
    check('reads answered', total >= READS_MIN, '%d (quota %d)' % (total, READS))
    short, over, seqs = [], [], []
    for hid in households:
        rows = [r for r in audit_rows(h, hid) if r['action'] == 'read']
        seqs += [r['seq'] for r in rows]
        if len(rows) < answered[hid]:
            short.append((hid, len(rows), answered[hid]))
        if len(rows) > sent[hid]:
            over.append((hid, len(rows), sent[hid]))
    check('every answered read audited', not short, str(short[:5]))
    check('no more rows than reads sent', not over, str(over[:5]))
    check('seqs distinct', len(seqs) == len(set(seqs)), '%d rows' % len(seqs))


if __name__ == '__main__':
    sys.exit(crashlib.run(scenario))

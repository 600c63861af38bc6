#!/usr/bin/env python3
"""test_crash_volunteers - the volunteers' closed loop exactly once across
the real daemons under SIGKILL.

Office workers (8 connections) take service orders made from residents'
needs through their whole loop: create (idempotent) -> accept -> done ->
confirm, each step retried until acknowledged. Each confirmation makes the
volunteers daemon emit, in the same transaction, one credit.requested (the
ledger's `volunteer.hour`) and one need.served (residents marks the need
served). Meanwhile the ledger and residents daemons are SIGKILLed at random
moments and restarted (and, less often, the volunteers daemon itself: the
office's retries then meet an order that already moved). At the end every confirmed order has exactly one
`volunteer.hour` entry and every need is served, its file showing one
"need.served" change: none lost, none twice.

usage: TASHAN_BIN_DIR=build test_crash_volunteers.py [ORDERS]
"""
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'integration'))
import crashlib  # noqa: E402
import harness  # noqa: E402

ORDERS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get('CRASH_ORDERS', '1500'))
WORKERS = 8
VOLUNTEERS = 20
HOUSEHOLDS = 30
rng = random.Random(int(os.environ.get('CRASH_SEED', '17')))
check = crashlib.check


class Client:
    """One keep-alive connection that retries a call until it is answered."""

    def __init__(self, port, token, stop):
        self.port, self.token, self.stop, self.conn = port, token, stop, None

    def call(self, method, path, body=None):
        data = json.dumps(body) if body is not None else None
        while not self.stop.is_set():
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
                self.conn.request(method, path, data,
                                  {'Authorization': 'Bearer ' + self.token,
                                   'Content-Type': 'application/json'})
                resp = self.conn.getresponse()
                parsed = json.loads(resp.read() or b'null')
                if resp.status != 503:
                    return resp.status, parsed
            except (OSError, http.client.HTTPException, ValueError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
            time.sleep(0.02)
        return None, None

    def close(self):
        if self.conn is not None:
            self.conn.close()


def step(client, oid, action, body, want_state):
    """One transition, retried; a 409 is fine when the order already moved
    there (an answer lost on the way)."""
    status, parsed = client.call('POST', '/v1/service-orders/%s/%s' % (oid, action), body)
    if status == 200:
        return True
    if status == 409:
        status, parsed = client.call('GET', '/v1/service-orders/' + oid)
        return status == 200 and parsed['state'] in want_state
    return False


def worker(port, token, jobs, confirmed, errors, stop):
    client = Client(port, token, stop)
    for key, requester, need_id in jobs:
        status, o = client.call('POST', '/v1/service-orders', {
            'requester_person_id': requester, 'category': 'repair', 'detail': 'tap leaks',
            'need_id': need_id, 'idempotency_key': key})
        if status not in (200, 201) or o['state'] != 'dispatched':
            errors.append((key, status, o))
            continue
        oid, vol = o['id'], o['volunteer_person_id']
        if not (step(client, oid, 'accept', {'volunteer_person_id': vol},
                     ('accepted', 'done', 'confirmed'))
                and step(client, oid, 'done', {'minutes': rng.randint(1, 300)},
                         ('done', 'confirmed'))
                and step(client, oid, 'confirm', {'rating': 5}, ('confirmed',))):
            errors.append((key, 'step failed', oid))
            continue
        confirmed.append((oid, vol, need_id))
    client.close()


def scenario(h):
    h.call('POST', '/v1/buildings', {'number': 'CV1', 'grid': 'G1'}, expect=201)
    members = [{'name': 'Res %d' % i, 'birth_year': 1950} for i in range(2)]
    households = []
    for i in range(HOUSEHOLDS):
        hh = h.call('POST', '/v1/households', {'building': 'CV1', 'room': str(100 + i),
                                               'members': members}, expect=201)
        households.append((hh['id'], hh['members'][0]['id']))
    vols = []
    for i in range(VOLUNTEERS // 2):
        hh = h.call('POST', '/v1/households', {'building': 'CV1', 'room': 'V%d' % i,
                                               'members': members}, expect=201)
        vols += [m['id'] for m in hh['members']]
    jobs = []
    for i in range(ORDERS):
        hid, pid = households[i % HOUSEHOLDS]
        need = h.call('POST', '/v1/needs', {'household_id': hid, 'person_id': pid,
                                            'category': 'repair', 'detail': 'tap %d' % i,
                                            'urgency': 1}, expect=201)
        jobs.append(('crash-%d' % i, pid, need['id']))
    # The volunteers daemon sees every person and need before the run.
    for _, pid, need_id in jobs[-1:]:
        deadline = time.time() + 30
        while time.time() < deadline:
            status, body, _ = h.request('GET', '/v1/volunteers/persons/' + pid)
            if status == 200 and body['open_needs'] >= ORDERS // HOUSEHOLDS:
                break
            time.sleep(0.1)
    for pid in vols:
        deadline = time.time() + 30
        while h.request('GET', '/v1/volunteers/persons/' + pid)[0] != 200:
            assert time.time() < deadline, pid
            time.sleep(0.05)
        h.call('POST', '/v1/volunteers', {'person_id': pid, 'skills': ['repair'],
                                          'max_open_orders': 20}, expect=201)
    token = h.ops_token
    confirmed, errors, stop = [], [], threading.Event()
    threads = [threading.Thread(target=worker, daemon=True,
                                args=(h.port, token, jobs[i::WORKERS], confirmed, errors,
                                      stop))
               for i in range(WORKERS)]
    t0 = time.time()
    kills = crashlib.kill_while_working(h, threads, stop, ('ledger', 'residents', 'ledger', 'residents', 'volunteers'), rng,
                                        pause_s=(0.02, 0.2))
    check('every order confirmed', len(confirmed) == ORDERS and not errors,
          'confirmed=%d errors=%s' % (len(confirmed), errors[:3]))
    check('no order confirmed twice', len(set(c[0] for c in confirmed)) == len(confirmed))
    # The ledger catches up: one volunteer.hour entry per confirmed order.
    want = {}
    for _, vol, _ in confirmed:
        want[vol] = want.get(vol, 0) + 1
    got = {}
    wait_until = time.time() + 90
    while time.time() < wait_until:
        got = {}
        for vol in vols:
            page = h.call('GET', '/v1/credit/persons/%s/entries?page_size=1000' % vol)
            got[vol] = sum(1 for e in page['entries'] if e['rule'] == 'volunteer.hour')
        if all(got.get(v, 0) >= n for v, n in want.items()):
            break
        time.sleep(0.5)
    time.sleep(1)
    got = {}
    for vol in vols:
        page = h.call('GET', '/v1/credit/persons/%s/entries?page_size=1000' % vol)
        got[vol] = sum(1 for e in page['entries'] if e['rule'] == 'volunteer.hour')
    total = sum(got.values())
    check('ledger: exactly one volunteer.hour entry per confirmed order',
          all(got.get(v, 0) == want.get(v, 0) for v in vols),
          'entries=%d confirmed=%d' % (total, len(confirmed)))
    # Residents catch up: every need served, each once in its file.
    served = 0
    wait_until = time.time() + 90
    needs = [j[2] for j in jobs]
    while time.time() < wait_until:
        served = sum(1 for n in needs
                     if h.call('GET', '/v1/needs/' + n)['status'] == 'served')
        if served == len(needs):
            break
        time.sleep(0.5)
    check('residents: every need served', served == len(needs),
          'served=%d needs=%d' % (served, len(needs)))
    changes = 0
    for hid, _ in households:
        page_token, pages = '', 0
        while pages < 100:
            page = h.call('GET', '/v1/households/%s/history?page_size=1000%s'
                          % (hid, '&page_token=' + page_token if page_token else ''))
            changes += sum(1 for v in page['versions'] if v['action'] == 'need.served')
            page_token = page['next_page_token']
            pages += 1
            if not page_token:
                break
    check('residents: each need served once (one need.served change each)',
          changes == len(needs), 'changes=%d needs=%d' % (changes, len(needs)))
    print('confirmed orders: %d; kills survived: ledger=%d residents=%d volunteers=%d; '
          '%.1f s' % (len(confirmed), kills['ledger'], kills['residents'],
                      kills['volunteers'], time.time() - t0))


if __name__ == '__main__':
    sys.exit(crashlib.run(scenario))

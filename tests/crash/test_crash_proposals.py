#!/usr/bin/env python3
"""test_crash_proposals - the fund under SIGKILL.

Proposals are accepted and tendered, each with bids; then 6 clients award
them (the fund cannot pay for them all) and record acceptances
(passed with some spending, or failed, or none yet), each retrying through the gateway
until it gets an answer, while the proposals daemon is SIGKILLed at random
moments and restarted. At the end the fund is audited:

- the movements sum to the totals (deposited, committed, spent, free);
- no proposal was committed twice, and free never went below zero;
- every acknowledged award and acceptance is present;
- committed = the sum of what awarded (not yet accepted) proposals hold,
  spent = the sum of what completed ones spent.

usage: TASHAN_BIN_DIR=build test_crash_proposals.py [PROPOSALS]
"""
import http.client
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'integration'))
import crashlib  # noqa: E402
import harness  # noqa: E402
import test_proposals  # noqa: E402  (the fund audit)

PROPOSALS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get('CRASH_PROPOSALS', '1000'))
WORKERS = 6
rng = random.Random(int(os.environ.get('CRASH_SEED', '17')))
check = crashlib.check


def at(seconds_from_now):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() + seconds_from_now))


class Client:
    """One keep-alive connection that retries until the daemon answers."""

    def __init__(self, port, token, stop):
        self.port, self.token, self.stop = port, token, stop
        self.conn = None

    def call(self, method, path, body=None):
        """(status, body) of the first answer that is not 503/504 or a
        broken connection; (None, None) when stopped."""
        data = json.dumps(body) if body is not None else None
        while not self.stop.is_set():
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
                self.conn.request(method, path, data,
                                  {'Authorization': 'Bearer ' + self.token,
                                   'Content-Type': 'application/json'})
                resp = self.conn.getresponse()
                raw = resp.read()
                if resp.status in (503, 504):
                    time.sleep(0.02)
                    continue
                return resp.status, json.loads(raw) if raw else None
            except (OSError, http.client.HTTPException, ValueError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(0.02)
        return None, None


def worker(port, token, jobs, acked, errors, stop):
    """Award then settle each proposal; acked[pid] = what was acknowledged."""
    c = Client(port, token, stop)
    for pid, bid_id, amount, passed_, spent in jobs:
        status, body = c.call('POST', '/v1/proposals/%s/award' % pid,
                              {'bid_id': bid_id, 'reason': 'crash test'})
        if status is None:
            return
        if status == 200:
            acked[pid] = {'award': amount}
        elif status == 409:
            # Refused (fund short), or our earlier try committed before
            # the kill and only the answer was lost: the proposal says.
            _, p = c.call('GET', '/v1/proposals/' + pid)
            if p is None or p['state'] == 'tendering':
                acked[pid] = {'refused': True}
                continue
            acked[pid] = {'award': amount, 'via_retry': True}
        else:
            errors.append((pid, 'award', status, body))
            continue
        if passed_ is None:
            continue                    # stays awarded: its commitment held
        status, body = c.call('POST', '/v1/proposals/%s/acceptance' % pid,
                              {'passed': passed_, 'spent_cents': spent, 'note': 'checked'})
        if status is None:
            return
        if status == 200:
            acked[pid]['settled'] = body['state']
        elif status == 409:
            _, p = c.call('GET', '/v1/proposals/' + pid)
            if p and p['state'] in ('completed', 'failed'):
                acked[pid]['settled'] = p['state']
            else:
                errors.append((pid, 'acceptance', status, body))
        else:
            errors.append((pid, 'acceptance', status, body))


def scenario(h):
    m = [h.call('POST', '/v1/merchants', {'name': 'Unit %d' % i, 'kind': 'enterprise',
                                           'category': 'build', 'co_building': True},
                expect=201)['id'] for i in range(3)]
    jobs, total = [], 0
    for i in range(PROPOSALS):
        amount = rng.randrange(1000, 100000)
        p = h.call('POST', '/v1/proposals', {'proposer_person_id': 'p%d' % (i + 1),
                                             'title': 'Proposal %d' % i,
                                             'budget_cents': 100000}, expect=201)
        h.call('POST', '/v1/proposals/%s/decision' % p['id'],
               {'accept': True, 'reason': 'yes'})
        h.call('POST', '/v1/proposals/%s/tender' % p['id'], {'deadline': at(3)})
        b = h.call('POST', '/v1/proposals/%s/bids' % p['id'],
                   {'bidder_merchant_id': m[i % 3], 'amount_cents': amount,
                    'plan': 'plan'}, expect=201)
        roll = rng.random()            # passed, failed, or left awarded
        passed_ = True if roll < 0.6 else False if roll < 0.85 else None
        spent = rng.randrange(0, amount + 1) if passed_ else 0
        jobs.append((p['id'], b['id'], amount, passed_, spent))
        total += amount
    deposited = total // 4           # spending exhausts it: late awards are refused
    h.call('POST', '/v1/fund/deposits', {'source': 'district', 'amount_cents': deposited,
                                         'idempotency_key': 'crash-1'}, expect=201)
    time.sleep(3.5)                    # every tender's deadline has passed
    acked, errors, stop = {}, [], threading.Event()
    threads = [threading.Thread(target=worker, daemon=True,
                                args=(h.port, h.ops_token, jobs[i::WORKERS], acked,
                                      errors, stop))
               for i in range(WORKERS)]
    t0 = time.time()
    for t in threads:
        t.start()
    kills = 0
    deadline = time.time() + 240
    while any(t.is_alive() for t in threads) and time.time() < deadline:
        time.sleep(rng.uniform(0.02, 0.25))
        h.kill('proposals', signal.SIGKILL)
        kills += 1
        time.sleep(rng.uniform(0.0, 0.1))
        h.start('proposals', wait=False)
        # Let it serve before the next kill (a slow build starts slowly).
        up_by = time.time() + 10
        while time.time() < up_by and harness.probe(h.port, '/healthz')[0] != 200:
            time.sleep(0.02)
    stop.set()
    for t in threads:
        t.join(30)
    h.wait_healthy()
    awards = sum(1 for a in acked.values() if 'award' in a)
    refused = sum(1 for a in acked.values() if a.get('refused'))
    check('every proposal answered', len(acked) == PROPOSALS and not errors,
          'answered=%d errors=%s' % (len(acked), errors[:5]))
    f = test_proposals.fund(h)
    try:
        commits, audit_error = test_proposals.audit(f), ''
    except AssertionError as e:
        commits, audit_error = {}, repr(e)[:300]
    check('movements sum to the totals, no proposal committed twice, free >= 0',
          not audit_error and int(f['deposited_cents']) == deposited,
          'deposited=%s committed=%s spent=%s free=%s movements=%d %s'
          % (f['deposited_cents'], f['committed_cents'], f['spent_cents'],
             f['free_cents'], len(f['movements']), audit_error))
    missing = [pid for pid, a in acked.items() if 'award' in a and pid not in commits]
    check('every acknowledged award is committed', not missing, str(missing[:5]))
    # Every proposal's state agrees with the fund.
    states, held, spent_sum = {}, 0, 0
    for pid, _, amount, _, _ in jobs:
        p = h.call('GET', '/v1/proposals/' + pid)
        states[p['state']] = states.get(p['state'], 0) + 1
        if p['state'] == 'awarded':
            held += int(p['awarded_cents'])
        if p['state'] == 'completed':
            spent_sum += int(p['spent_cents'])
        a = acked.get(pid, {})
        if 'settled' in a and p['state'] != a['settled']:
            check('acknowledged acceptance of %s present' % pid, False, p['state'])
        if (pid in commits) != (p['state'] in ('awarded', 'completed', 'failed')):
            check('commitment of %s matches its state' % pid, False, p['state'])
    check('committed = what awarded proposals hold', held == int(f['committed_cents']),
          '%d vs %s' % (held, f['committed_cents']))
    check('spent = what completed proposals spent', spent_sum == int(f['spent_cents']),
          '%d vs %s' % (spent_sum, f['spent_cents']))
    print('awards acknowledged=%d (of which after a retry=%d), refused=%d, kills=%d, '
          'states=%s, %.1f s' % (awards, sum(1 for a in acked.values() if a.get('via_retry')),
                                 refused, kills, states, time.time() - t0), flush=True)


if __name__ == '__main__':
    sys.exit(crashlib.run(scenario))

#!/usr/bin/env python3
"""test_crash_offers - card redemptions exactly once across two daemons
under SIGKILL.

Tills redeem a shop offer for pupils through the gateway (8 connections);
each client retries its redemption with the same idempotency key until it
has a final answer (201/200 redeemed, 409 refused: card short or out of
stock). Meanwhile the merchants daemon (which owns the stock) and the
ledger (which owns the card) are SIGKILLed at random and restarted. Then
the books are audited: units taken = redemptions answered 201 = the
ledger's redemption entries; no unit left reserved; no card below zero;
every pupil's card equals earnings minus redemptions; every 201 answer is
a completed redemption of that pupil.

usage: TASHAN_BIN_DIR=build test_crash_offers.py [REDEMPTIONS]
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

REDEMPTIONS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get('CRASH_REDEMPTIONS',
                                                                             '1500'))
WORKERS = 8
PUPILS = 60
POINTS = 2
STOCK = 500
rng = random.Random(int(os.environ.get('CRASH_SEED', '17')))
check = crashlib.check


def worker(port, offer_id, jobs, answers, errors, stop):
    """jobs: (key, pupil); answers[key] = (status, body) once final."""
    conn = None
    for key, pupil in jobs:
        body = json.dumps({'person_id': pupil, 'idempotency_key': key})
        while not stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
                conn.request('POST', '/v1/offers/%s/redemptions' % offer_id, body,
                             {'Authorization': 'Bearer ' + worker.token,
                              'Content-Type': 'application/json'})
                resp = conn.getresponse()
                data = resp.read()
                if resp.status in (200, 201, 409):
                    answers[key] = (resp.status, json.loads(data), pupil)
                    break
                if resp.status != 503:
                    errors.append((key, resp.status, data[:200]))
                    break
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.02)
    if conn is not None:
        conn.close()


def all_entries(h, pid):
    out, token = [], ''
    for _ in range(100):
        page = h.call('GET', '/v1/credit/persons/%s/entries?page_size=1000%s'
                      % (pid, '&page_token=' + token if token else ''))
        out += page['entries']
        token = page['next_page_token']
        if not token:
            break
    return out


def setup(h):
    h.call('POST', '/v1/buildings', {'number': 'X1', 'grid': 'G1'}, expect=201)
    pupils = []
    for i in range(PUPILS):
        hh = h.call('POST', '/v1/households', {'building': 'X1', 'room': str(100 + i), 'members': [
            {'name': '学生', 'birth_year': 2014, 'tags': ['pupil'], 'school_id': 'S1',
             'pupil_no': 'C%03d' % i}]},
            expect=201)
        pupils.append(hh['members'][0]['id'])
    deadline = time.time() + 30
    for pid in pupils:
        while h.request('GET', '/v1/credit/persons/' + pid)[0] != 200:
            assert time.time() < deadline
            time.sleep(0.05)
        #  Cards of 3 to 25 points: some pupils run short.
        evals = [{'person_id': pid, 'rule': rule, 'idempotency_key': '%s-%s-%d' % (pid, rule, k)}
                 for rule, most in (('civil_conduct.good', 5), ('garbage_sorting.good', 5))
                 for k in range(rng.randint(rule == 'civil_conduct.good', most))]
        h.call('POST', '/v1/credit/evaluations/batch', {'evaluations': evals}, expect=200)
    m = h.call('POST', '/v1/merchants', {'name': '社区小超市', 'kind': 'enterprise',
                                         'category': 'shop'}, expect=201)
    offer = h.call('POST', '/v1/offers', {'merchant_id': m['id'], 'title': '练习本',
                                          'kind': 'item', 'points': POINTS, 'stock': STOCK},
                   expect=201)
    earned = {pid: sum(e['points'] for e in all_entries(h, pid) if e['kind'] == 'earning')
              for pid in pupils}
    return pupils, m, offer, earned


def audit(h, pupils, m, offer, earned, answers):
    ok201 = {k: v for k, v in answers.items() if v[0] in (200, 201)}
    refused = {k: v for k, v in answers.items() if v[0] == 409}
    o = h.call('GET', '/v1/offers/' + offer['id'])
    check('units taken = redemptions answered 201', o['taken'] == len(ok201),
          'taken=%d answered=%d refused=%d' % (o['taken'], len(ok201), len(refused)))
    check('no unit left reserved, none lost', o['reserved'] == 0
          and o['taken'] + o['stock_left'] == STOCK, o)
    mismatches = 0
    spent = {pid: 0 for pid in pupils}
    entries_total = 0
    for pid in pupils:
        entries = all_entries(h, pid)
        reds = [e for e in entries if e['kind'] == 'redemption']
        entries_total += len(reds)
        spent[pid] = sum(abs(e['points']) for e in reds)
        credit = h.call('GET', '/v1/credit/persons/' + pid)
        if credit['card'] < 0 or credit['card'] != earned[pid] - spent[pid]:
            mismatches += 1
            print('  card of %s: %d, earned %d, spent %d' % (pid, credit['card'], earned[pid],
                                                            spent[pid]))
    check('ledger redemption entries = redemptions answered 201', entries_total == len(ok201),
          'entries=%d answered=%d' % (entries_total, len(ok201)))
    for key, (status, body, pupil) in ok201.items():
        r = h.call('GET', '/v1/redemptions/' + body['id'])
        if r['state'] != 'completed' or r['person_id'] != pupil or r['points'] != POINTS:
            mismatches += 1
    by_pupil = {}
    for key, (status, body, pupil) in ok201.items():
        by_pupil[pupil] = by_pupil.get(pupil, 0) + 1
    for pid in pupils:
        if spent[pid] != POINTS * by_pupil.get(pid, 0):
            mismatches += 1
    for key, (status, body, pupil) in refused.items():
        msg = body.get('error', {}).get('message', '')
        if 'card balance' not in msg and 'out of stock' not in msg:
            mismatches += 1
            print('  refusal %s: %s' % (key, msg))
    check('every answer matches the books', mismatches == 0, 'mismatches=%d' % mismatches)
    return len(ok201), len(refused)


def scenario(h):
    pupils, m, offer, earned = setup(h)
    worker.token = h.ops_token
    jobs = [('r%05d' % i, rng.choice(pupils)) for i in range(REDEMPTIONS)]
    answers, errors, stop = {}, [], threading.Event()
    threads = [threading.Thread(target=worker, daemon=True,
                                args=(h.port, offer['id'], jobs[i::WORKERS], answers,
                                      errors, stop))
               for i in range(WORKERS)]
    t0 = time.time()
    kills = crashlib.kill_while_working(h, threads, stop, ('merchants', 'ledger'), rng,
                                        pause_s=(0.1, 0.4))
    check('every redemption has a final answer', len(answers) == REDEMPTIONS and not errors,
          'answers=%d errors=%s' % (len(answers), errors[:5]))
    redeemed, refused = audit(h, pupils, m, offer, earned, answers)
    print('redemptions: %d redeemed, %d refused; kills: merchants=%d ledger=%d; %.1f s'
          % (redeemed, refused, kills['merchants'], kills['ledger'], time.time() - t0))


if __name__ == '__main__':
    sys.exit(crashlib.run(scenario))

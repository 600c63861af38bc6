#!/usr/bin/env python3
"""test_crash_system - exactly once across the real daemons under SIGKILL.

Merchant apps post market check-ins for a free service through the gateway
(8 connections, each retrying a check-in until it is acknowledged). Each
acknowledged check-in makes the merchants daemon emit one credit event in
the same transaction; the ledger applies it as one `market.service` entry.
Meanwhile the merchants and ledger daemons are SIGKILLed at random moments
and restarted. At the end the ledger holds exactly one entry per
acknowledged check-in: none lost, none twice.

usage: TASHAN_BIN_DIR=build test_crash_system.py [CHECKINS]
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

CHECKINS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get('CRASH_CHECKINS', '6000'))
WORKERS = 8
rng = random.Random(int(os.environ.get('CRASH_SEED', '11')))
check = crashlib.check


def worker(port, token, body_base, ids, acked, errors, stop):
    conn = None
    for cid in ids:
        body = json.dumps(dict(body_base, checkin_id=cid))
        while not stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
                conn.request('POST', '/v1/checkins', body,
                             {'Authorization': 'Bearer ' + token,
                              'Content-Type': 'application/json'})
                resp = conn.getresponse()
                resp.read()
                if resp.status in (200, 201):
                    acked.append(cid)
                    break
                if resp.status == 429:
                    # The merchants daemon brakes a merchant whose codes it
                    # refused too often this minute; honour Retry-After.
                    time.sleep(float(resp.getheader('Retry-After') or 1))
                    continue
                if resp.status not in (503, 422):
                    errors.append((cid, resp.status))
                    break
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.02)
    if conn is not None:
        conn.close()


def scenario(h):
    # A resident, a merchant with a free service, a market it attends.
    h.call('POST', '/v1/buildings', {'number': 'K1', 'grid': 'G1'}, expect=201)
    hh = h.call('POST', '/v1/households', {'building': 'K1', 'room': '1',
                                           'members': [{'name': 'Li Na', 'birth_year': 1960}]},
                expect=201)
    person = hh['members'][0]['id']
    m = h.call('POST', '/v1/merchants', {'name': 'Barber', 'kind': 'individual',
                                         'category': 'beauty', 'services': ['haircut'],
                                         'free_services': ['free haircut']}, expect=201)
    market = h.call('POST', '/v1/markets', {'date': '2026-06-06', 'place': 'square',
                                            'title': 'market'}, expect=201)
    h.call('POST', '/v1/markets/%s/merchants' % market['id'], {'merchant_id': m['id']},
           expect=201)
    token = h.make_token('merchant', merchant_id=m['id'])
    code = h.card_code(person, valid_hours=24)['code']
    # The code's signing key reaches the merchants daemon as an event; until
    # it has, codes are refused (422) and refusals count towards the
    # merchant's per-minute brake. A second merchant, outside the market and
    # the counts below, waits for the key so the workers start after it.
    probe = h.call('POST', '/v1/merchants', {'name': 'Probe', 'kind': 'individual',
                                             'category': 'beauty', 'services': ['haircut']},
                   expect=201)
    probe_token = h.make_token('merchant', merchant_id=probe['id'])
    deadline = time.time() + 30
    status = 0
    while time.time() < deadline:
        status = h.request('POST', '/v1/checkins',
                           {'checkin_id': 'probe', 'merchant_id': probe['id'],
                            'resident_code': code, 'service': 'haircut'},
                           token=probe_token)[0]
        if status in (200, 201):
            break
        time.sleep(0.2 if status != 429 else 1.0)
    check('the card code is known to the merchants daemon', status in (200, 201), status)
    base = {'merchant_id': m['id'], 'resident_code': code, 'service': 'free haircut',
            'market_id': market['id']}
    ids = ['k%05d' % i for i in range(CHECKINS)]
    acked, errors, stop = [], [], threading.Event()
    threads = [threading.Thread(target=worker, daemon=True,
                                args=(h.port, token, base, ids[i::WORKERS], acked, errors, stop))
               for i in range(WORKERS)]
    t0 = time.time()
    kills = crashlib.kill_while_working(h, threads, stop, ('merchants', 'ledger'), rng,
                                        pause_s=(0.05, 0.3))
    check('every check-in acknowledged', len(acked) == CHECKINS and not errors,
          'acked=%d errors=%s' % (len(acked), errors[:5]))
    check('no check-in acknowledged twice', len(set(acked)) == len(acked))
    # The ledger catches up: count market.service entries of the merchant.
    count = -1
    wait_until = time.time() + 60
    while time.time() < wait_until:
        count, token_ = 0, ''
        for _ in range(100):
            page = h.call('GET', '/v1/credit/persons/%s/entries?page_size=1000%s'
                          % (m['id'], '&page_token=' + token_ if token_ else ''))
            count += sum(1 for e in page['entries'] if e['rule'] == 'market.service')
            token_ = page['next_page_token']
            if not token_:
                break
        if count >= CHECKINS:
            break
        time.sleep(0.3)
    check('ledger applied every acknowledged check-in exactly once', count == CHECKINS,
          'entries=%d checkins=%d' % (count, CHECKINS))
    stats = h.call('GET', '/v1/markets/%s/stats' % market['id'])
    check('market stats count each check-in once', stats.get('checkins') == CHECKINS, stats)
    print('kills: merchants=%d ledger=%d, %.1f s' % (kills['merchants'], kills['ledger'],
                                                     time.time() - t0))


if __name__ == '__main__':
    sys.exit(crashlib.run(scenario))

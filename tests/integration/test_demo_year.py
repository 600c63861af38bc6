"""test_demo_year - `tashanctl demo` on a fresh system makes the Tashan
community as it looks after a year (services/tashanctl/ctl_demo_year.c),
checked through the HTTP API: every past month closed with a published
honour board, the 447 merchants (27 co-building), 27 markets with about
1,000 check-ins, the card's offers with redemptions, books that balance;
a second run changes nothing.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_demo_year.py
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEMO_TIMEOUT_S = 240


def pages(h, path, key, page_size=1000):
    """Every item of a paged list."""
    out, token = [], ''
    sep = '&' if '?' in path else '?'
    while True:
        url = '%s%spage_size=%d' % (path, sep, page_size)
        if token:
            url += '&page_token=' + token
        body = h.call('GET', url)
        out += body[key]
        token = body.get('next_page_token', '')
        if not token:
            return out


def books(h, person_id):
    """The person's balances recomputed from their statement."""
    entries = pages(h, '/v1/credit/persons/%s/entries' % person_id, 'entries')
    index = 1000 + sum(int(e['effective_points']) for e in entries
                       if e['kind'] != 'redemption')
    card = sum(int(e['effective_points']) for e in entries
               if e['kind'] == 'earning' and int(e['effective_points']) > 0) \
        - sum(abs(int(e['points'])) for e in entries if e['kind'] == 'redemption')
    return index, card, entries


def sanitized(h):
    """Are the daemons a sanitizer build (ASan slows them several times)?"""
    ldd = subprocess.run(['ldd', os.path.join(h.bin_dir, 'tashan-ledger')],
                         capture_output=True, text=True)
    return 'libasan' in ldd.stdout


def test_demo_year(h):
    if sanitized(h):
        raise harness.Skip('the whole demo community takes minutes under the '
                           'sanitizers; the release suite runs it')
    t0 = time.monotonic()
    run = h.tashanctl('demo', check=True, timeout_s=DEMO_TIMEOUT_S)
    took = time.monotonic() - t0
    print('   tashanctl demo took %.1f s' % took, flush=True)
    print(harness.indent(run.stdout), flush=True)
    assert 'demo year (seed 42, 12 months)' in run.stdout, run.stdout

    # The seed's 79 party members among the residents (ops' tag search).
    party, token = set(), ''
    for _ in range(1000):
        page = h.call('GET', '/v1/residents/lookup?tag=party_member&page_size=1000'
                      + ('&page_token=' + token if token else ''))
        party |= {p['person_id'] for p in page['persons']}
        token = page['next_page_token']
        if not token:
            break
    assert len(party) == 79, len(party)

    # Twelve months of credit: the 11 past ones closed and published.
    months = h.call('GET', '/v1/credit/months')
    closed = sorted(m['month'] for m in months['months'])
    assert len(closed) == 11, months
    assert months['current_month'] not in closed
    greys = 0
    sample = set()
    for month in closed:
        board = h.call('GET', '/v1/credit/honor-board?month=' + month)
        assert board['published_at'], board
        assert len(board['red']) > 0, board
        greys += len(board['grey']) > 0
        sample.update(r['person_id'] for r in board['red'][:2])
        sample.update(r['person_id'] for r in board['grey'][:1])
        ranking = h.call('GET', '/v1/credit/rankings/households?month=' + month)
        assert ranking['rows'] and ranking['published_at'], ranking
    assert greys >= 9, greys
    appeals = pages(h, '/v1/credit/appeals', 'appeals')
    assert {'accepted', 'rejected'} <= {a['status'] for a in appeals}, appeals
    assert all(a['decision_reason'] for a in appeals if a['status'] != 'open')

    # Merchants, complaints, markets, notices.
    merchants = pages(h, '/v1/merchants', 'merchants')
    assert len(merchants) == 447, len(merchants)
    assert sum(1 for m in merchants if m['co_building']) == 27
    assert {m['kind'] for m in merchants} == {'enterprise', 'institution', 'individual'}
    assert sum(1 for m in merchants if m['standing'] == 'watch') >= 1
    markets = h.call('GET', '/v1/markets?page_size=1000')
    totals = markets['totals']
    assert totals['markets'] == 27, totals
    assert 950 <= totals['checkins'] <= 1000, totals
    assert totals['free_services_given'] == totals['checkins'], totals
    for m in markets['markets']:
        assert m['checkins'] > 0 and m['merchants_active'] > 0, m
        assert m['date'] < time.strftime('%Y-%m-%d'), m
    stats = h.call('GET', '/v1/markets/%s/stats' % markets['markets'][0]['market_id'])
    assert {s['service'] for s in stats['services']} <= {'免费维修', '义务理发', '按摩'}
    enrolled = sum(m['merchants'] for m in markets['markets'])
    assert enrolled >= 27 * 15, enrolled
    notices = h.call('GET', '/v1/notices?since=0&page_size=100')['notices']
    assert len(notices) >= 5, notices

    # The card's offers and redemptions.
    offers = pages(h, '/v1/offers', 'offers')
    assert {'item', 'course_seat'} <= {o['kind'] for o in offers}, offers
    assert sum(o['taken'] for o in offers) > 0, offers
    shop = [o for o in offers if o['merchant_name'] == '塔山社区小超市']
    assert shop, offers
    red = h.call('GET', '/v1/merchants/%s/redemptions?page_size=1000'
                 % shop[0]['merchant_id'])
    sample.update(r['person_id'] for r in red['redemptions'][:5])

    # Books balanced for a sample of persons.
    assert len(sample) >= 10, sample
    for pid in sorted(sample):
        index, card, entries = books(h, pid)
        credit = h.call('GET', '/v1/credit/persons/' + pid)
        assert int(credit['index']) == index, (pid, credit, entries)
        assert int(credit['card']) == card and card >= 0, (pid, credit, entries)

    # A second run adds nothing.
    again = h.tashanctl('demo', check=True, timeout_s=DEMO_TIMEOUT_S)
    assert 'demo year: already present' in again.stdout, again.stdout
    assert len(pages(h, '/v1/merchants', 'merchants')) == 447
    assert h.call('GET', '/v1/markets?page_size=1')['totals'] == totals


if __name__ == '__main__':
    harness.main(globals())

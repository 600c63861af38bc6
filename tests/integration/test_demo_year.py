"""test_demo_year - `tashanctl demo` on a fresh system makes the Tashan
community as it looks after a year (services/tashanctl/ctl_demo*.c),
checked through the HTTP API: the seed's counts (1,075 households, 79
party members, 447 merchants with 27 co-building, 27 markets with about
1,000 check-ins dated on their market days, the last today), every
month's honour board non-empty and every past one closed and published,
books that balance (persons, market stats, the fund), the proposals'
bidders taken from the registry's co-building units, progress lines on
stderr (not a terminal here); then a second run is refused (exit 1) and
changes nothing, and so does --check.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_demo_year.py
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from demo_checks import check_books, check_markets, counts, pages  # noqa: E402

DEMO_TIMEOUT_S = 240
# The whole demo within one test (its own alarm, not the default 120 s).
os.environ.setdefault('TASHAN_TEST_TIMEOUT', '280')


def sanitized(h):
    """Are the daemons a sanitizer build (ASan slows them several times)?"""
    ldd = subprocess.run(['ldd', os.path.join(h.bin_dir, 'tashan-ledger')],
                         capture_output=True, text=True)
    return 'libasan' in ldd.stdout


def check_credit(h):
    """Twelve months: the 11 past ones closed and published, every
    month's board with red rows; returns a sample of persons."""
    months = h.call('GET', '/v1/credit/months')
    closed = sorted(m['month'] for m in months['months'])
    assert len(closed) == 11, months
    assert months['current_month'] not in closed
    greys, sample = 0, set()
    for month in closed + [months['current_month']]:
        board = h.call('GET', '/v1/credit/honor-board?month=' + month)
        assert len(board['red']) > 0, (month, board)
        greys += len(board['grey']) > 0
        sample.update(r['person_id'] for r in board['red'][:2])
        sample.update(r['person_id'] for r in board['grey'][:1])
        ranking = h.call('GET', '/v1/credit/rankings/households?month=' + month)
        assert ranking['rows'], (month, ranking)
        if month != months['current_month']:
            assert board['published_at'] and ranking['published_at'], (month, board)
    assert greys >= 9, greys
    appeals = pages(h, '/v1/credit/appeals', 'appeals')
    assert {'accepted', 'rejected'} <= {a['status'] for a in appeals}, appeals
    assert all(a['decision_reason'] for a in appeals if a['status'] != 'open')
    return sample


def check_fund(h):
    """The fund's movements sum to its totals."""
    f = h.call('GET', '/v1/fund')
    movements, token = f['movements'], f['next_page_token']
    for _ in range(1000):
        if not token:
            break
        more = h.call('GET', '/v1/fund?page_token=' + token)
        movements, token = movements + more['movements'], more['next_page_token']
    total = {}
    for m in movements:
        total[m['kind']] = total.get(m['kind'], 0) + int(m['amount_cents'])
    assert int(f['deposited_cents']) == total.get('deposit', 0), f
    assert int(f['spent_cents']) == total.get('spending', 0), f
    assert int(f['committed_cents']) == total.get('commitment', 0) \
        - total.get('spending', 0) - total.get('release', 0), f


def check_bidders(h, merchants):
    """Every bid comes from a co-building unit of the registry."""
    units = {m['id'] for m in merchants if m['co_building']}
    bidders = set()
    for p in pages(h, '/v1/proposals', 'proposals'):
        bids = h.call('GET', '/v1/proposals/%s/bids' % p['id'])['bids']
        bidders |= {b['bidder_merchant_id'] for b in bids}
    assert bidders and bidders <= units, (bidders, units)


def test_demo_year(h):
    if sanitized(h):
        raise harness.Skip('the whole demo community takes minutes under the '
                           'sanitizers; the release suite runs it')
    t0 = time.monotonic()
    run = h.tashanctl('demo', check=True, timeout_s=DEMO_TIMEOUT_S)
    print('   tashanctl demo took %.1f s' % (time.monotonic() - t0), flush=True)
    print(harness.indent(run.stdout), flush=True)
    assert 'demo year (seed 42, 12 months, scale 1)' in run.stdout, run.stdout
    # Not a terminal: plain progress lines, the last at 100%.
    progress = [l for l in run.stderr.splitlines() if l.startswith('demo progress: ')]
    assert len(progress) >= 3 and progress[-1].startswith('demo progress: 100% '), run.stderr
    assert '\r' not in run.stderr, run.stderr

    seen = counts(h)
    print('   counts: %s' % seen, flush=True)
    assert seen == {'compounds': 4, 'buildings': 61, 'households': 1075,
                    'party_members': 79, 'merchants': 447, 'co_building': 27,
                    'markets': 27, 'checkins': seen['checkins'], 'offers': 7}, seen
    assert 950 <= seen['checkins'] <= 1000, seen
    markets = h.call('GET', '/v1/markets?page_size=1000')
    check_markets(h, markets)
    merchants = pages(h, '/v1/merchants', 'merchants')
    assert {m['kind'] for m in merchants} == {'enterprise', 'institution', 'individual'}
    assert sum(1 for m in merchants if m['standing'] == 'watch') >= 1
    stats = h.call('GET', '/v1/markets/%s/stats' % markets['markets'][0]['market_id'])
    assert {s['service'] for s in stats['services']} <= {'免费维修', '义务理发', '按摩'}
    assert sum(s['count'] for s in stats['services']) == markets['markets'][0]['checkins']
    assert len(h.call('GET', '/v1/notices?since=0&page_size=100')['notices']) >= 5

    sample = check_credit(h)
    offers = pages(h, '/v1/offers', 'offers')
    assert {'item', 'course_seat'} <= {o['kind'] for o in offers}, offers
    shop = [o for o in offers if o['merchant_name'] == '塔山社区小超市']
    assert shop and sum(o['taken'] for o in offers) > 0, offers
    red = h.call('GET', '/v1/merchants/%s/redemptions?page_size=1000'
                 % shop[0]['merchant_id'])
    sample.update(r['person_id'] for r in red['redemptions'][:5])
    assert len(sample) >= 10, sample
    check_books(h, sample)
    check_fund(h)
    check_bidders(h, merchants)

    # The stores hold data now: a second run is refused and changes nothing.
    again = h.tashanctl('demo', timeout_s=DEMO_TIMEOUT_S)
    assert again.returncode == 1, (again.returncode, again.stdout, again.stderr)
    assert 'refused' in again.stderr and 'holds data' in again.stderr, again.stderr
    assert again.stdout == '', again.stdout
    ask = h.tashanctl('demo', '--check')
    assert ask.returncode == 1 and 'would be refused' in ask.stderr, ask.stderr
    assert counts(h) == seen


def test_demo_bad_arguments(h):
    """--scale and --months out of range: exit 2, nothing asked or made."""
    for args in (['--scale', '0'], ['--scale', '101'], ['--scale', 'x'],
                 ['--months', '0'], ['--months', '25'], ['--seed', '-1'], ['--bogus']):
        run = h.tashanctl('demo', *args)
        assert run.returncode == 2, (args, run.returncode, run.stderr)
        assert '--scale 1..100' in run.stderr, run.stderr


if __name__ == '__main__':
    harness.main(globals())

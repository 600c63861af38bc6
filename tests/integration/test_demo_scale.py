"""test_demo_scale - `tashanctl demo --scale 2` makes twice the seed's
community (services/tashanctl/ctl_demo*.c): twice the compounds,
buildings, households and party members, twice the registry (54
co-building units), markets, check-ins and offers; with --quiet no
progress on stderr. Two months keep it short; the books of a sample of
persons still balance and every month's board has red rows.

Run: TASHAN_BIN_DIR=build python3 tests/integration/test_demo_scale.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from demo_checks import check_books, check_markets, counts  # noqa: E402
from test_demo_year import sanitized  # noqa: E402

DEMO_TIMEOUT_S = 260
os.environ.setdefault('TASHAN_TEST_TIMEOUT', '280')


def test_demo_scale_2(h):
    if sanitized(h):
        raise harness.Skip('the whole demo community takes minutes under the '
                           'sanitizers; the release suite runs it')
    t0 = time.monotonic()
    run = h.tashanctl('demo', '--scale', 2, '--months', 2, '--quiet', '--seed', 7,
                      check=True, timeout_s=DEMO_TIMEOUT_S)
    print('   tashanctl demo --scale 2 --months 2 took %.1f s'
          % (time.monotonic() - t0), flush=True)
    print(harness.indent(run.stdout), flush=True)
    assert 'demo progress' not in run.stderr, run.stderr
    assert 'scale 2' in run.stdout, run.stdout
    seen = counts(h)
    print('   counts: %s' % seen, flush=True)
    assert seen == {'compounds': 8, 'buildings': 122, 'households': 2150,
                    'party_members': 158, 'merchants': 894, 'co_building': 54,
                    'markets': 54, 'checkins': seen['checkins'], 'offers': 14}, seen
    assert 1900 <= seen['checkins'] <= 2000, seen
    check_markets(h, h.call('GET', '/v1/markets?page_size=1000'))
    months = h.call('GET', '/v1/credit/months')
    assert len(months['months']) == 1, months
    sample = set()
    for month in [months['months'][0]['month'], months['current_month']]:
        board = h.call('GET', '/v1/credit/honor-board?month=' + month)
        assert board['red'], (month, board)
        sample.update(r['person_id'] for r in board['red'][:3] + board['grey'][:2])
    check_books(h, sample)


if __name__ == '__main__':
    harness.main(globals())

#!/usr/bin/env python3
"""test_promtool - `promtool check metrics` on a live /metrics scrape.

Starts the real system (tests/integration/harness.py), makes some traffic
(writes, reads, errors, a 404) so every family has samples, waits for a
health poll, then feeds the scrape to promtool: any problem it reports
(a missing HELP, a bad name, a counter without _total...) fails the test.
Skips (77) when promtool is missing, unless TASHAN_CONTRACT_REQUIRED=1
(deploy/test.sh, which installs it)."""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'integration'))
import harness  # noqa: E402

import contractlib  # noqa: E402


def traffic(h):
    for i in range(20):
        b = h.call('POST', '/v1/buildings',
                   {'number': 'P%d-%d' % (os.getpid(), i), 'grid': 'G1'},
                   expect=201)
        h.call('GET', '/v1/buildings/' + b['id'])
    h.call('GET', '/v1/buildings/b999999', expect=404)
    h.call('GET', '/no/such/route', expect=404)
    h.call('POST', '/v1/buildings', {'grid': 'G1'}, expect=400)
    h.call('GET', '/healthz', token=None)


def scrape_after_poll(h):
    """A scrape that has every daemon's counters (the gateway polls
    health periodically)."""
    deadline = time.monotonic() + 15
    while True:
        status, text, _ = h.request('GET', '/metrics', token=None)
        assert status == 200, status
        polled = all('tashan_daemon_requests_total{service="%s"}' % s in text
                     for s in harness.SERVICES if s != 'gateway')
        if polled and re.search(r'^tashan_daemon_batches_total\{.*\} [1-9]', text, re.M):
            return text
        assert time.monotonic() < deadline, 'no health poll in /metrics:\n' + text
        time.sleep(0.2)


def main():
    rc = contractlib.missing('promtool', 'Debian package prometheus')
    if rc is not None:
        return rc
    promtool = shutil.which('promtool')
    with harness.Harness() as h:
        traffic(h)
        text = scrape_after_poll(h)
    for family in ('process_resident_memory_bytes', 'process_cpu_seconds_total',
                   'process_open_fds', 'process_start_time_seconds',
                   'tashan_build_info', 'tashan_store_degraded',
                   'tashan_store_used_bytes', 'tashan_daemon_batch_size_bucket',
                   'tashan_outbox_lag_events',
                   'tashan_http_request_duration_seconds_bucket{route='):
        assert family in text, 'no %s in /metrics' % family
    run = subprocess.run([promtool, 'check', 'metrics'], input=text.encode(),
                         capture_output=True)
    report = (run.stdout + run.stderr).decode(errors='replace').strip()
    lines = len(text.splitlines())
    if run.returncode != 0 or report:
        print('promtool check metrics (exit %d) on %d lines:\n%s'
              % (run.returncode, lines, report))
        return 1
    print('promtool check metrics: clean (%d lines)' % lines)
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""test_services_list - services/services.list is the one place that names
the domain daemons: every consumer of the list agrees with it.

Checked without running the daemons: the folders and route tables a listed
daemon needs, its endpoint documented in deploy/tashan.conf.example, the
generated header (TS_SERVICES) and systemd units in the build dir, the
binaries, deploy/lib.sh's ts_services and harness.DOMAIN_SERVICES. (The
rest of the suite runs every listed daemon through the harness and
deploy/up.sh, both of which read the list.)

Environment: TASHAN_BIN_DIR (the build dir), TASHAN_SOURCE_DIR."""
import os
import re
import subprocess
import sys

import harness

SOURCE = os.environ.get('TASHAN_SOURCE_DIR') or harness.SOURCE_DIR
BUILD = os.environ.get('TASHAN_BIN_DIR') or harness.DEFAULT_BIN_DIR
LISTED = harness.read_services_list(os.path.join(SOURCE, 'services', 'services.list'))


def read(*parts):
    with open(os.path.join(*parts), encoding='utf-8') as f:
        return f.read()


def test_list_is_sane():
    assert LISTED, 'services/services.list names no daemon'
    assert len(set(LISTED)) == len(LISTED), LISTED
    assert 'gateway' not in LISTED, 'the gateway is not a domain daemon'


def test_each_daemon_has_its_parts():
    for svc in LISTED:
        for part in (('services', svc, 'main.c'),
                     ('services', svc, svc + '_service.h'),
                     ('services', 'gateway', 'routes_%s.c' % svc)):
            assert os.path.exists(os.path.join(SOURCE, *part)), '/'.join(part)
        routes = read(SOURCE, 'services', 'gateway', 'routes_%s.c' % svc)
        assert 'gw_routes_%s_count' % svc in routes, svc


def test_config_example_documents_every_endpoint():
    text = read(SOURCE, 'deploy', 'tashan.conf.example')
    documented = re.findall(r'^# endpoint\.([a-z0-9]+) = ', text, re.M)
    assert tuple(documented) == LISTED, documented


def test_generated_header():
    text = read(BUILD, 'generated', 'ts_services.h')
    macro = text[text.index('#define TS_SERVICES(X)'):]
    macro = macro[:macro.index('\n\n')]
    assert tuple(re.findall(r'X \(([a-z0-9]+)\)', macro)) == LISTED, macro
    assert '#define TS_SERVICE_COUNT %d' % len(LISTED) in text, text


def test_binaries():
    for svc in LISTED + ('gateway',):
        path = os.path.join(BUILD, 'tashan-' + svc)
        assert os.access(path, os.X_OK), path


def test_systemd_units():
    target = read(BUILD, 'deploy', 'systemd', 'tashan.target')
    order = read(BUILD, 'deploy', 'systemd', 'tashan@gateway.service.d', 'order.conf')
    units = tuple('tashan@%s.service' % svc for svc in LISTED)
    wants = re.search(r'^Wants=(.*)$', target, re.M).group(1).split()
    assert tuple(wants) == units + ('tashan@gateway.service',), wants
    wants = re.search(r'^Wants=(.*)$', order, re.M).group(1).split()
    assert tuple(wants) == units, wants
    assert 'tashan-%i ' in read(SOURCE, 'deploy', 'systemd', 'tashan@.service')


def test_shell_reads_the_list():
    lib = os.path.join(SOURCE, 'deploy', 'lib.sh')
    out = subprocess.run(['bash', '-c', 'source "$1" && ts_services', 'x', lib],
                         capture_output=True, text=True, check=True).stdout
    assert tuple(out.split()) == LISTED, out


def test_harness_reads_the_list():
    assert harness.DOMAIN_SERVICES == LISTED
    assert harness.STOP_ORDER == ('gateway',) + tuple(reversed(LISTED))


def main():
    passed = failed = 0
    for name, fn in list(globals().items()):
        if name.startswith('test_') and callable(fn):
            try:
                fn()
                passed += 1
                print('ok   ' + name)
            except Exception as e:  # noqa: BLE001 - report and go on
                failed += 1
                print('FAIL %s: %r' % (name, e))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

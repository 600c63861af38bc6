"""test_backup - tashanctl backup, restore and verify against the real
daemons, and tashanctl as a Unix tool (every command's --help, argument
errors and exit codes, status without a data dir).

- a backup taken under write load, restored, then `tashanctl verify`
  clean, three times with random timing;
- restores of bad backups (wrong schema version, truncated data.mdb,
  missing or incomplete manifest, missing key file, altered file) are
  refused and leave the live data untouched;
- a producer whose outbox is another generation stops its consumers
  loudly (log, status, verify);
- backup files 0600, directories 0700; a backup into a live store or a
  non-empty directory is refused with a sentence, not an HTTP code.
"""

import hashlib
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import threading
import time

import harness

COMMANDS = ('status', 'backup', 'restore', 'verify', 'demo', 'match', 'keygen')


def ctl_bare(h, *args, timeout_s=30):
    """tashanctl with exactly these arguments (no --data-dir added)."""
    return subprocess.run([os.path.join(h.bin_dir, 'tashanctl')] + list(args),
                          capture_output=True, text=True, timeout=timeout_s,
                          cwd=h.data_dir)


def live_digest(h):
    """SHA-256 of every live store file: what "untouched" means."""
    out = {}
    for svc in harness.SERVICES:
        d = os.path.join(h.data_dir, svc)
        for name in sorted(os.listdir(d)):
            # residents/audit/ is the read journal, not a store file
            if name != 'lock.mdb' and os.path.isfile(os.path.join(d, name)):
                with open(os.path.join(d, name), 'rb') as f:
                    out[svc + '/' + name] = hashlib.sha256(f.read()).hexdigest()
    return out


def asides(h):
    return [n for n in os.listdir(h.data_dir) if n.startswith('before-restore-')]


def take_backup(h, name):
    path = os.path.join(h.data_dir, 'backups', name)
    cp = h.tashanctl('backup', path)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    return path


def verify_clean(h, deadline_s=20):
    """tashanctl verify exits 0 (consumers may still be catching up on a
    restored system: positions are checked, not lag)."""
    end = time.time() + deadline_s
    while True:
        cp = h.tashanctl('verify')
        if cp.returncode == 0 or time.time() > end:
            break
        time.sleep(0.5)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert 'verify: clean' in cp.stdout, cp.stdout


# ----------------------------------------------------------------------
#  tashanctl as a Unix tool

def test_every_command_takes_help(h):
    top = ctl_bare(h, '--help')
    assert top.returncode == 0, top.stderr
    for cmd in COMMANDS:
        assert re.search(r'^  %s\b' % cmd, top.stdout, re.M), (cmd, top.stdout)
    assert '--assign' in top.stdout and '--sample' in top.stdout, top.stdout
    for cmd in COMMANDS:
        for args in ([cmd, '--help'], [cmd, 'x', '-h'], ['--data-dir', h.data_dir, cmd, '--help']):
            cp = ctl_bare(h, *args)
            assert cp.returncode == 0, (args, cp.stderr)
            assert cp.stdout.startswith('Usage: tashanctl [options] %s' % cmd), (args, cp.stdout)
    # --help is never a path: nothing named --help appears.
    assert not os.path.exists(os.path.join(h.data_dir, '--help'))


def test_argument_errors_exit_2_with_one_line(h):
    cases = [('backup',), ('backup', 'a', 'b'), ('restore',), ('restore', '-x'),
             ('status', 'extra'), ('verify', 'extra'), ('keygen', 'extra'),
             ('match',), ('demo', '--seed', 'x'), ('frobnicate',), ('--bogus', 'status'),
             ()]
    for args in cases:
        cp = h.tashanctl(*args)
        assert cp.returncode == 2, (args, cp.returncode, cp.stdout, cp.stderr)
        lines = cp.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('tashanctl'), (args, cp.stderr)


def test_options_after_the_command(h):
    cp = ctl_bare(h, 'status', '--data-dir', h.data_dir, '--listen', h.listen)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert 'gateway' in cp.stdout and 'answers 200' in cp.stdout, cp.stdout


def test_status_without_a_data_dir_says_so_at_once(h):
    started = time.time()
    cp = ctl_bare(h, '--data-dir', os.path.join(h.data_dir, 'nowhere'), 'status')
    assert time.time() - started < 2, 'status waited'
    assert cp.returncode == 1
    assert 'run/*.sock does not exist' in cp.stderr and '--data-dir' in cp.stderr, cp.stderr
    assert not os.path.exists(os.path.join(h.data_dir, 'nowhere'))


def test_status_says_why_a_daemon_is_down(h):
    h.kill('volunteers', signal.SIGKILL)
    try:
        cp = h.tashanctl('status')
        assert cp.returncode == 1
        row = [l for l in cp.stdout.splitlines() if l.startswith('volunteers')]
        assert row and ('connection refused' in row[0] or 'does not exist' in row[0]), cp.stdout
        assert re.search(r'^gateway\s+yes', cp.stdout, re.M), cp.stdout
        assert '18446744073709551615' not in cp.stdout
    finally:
        h.start('volunteers')


# ----------------------------------------------------------------------
#  Backups

def _wait_ledger_applied(h, deadline_s=10):
    """A household made and the ledger caught up on residents' events."""
    _writer_once(h)
    end = time.time() + deadline_s
    while time.time() < end:
        row = [l for l in h.tashanctl('status').stdout.splitlines() if l.startswith('ledger')]
        if row and 'residents=0' in row[0]:
            return
        time.sleep(0.2)
    raise AssertionError('the ledger did not catch up on residents')


def test_backup_modes_manifest_and_refusals(h):
    _wait_ledger_applied(h)
    path = take_backup(h, 'modes')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    for svc in harness.SERVICES:
        d = os.path.join(path, svc)
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
        for name in os.listdir(d):
            mode = stat.S_IMODE(os.stat(os.path.join(d, name)).st_mode)
            assert mode == 0o600, (d, name, oct(mode))
    with open(os.path.join(path, 'MANIFEST')) as f:
        manifest = f.read()
    assert stat.S_IMODE(os.stat(os.path.join(path, 'MANIFEST')).st_mode) == 0o600
    assert manifest.startswith('tashan-backup 1\n') and manifest.endswith('complete yes\n')
    for svc in harness.SERVICES:
        assert re.search(r'^store %s schema_version=\d+ generation=[0-9a-f]{16} outbox_head=\d+$'
                         % svc, manifest, re.M), manifest
        assert re.search(r'^file %s data.mdb size_bytes=\d+ sha256=[0-9a-f]{64}$' % svc,
                         manifest, re.M), manifest
    assert re.search(r'^file residents id_hash.key ', manifest, re.M), manifest
    assert re.search(r'^file gateway ops.token ', manifest, re.M), manifest
    assert re.search(r'^position ledger residents applied=\d+ head=\d+ generation=[0-9a-f]{16}$',
                     manifest, re.M), manifest
    # Into the same place again: a sentence, not an HTTP code.
    cp = h.tashanctl('backup', path)
    assert cp.returncode == 1
    assert 'already holds a backup (data.mdb); choose an empty directory' in cp.stderr, cp.stderr
    assert not re.search(r'\b409\b', cp.stderr), cp.stderr
    # Into a live store, or the data dir itself.
    for target in (os.path.join(h.data_dir, 'ledger', 'b'), h.data_dir):
        cp = h.tashanctl('backup', target)
        assert cp.returncode == 1 and 'live data dir' in cp.stderr, cp.stderr
    assert not os.path.exists(os.path.join(h.data_dir, 'ledger', 'b'))
    # Nothing is left in the backup root but the backups.
    leftovers = [n for n in os.listdir(os.path.join(h.data_dir, 'backups')) if n.startswith('.tmp')]
    assert leftovers == [], leftovers


def _writer(h, stop, errors):
    """Households in a new building, as fast as one client goes: residents'
    events flow to every consumer while the backup runs."""
    number = 'ld%d' % random.randrange(10 ** 6)
    try:
        h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G1'}, expect=201)
        room = 100
        while not stop.is_set() and room < 2000:
            room += 1
            h.call('POST', '/v1/households', {
                'building': number, 'room': str(room),
                'members': [{'name': '测试%d' % room, 'birth_year': 1980}]}, expect=201)
    except Exception as exc:         # reported by the test, not lost in a thread
        errors.append(exc)


def test_backup_under_load_restores_clean(h):
    for attempt in range(3):
        stop, errors = threading.Event(), []
        writer = threading.Thread(target=_writer, args=(h, stop, errors))
        writer.start()
        time.sleep(random.uniform(0.05, 1.0))
        try:
            path = take_backup(h, 'load%d' % attempt)
        finally:
            time.sleep(random.uniform(0, 0.5))
            stop.set()
            writer.join()
        assert not errors, errors
        verify_clean(h)
        h.stop_daemons()
        cp = h.tashanctl('restore', path)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        h.start_all()
        h.wait_healthy()
        verify_clean(h)
        # The restored system takes writes, and its events flow.
        _writer_once(h)
        verify_clean(h)


def _writer_once(h):
    number = 'af%d' % random.randrange(10 ** 6)
    h.call('POST', '/v1/buildings', {'number': number, 'grid': 'G2'}, expect=201)
    h.call('POST', '/v1/households', {'building': number, 'room': '101',
                                      'members': [{'name': '恢复后', 'birth_year': 1990}]},
           expect=201)


# ----------------------------------------------------------------------
#  Bad backups

def _set_schema_version(path, svc, version):
    """Rewrite a store's meta schema_version in place (LMDB has no page
    checksums) and the manifest to match: only the schema check trips."""
    mdb = os.path.join(path, svc, 'data.mdb')
    with open(mdb, 'rb') as f:
        data = bytearray(f.read())
    at = data.find(b'schema_version')
    assert at > 0
    data[at + 14:at + 18] = version.to_bytes(4, 'big')
    with open(mdb, 'wb') as f:
        f.write(data)
    _rewrite_manifest(path, svc, 'data.mdb',
                      lambda line: re.sub(r'schema_version=\d+', 'schema_version=%d' % version, line))


def _rewrite_manifest(path, svc, file_name, store_line=None):
    """Recompute size and sha256 of svc/file_name in MANIFEST."""
    mpath = os.path.join(path, 'MANIFEST')
    with open(os.path.join(path, svc, file_name), 'rb') as f:
        blob = f.read()
    out = []
    with open(mpath) as f:
        for line in f:
            if line.startswith('file %s %s ' % (svc, file_name)):
                line = 'file %s %s size_bytes=%d sha256=%s\n' % (
                    svc, file_name, len(blob), hashlib.sha256(blob).hexdigest())
            if store_line and line.startswith('store %s ' % svc):
                line = store_line(line)
            out.append(line)
    with open(mpath, 'w') as f:
        f.writelines(out)


def _truncate(path, fix_manifest):
    mdb = os.path.join(path, 'ledger', 'data.mdb')
    with open(mdb, 'r+b') as f:
        f.truncate(os.path.getsize(mdb) // 2 // 4096 * 4096)
    if fix_manifest:
        _rewrite_manifest(path, 'ledger', 'data.mdb')


BAD_BACKUPS = {
    'wrong schema version': (lambda p: _set_schema_version(p, 'merchants', 999), 'schema version'),
    'truncated data.mdb': (lambda p: _truncate(p, False), 'truncated'),
    'altered key file': (lambda p: _append(p, 'merchants', 'code.key'), 'not the file the backup wrote'),
    'truncated data.mdb, manifest to match': (lambda p: _truncate(p, True), 'truncated'),
    'missing manifest': (lambda p: os.unlink(os.path.join(p, 'MANIFEST')), 'no MANIFEST'),
    'incomplete': (lambda p: _mark_incomplete(p), 'incomplete backup'),
    'missing key file': (lambda p: os.unlink(os.path.join(p, 'residents', 'id_hash.key')),
                         'id_hash.key is missing'),
    'missing store': (lambda p: shutil.rmtree(os.path.join(p, 'volunteers')), 'missing'),
}


def _append(path, svc, name):
    with open(os.path.join(path, svc, name), 'ab') as f:
        f.write(b'x')


def _mark_incomplete(path):
    mpath = os.path.join(path, 'MANIFEST')
    with open(mpath) as f:
        text = f.read()
    with open(mpath, 'w') as f:
        f.write(text.replace('complete yes\n', 'complete no the copy was interrupted\n'))


def test_bad_backups_are_refused_with_live_data_untouched(h):
    good = take_backup(h, 'good')
    # Running: refused before the backup is even looked at.
    cp = h.tashanctl('restore', good)
    assert cp.returncode == 1 and 'stop every daemon' in cp.stderr, cp.stderr
    h.stop_daemons()
    try:
        before, moved = live_digest(h), asides(h)
        for kind, (damage, message) in BAD_BACKUPS.items():
            bad = os.path.join(h.data_dir, 'backups', 'bad-' + kind.replace(' ', '-'))
            shutil.copytree(good, bad)
            damage(bad)
            cp = h.tashanctl('restore', bad)
            assert cp.returncode == 1, (kind, cp.stdout, cp.stderr)
            assert 'restore refused, nothing changed' in cp.stderr, (kind, cp.stderr)
            assert message in cp.stderr, (kind, message, cp.stderr)
            assert live_digest(h) == before, kind
            assert asides(h) == moved, kind
        with open(os.path.join(h.data_dir, 'logs', 'tashanctl.log')) as f:
            logged = f.read()
        assert logged.count('event=restore_refused') >= len(BAD_BACKUPS), logged
    finally:
        h.start_all()
        h.wait_healthy()


def test_restore_refused_while_up_sh_holds_the_data_dir(h):
    good = take_backup(h, 'uplock')
    h.stop_daemons()
    lock = os.path.join(h.data_dir, 'run', 'up.lock')
    # Its own process group: flock's child (sleep) holds the lock too, and
    # killing flock alone left it held for the tests after this one.
    holder = subprocess.Popen(['flock', '-n', lock, 'sleep', '30'], start_new_session=True)
    try:
        time.sleep(0.3)
        before, moved = live_digest(h), asides(h)
        cp = h.tashanctl('restore', good)
        assert cp.returncode == 1 and 'up.sh' in cp.stderr, cp.stderr
        assert live_digest(h) == before and asides(h) == moved
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
        h.start_all()
        h.wait_healthy()


def test_restores_in_one_second_keep_their_asides_apart(h):
    """A restore whose before-restore-<time> dir exists already (another
    restore in the same second) moves the live data into a new dir of its
    own (-<time>-<n>), not into the other one: it used to fail midway
    ("cannot move ... aside: Directory not empty"), seen in CI."""
    good = take_backup(h, 'samesecond')
    h.stop_daemons()
    try:
        now = int(time.time())
        taken = []
        for t in range(now, now + 5):       # whichever second it runs in
            d = os.path.join(h.data_dir, 'before-restore-%d' % t)
            os.makedirs(os.path.join(d, 'residents'))
            with open(os.path.join(d, 'residents', 'mark'), 'w') as f:
                f.write('another restore')
            taken.append(os.path.basename(d))
        moved = set(asides(h))
        cp = h.tashanctl('restore', good)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        new = set(asides(h)) - moved
        assert len(new) == 1, new
        aside = new.pop()
        assert re.fullmatch(r'before-restore-\d+-2', aside), aside
        assert aside in cp.stdout, cp.stdout
        assert os.path.isfile(os.path.join(h.data_dir, aside, 'residents', 'data.mdb'))
        for d in taken:
            with open(os.path.join(h.data_dir, d, 'residents', 'mark')) as f:
                assert f.read() == 'another restore'
            assert os.listdir(os.path.join(h.data_dir, d, 'residents')) == ['mark'], d
    finally:
        h.start_all()
        h.wait_healthy()
    verify_clean(h)


# ----------------------------------------------------------------------
#  Generations

def test_generation_mismatch_stops_consumers_loudly(h):
    _writer_once(h)
    verify_clean(h)                  # every consumer has its producers' generation
    # residents comes back with a store of another generation (recreated).
    h.kill('residents', signal.SIGTERM)
    live = os.path.join(h.data_dir, 'residents')
    kept = os.path.join(h.data_dir, 'residents-kept')
    os.rename(live, kept)
    try:
        h.start('residents', wait=False)
        deadline = time.time() + 15
        while time.time() < deadline:
            if 'event=consumer_stopped producer=residents' in h.read_log('ledger'):
                break
            time.sleep(0.2)
        log = h.read_log('ledger')
        assert 'event=consumer_stopped producer=residents' in log, log[-3000:]
        assert 'another generation' in log and 'resync' in log
        cp = h.tashanctl('status')
        assert 'STOPPED' in cp.stdout and 'consuming from residents stopped' in cp.stdout, cp.stdout
        cp = h.tashanctl('verify')
        assert cp.returncode == 1, cp.stdout
        assert 'ledger stopped consuming from residents' in cp.stdout, cp.stdout
    finally:
        h.kill('residents', signal.SIGTERM)
        shutil.rmtree(live)
        os.rename(kept, live)
        h.start('residents', wait=False)
        for svc in ('ledger', 'merchants', 'proposals', 'volunteers'):
            h.restart(svc)
        h.wait_healthy()
    verify_clean(h)


if __name__ == '__main__':
    harness.main(globals())

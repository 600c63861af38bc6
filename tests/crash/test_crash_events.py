#!/usr/bin/env python3
"""Exactly-once delivery under SIGKILL.

A writer streams 50,000 idempotent writes to a producer daemon; each write
stores a key and emits one event in the same LMDB transaction. A consumer
daemon pulls the events and applies each with its position in one
transaction. Meanwhile this driver SIGKILLs the consumer at random moments
and restarts it, and kills the producer once. At the end the consumer must
have applied every acknowledged event exactly once.

usage: test_crash_events.py CRASH_DAEMON CRASH_WRITER [COUNT]
"""
import atexit
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

daemon, writer = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else int(os.environ.get("CRASH_EVENTS", "50000"))
rng = random.Random(int(os.environ.get("CRASH_SEED", "7")))
data = tempfile.mkdtemp(prefix="tashan-crash-")
logs = open(os.path.join(data, "daemons.log"), "ab")
producer_ep = "ipc://%s/run/volunteers.sock" % data
consumer_ep = "ipc://%s/run/proposals.sock" % data
passed = failed = 0


def start(role):
    return subprocess.Popen([daemon, role, "--data-dir", data, "--log-level", "warn"],
                            stdout=logs, stderr=logs)


def stats(endpoint):
    for _ in range(50):
        r = subprocess.run([writer, "stats", endpoint], capture_output=True, text=True)
        if r.returncode == 0:
            return [int(x) for x in r.stdout.split()]
        time.sleep(0.1)
    raise RuntimeError("no stats from %s: %s" % (endpoint, r.stderr))


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s %s" % (name, detail))
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


producer = start("producer")
consumer = start("consumer")


def _reap_on_exit():
    # Whatever happens (an exception included), no daemon outlives the test.
    for p in (producer, consumer):
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_reap_on_exit)
time.sleep(0.3)
w = subprocess.Popen([writer, producer_ep, str(count), "64", "400"],
                     stdout=subprocess.PIPE, stderr=logs, text=True)
consumer_kills = producer_kills = 0
start_s = time.time()
while w.poll() is None and time.time() - start_s < 420:
    time.sleep(rng.uniform(0.05, 0.6))
    consumer.send_signal(signal.SIGKILL)
    consumer.wait()
    consumer_kills += 1
    time.sleep(rng.uniform(0.0, 0.2))
    consumer = start("consumer")
    if producer_kills == 0 and consumer_kills == 5:
        producer.send_signal(signal.SIGKILL)
        producer.wait()
        producer_kills += 1
        time.sleep(0.3)
        producer = start("producer")
out, _ = w.communicate(timeout=60)
check("writer acknowledged every event", w.returncode == 0, out.strip())

# Let the consumer catch up, then compare.
head = stats(producer_ep)[3]
deadline = time.time() + 60
while time.time() < deadline:
    distinct, duplicates, total, position = stats(consumer_ep)
    if position >= head:
        break
    time.sleep(0.2)
check("producer emitted one event per key", head == count, "head=%d count=%d" % (head, count))
check("consumer caught up", position == head, "position=%d head=%d" % (position, head))
check("every acknowledged event applied", distinct == count, "distinct=%d" % distinct)
check("no event applied twice", duplicates == 0 and total == count,
      "duplicates=%d total=%d" % (duplicates, total))
print("consumer kills=%d producer kills=%d elapsed=%.1fs"
      % (consumer_kills, producer_kills, time.time() - start_s))

for p in (producer, consumer):
    p.send_signal(signal.SIGTERM)
for p in (producer, consumer):
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hung"
    check("clean stop", rc == 0, "rc=%s" % rc)
if failed == 0 and not os.environ.get("TASHAN_KEEP"):
    shutil.rmtree(data, ignore_errors=True)
else:
    print("data and logs kept in", data)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)

#!/usr/bin/env bash
#  tests/bench/compare.sh - tashan side by side with nginx and PostgreSQL
#
#  The targets of issue 16 are ratios, not absolute figures: the machine
#  is shared, so every figure is measured in one run, each load for the
#  same time with the same connection count:
#    nginx       a static 200 on loopback (wrk, --connections)
#    PostgreSQL  a throwaway cluster, pgbench 8 clients, a one-row INSERT
#                with synchronous_commit on (fsync on)
#    tashan      the real daemons and gateway (deploy/up.sh on a temp data
#                dir, the demo loaded), wrk, --connections, ops token:
#                  POST /v1/credit/evaluations  (a new idempotency key each)
#                  POST /v1/checkins            (a new checkin_id each)
#                  GET  /v1/households/{id}     (audited read)
#                  GET  /v1/credit/persons/{id}
#                  GET  /v1/credit/honor-board
#  and the memory of all daemons (the five and the gateway) after the
#  demo, the highest seen during the loads (sampled every second) and
#  after them. Prints a table and the ratios against the targets. Not
#  part of CI.
#
#  Memory is PSS (/proc/PID/smaps_rollup: Pss = Pss_Anon + Pss_File):
#  each page a process maps counted once, split among the processes that
#  map it. The target (64 MiB) is checked against the sum of PSS, the
#  memory the daemons hold together. The sum of VmRSS is printed beside
#  it but overstates that: every daemon maps the same shared libraries
#  (libzmq, libstdc++, libsodium, protobuf-c, libc: ~6.5 MB), which VmRSS
#  counts again in each of the six processes. Per daemon the table gives
#  VmRSS, RssAnon and RssFile (/proc/PID/status) and Pss, Pss_Anon and
#  Pss_File; the store's map (data.mdb, mapped by one daemon) is in its
#  RssFile and Pss_File alike, bounded by store.map_resident_mib.
#
#  usage: tests/bench/compare.sh [--seconds S] [--connections N]
#                                [--runs R] [--baseline DIR] [--keep]
#    --seconds S      each load runs S seconds (default 10)
#    --connections N  wrk connections for every HTTP load (default 32)
#    --runs R         repeat the whole set R times (default 1); the table
#                     then shows each run's figure and the median
#    --baseline DIR   also run a second tashan from the binaries in DIR
#                     (e.g. a build of main) on its own data dir, through
#                     the same loads in the same run: the before/after table
#    --keep           keep the temp dir (logs, data) and print its path
#  Environment: TASHAN_SKIP_INSTALL=1 (packages present), TASHAN_BIN_DIR
#  (binaries, default build/; build first with cmake), PG_BIN (default
#  /usr/lib/postgresql/15/bin). Run as root, PostgreSQL runs as the
#  'postgres' user (initdb refuses root).

set -uo pipefail
TS_PROG=compare.sh
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib.sh"

SECONDS_PER_LOAD=10
CONNECTIONS=32
RUNS=1
KEEP=0
PG_CLIENTS=8
SETTLE_S=1
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BIN_DIR=${TASHAN_BIN_DIR:-$TS_REPO_ROOT/build}
BASE_DIR=""
STARTUP_TIMEOUT_S=600           #  up.sh: daemons, demo, demo tokens

while (($#)); do
    case "$1" in
        --seconds) SECONDS_PER_LOAD=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --baseline) BASE_DIR=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^#  \{0,1\}//'; exit 0 ;;
        *) ts_die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ "$SECONDS_PER_LOAD" =~ ^[0-9]+$ ]] && ((SECONDS_PER_LOAD >= 1 && SECONDS_PER_LOAD <= 3600)) \
    || ts_die "--seconds must be 1..3600"
[[ "$CONNECTIONS" =~ ^[0-9]+$ ]] && ((CONNECTIONS >= 1 && CONNECTIONS <= 1000)) \
    || ts_die "--connections must be 1..1000"
[[ "$RUNS" =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 10)) || ts_die "--runs must be 1..10"

ts_install_packages base bench
for tool in wrk nginx python3 "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$PG_BIN/pgbench"; do
    command -v "$tool" >/dev/null 2>&1 || ts_die "$tool not found"
done
[[ -x "$BIN_DIR/tashan-gateway" ]] || ts_die "no $BIN_DIR/tashan-gateway: build first"
[[ -z "$BASE_DIR" || -x "$BASE_DIR/tashan-gateway" ]] \
    || ts_die "no $BASE_DIR/tashan-gateway (--baseline)"

TMP=$(mktemp -d /tmp/tashan-compare.XXXXXX) || ts_die "mktemp failed"
chmod 755 "$TMP"
PORT_NGINX=$((20000 + RANDOM % 10000))
PORT_PG=$((PORT_NGINX + 1))
#  The tashan instances: "new" (BIN_DIR), and "base" with --baseline.
INSTANCES=(new)
[[ -n "$BASE_DIR" ]] && INSTANCES+=(base)
declare -A UP_PID=() PORT=() TOKEN=() BINS=([new]=$BIN_DIR [base]=$BASE_DIR)
PORT[new]=$((PORT_NGINX + 2))
PORT[base]=$((PORT_NGINX + 3))
RSS_PID=""

cleanup () {
    [[ -n "$RSS_PID" ]] && kill "$RSS_PID" 2>/dev/null
    [[ -f "$TMP/nginx/nginx.pid" ]] && kill -QUIT "$(<"$TMP/nginx/nginx.pid")" 2>/dev/null
    if [[ -d "$TMP/pg/data" ]]; then
        s_pg "$PG_BIN/pg_ctl" -D "$TMP/pg/data" -m fast -w stop >/dev/null 2>&1
    fi
    local pid
    for pid in "${UP_PID[@]}"; do
        kill -INT "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if ((KEEP)); then ts_say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

#  Run a PostgreSQL tool: as 'postgres' when we are root.
s_pg () {
    if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# ---------------------------------------------------------------------------
#  The three systems.

start_nginx () {
    mkdir -p "$TMP/nginx"
    cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon on;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT_NGINX;
        location / { return 200 "ok\n"; }
    }
}
EOF
    nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" || ts_die "nginx did not start"
}

start_postgres () {
    mkdir -p "$TMP/pg"
    ((EUID == 0)) && chown postgres "$TMP/pg"
    s_pg "$PG_BIN/initdb" -D "$TMP/pg/data" -A trust -U bench >"$TMP/pg/initdb.log" 2>&1 \
        || ts_die "initdb failed (see $TMP/pg/initdb.log; --keep)"
    s_pg "$PG_BIN/pg_ctl" -D "$TMP/pg/data" -l "$TMP/pg/server.log" -w \
        -o "-p $PORT_PG -k $TMP/pg -c listen_addresses='' -c fsync=on -c synchronous_commit=on" \
        start >/dev/null || ts_die "PostgreSQL did not start (see $TMP/pg/server.log; --keep)"
    s_pg "$PG_BIN/psql" -q -h "$TMP/pg" -p "$PORT_PG" -U bench -d postgres -c \
        "CREATE TABLE evaluations (seq bigserial PRIMARY KEY, person_id text NOT NULL,
         rule text NOT NULL, idempotency_key text NOT NULL UNIQUE,
         at timestamptz NOT NULL DEFAULT now())" >/dev/null \
        || ts_die "psql CREATE TABLE failed"
    cat >"$TMP/pg/insert.sql" <<'EOF'
\set person random(1, 1000)
INSERT INTO evaluations (person_id, rule, idempotency_key)
    VALUES ('p' || :person, 'bench.plus', :client_id || '-' || nextval('evaluations_seq_seq'));
EOF
    chmod 644 "$TMP/pg/insert.sql"
}

#  start_tashan NAME: up.sh on $TMP/NAME with the binaries of BINS[NAME],
#  in the background; wait_tashan NAME waits for its demo and tokens.
start_tashan () {
    local name=$1 bin
    mkdir -p "$TMP/$name"
    #  A baseline of the daemons alone (no tashanctl) loads the demo with
    #  ours: it is a client of the daemons' own methods.
    if [[ ! -x "${BINS[$name]}/tashanctl" ]]; then
        mkdir -p "$TMP/bin-$name"
        for bin in "${BINS[$name]}"/tashan-*; do ln -s "$bin" "$TMP/bin-$name/"; done
        ln -s "$BIN_DIR/tashanctl" "$TMP/bin-$name/tashanctl"
        BINS[$name]=$TMP/bin-$name
    fi
    #  The per-token rate limit would cap the bench, not the system.
    printf 'rate_limit.token_per_s = 0\n' >"$TMP/tashan.conf"
    TASHAN_SKIP_INSTALL=1 TASHAN_SKIP_BUILD=1 TASHAN_BIN_DIR="${BINS[$name]}" \
        TASHAN_CONFIG="$TMP/tashan.conf" TASHAN_LOG_LEVEL=warn \
        "$TS_REPO_ROOT/deploy/up.sh" --data-dir "$TMP/$name/var" \
        --listen "127.0.0.1:${PORT[$name]}" >"$TMP/up-$name.log" 2>&1 &
    UP_PID[$name]=$!
    ts_say "tashan ($name, ${BINS[$name]}): starting, loading the demo"
}

wait_tashan () {
    local name=$1 waited=0
    until [[ -s "$TMP/$name/var/gateway/demo-tokens.txt" ]]; do
        kill -0 "${UP_PID[$name]}" 2>/dev/null || ts_die "up.sh ($name) exited (see $TMP/up-$name.log; --keep)"
        ((waited++ < STARTUP_TIMEOUT_S)) || ts_die "tashan ($name) not up in ${STARTUP_TIMEOUT_S}s"
        sleep 1
    done
    TOKEN[$name]=$(<"$TMP/$name/var/gateway/ops.token")
}

#  The daemons' pids of instance NAME: its up.sh's descendants named tashan-*.
tashan_pids () {
    local pid up=${UP_PID[$1]}
    for pid in $(ps -e -o pid= -o comm= | awk '$2 ~ /^tashan-/ { print $1 }'); do
        local p=$pid
        while ((p > 1)); do
            ((p == up)) && { echo "$pid"; break; }
            p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 1)
        done
    done
}

#  One daemon's memory in KiB: "comm VmRSS RssAnon RssFile Pss Pss_Anon
#  Pss_File" (/proc/PID/status and /proc/PID/smaps_rollup); nothing when
#  it has gone.
daemon_mem () {
    local pid=$1
    awk -v name="$(cat "/proc/$pid/comm" 2>/dev/null)" '
        FILENAME ~ /status$/ && /^VmRSS:/ { rss = $2 }
        FILENAME ~ /status$/ && /^RssAnon:/ { anon = $2 }
        FILENAME ~ /status$/ && /^RssFile:/ { file = $2 }
        FILENAME ~ /rollup$/ && /^Pss:/ { pss = $2 }
        FILENAME ~ /rollup$/ && /^Pss_Anon:/ { pss_anon = $2 }
        FILENAME ~ /rollup$/ && /^Pss_File:/ { pss_file = $2 }
        END { if (name != "") print name, rss + 0, anon + 0, file + 0, pss + 0,
                                   pss_anon + 0, pss_file + 0 }' \
        "/proc/$pid/status" "/proc/$pid/smaps_rollup" 2>/dev/null
}

#  The daemons' memory summed, in KiB (instance NAME): "VmRSS PSS".
tashan_mem_kib () {
    local pid
    for pid in $(tashan_pids "$1"); do daemon_mem "$pid"; done \
        | awk '{ rss += $2; pss += $5 } END { print rss + 0, pss + 0 }'
}

#  The per-daemon table of instance NAME after WHEN (demo, loads), and
#  its sums: the rows kept in $TMP/mem-NAME-WHEN.txt for the report.
mem_table () {
    local name=$1 when=$2 pid
    for pid in $(tashan_pids "$name"); do daemon_mem "$pid"; done | sort >"$TMP/mem-$name-$when.txt"
    printf '\nmemory per daemon (%s, after the %s), KiB\n' "$name" "$when"
    awk '{ printf "%-18s%9d%9d%9d%9d%9d%9d\n", $1, $2, $3, $4, $5, $6, $7
           for (i = 2; i <= 7; i++) sum [i] += $i }
         BEGIN { printf "%-18s%9s%9s%9s%9s%9s%9s\n", "daemon", "VmRSS", "RssAnon",
                 "RssFile", "Pss", "Pss_Anon", "Pss_File" }
         END { printf "%-18s%9d%9d%9d%9d%9d%9d\n", "all", sum [2], sum [3], sum [4],
               sum [5], sum [6], sum [7] }' "$TMP/mem-$name-$when.txt"
}

#  Sample every instance's sums every second; the highest of each ends
#  in $TMP/mem-NAME.max ("VmRSS PSS", each its own maximum).
start_mem_sampler () {
    local name
    for name in "${INSTANCES[@]}"; do echo "0 0" >"$TMP/mem-$name.max"; done
    (
        declare -A max_rss=() max_pss=()
        local rss pss
        while sleep 1; do
            for name in "${INSTANCES[@]}"; do
                read -r rss pss < <(tashan_mem_kib "$name")
                ((rss > ${max_rss[$name]:-0})) && max_rss[$name]=$rss
                ((pss > ${max_pss[$name]:-0})) && max_pss[$name]=$pss
                echo "${max_rss[$name]:-0} ${max_pss[$name]:-0}" >"$TMP/mem-$name.max"
            done
        done
    ) &
    RSS_PID=$!
}

# ---------------------------------------------------------------------------
#  What the loads touch: ids from the demo (persons, households, one
#  merchant with a service), and a rule without a cap for the evaluations.

discover () {
    local name=$1
    python3 - "${PORT[$name]}" "${TOKEN[$name]}" "$TMP/ids-$name.lua" <<'EOF' \
        || ts_die "reading the demo's ids failed ($name)"
import json, sys, urllib.request
port, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
call("PUT", "/v1/credit/rules/bench.plus",
     {"code": "bench.plus", "points": 1, "roles": ["ops", "panel"],
      "description": "compare.sh"})
households = [h["id"] for h in call("GET", "/v1/households?page_size=500")["households"]
              if not h["archived"]]
persons = []
for hid in households[:100]:
    persons += [m["id"] for m in call("GET", f"/v1/households/{hid}")["members"]
                if not m["archived"]]
merchant, service = None, None
for m in call("GET", "/v1/merchants?page_size=50")["merchants"]:
    if m["services"] and not m["suspended"]:
        merchant, service = m["id"], m["services"][0]
        break
assert households and persons and merchant, (len(households), len(persons), merchant)
#  LuaJIT has no \u escapes: UTF-8 as it is.
text = lambda x: json.dumps(x, ensure_ascii=False)
lua = lambda xs: "{" + ",".join(text(x) for x in xs) + "}"
with open(out, "w") as f:
    f.write(f"households = {lua(households)}\npersons = {lua(persons)}\n")
    f.write(f"merchant = {text(merchant)}\nservice = {text(service)}\n")
print(f"{len(households)} households, {len(persons)} persons, merchant {merchant} '{service}'")
EOF
}

#  write_lua INSTANCE KIND RUN: the wrk script of one tashan load, a fresh
#  idempotency key per request for the writes, ids in rotation for reads.
write_lua () {
    cat "$TMP/ids-$1.lua" >"$TMP/load.lua"
    cat >>"$TMP/load.lua" <<EOF
local kind, token, run = "$2", "${TOKEN[$1]}", "$3"
local threads, counter = 0, 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function request()
    counter = counter + 1
    local h = { ["Authorization"] = "Bearer " .. token,
                ["Content-Type"] = "application/json" }
    if kind == "evaluations" then
        local body = string.format(
            '{"person_id":"%s","rule":"bench.plus","idempotency_key":"cmp-%s-%d-%d"}',
            persons[counter % #persons + 1], run, tid, counter)
        return wrk.format("POST", "/v1/credit/evaluations", h, body)
    elseif kind == "checkins" then
        local body = string.format(
            '{"checkin_id":"cmp-%s-%d-%d","merchant_id":"%s","person_id":"%s",' ..
            '"service":"%s","override_reason":"compare.sh"}',
            run, tid, counter, merchant, persons[counter % #persons + 1], service)
        return wrk.format("POST", "/v1/checkins", h, body)
    elseif kind == "household" then
        return wrk.format("GET", "/v1/households/" .. households[counter % #households + 1], h)
    elseif kind == "credit" then
        return wrk.format("GET", "/v1/credit/persons/" .. persons[counter % #persons + 1], h)
    else
        return wrk.format("GET", "/v1/credit/honor-board", h)
    end
end
EOF
}

# ---------------------------------------------------------------------------
#  The loads. Each prints one line: name rate p50_ms p99_ms errors.

#  wrk's "Latency Distribution" gives 50% and 99% in us/ms/s.
wrk_line () {
    local name=$1 out=$2
    python3 - "$name" "$out" <<'EOF'
import re, sys
name, text = sys.argv[1], open(sys.argv[2]).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m[1]) * {"us": 0.001, "ms": 1, "s": 1000}[m[2]]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text)[1])
p50 = ms(re.search(r"\n\s+50%\s+(\S+)", text)[1])
p99 = ms(re.search(r"\n\s+99%\s+(\S+)", text)[1])
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
errors = (int(bad[1]) if bad else 0) + (sum(map(int, err.groups())) if err else 0)
print(f"{name} {rate:.0f} {p50:.2f} {p99:.2f} {errors}")
EOF
}

#  Before each load: write back every dirty page on the machine and let
#  the disk's queue drain, so that one load's leftovers (PostgreSQL's
#  table files and pgbench's log, the last load's pages) are not flushed
#  by the kernel during the next load's fdatasyncs. Every load, the
#  yardsticks included, starts from the same quiet disk.
settle () {
    sync
    sleep "$SETTLE_S"
}

run_wrk () {
    local name=$1 url=$2 script=${3:-}
    settle
    local out="$TMP/wrk-$name.txt" args=(-t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_LOAD}s" --latency)
    [[ -n "$script" ]] && args+=(-s "$script")
    wrk "${args[@]}" "$url" >"$out" 2>&1 || ts_die "wrk $name failed (see $out; --keep)"
    #  wrk runs a plain GET / when its script does not load: not our load.
    if [[ -n "$script" ]] && grep -q "$script" "$out"; then
        ts_die "wrk $name: the script failed: $(grep -m1 "$script" "$out")"
    fi
    wrk_line "$name" "$out"
}

run_pgbench () {
    local out="$TMP/pgbench.txt"
    settle
    rm -f "$TMP"/pg/pgbench_log.*
    (cd "$TMP/pg" && s_pg "$PG_BIN/pgbench" -n -h "$TMP/pg" -p "$PORT_PG" -U bench \
        -c "$PG_CLIENTS" -j 2 -T "$SECONDS_PER_LOAD" -f "$TMP/pg/insert.sql" \
        -l --log-prefix="$TMP/pg/pgbench_log" postgres) >"$out" 2>&1 \
        || ts_die "pgbench failed (see $out; --keep)"
    #  The per-transaction log: field 3 is the latency in us.
    python3 - "$out" "$TMP"/pg/pgbench_log.* <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
tps = float(re.search(r"tps = ([\d.]+)", text)[1])
lat = sorted(int(l.split()[2]) for f in sys.argv[2:] for l in open(f))
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000
fail = re.search(r"number of failed transactions: (\d+)", text)
print(f"postgres {tps:.0f} {pick(0.5):.2f} {pick(0.99):.2f} {int(fail[1]) if fail else 0}")
EOF
}

#  One run: the yardsticks, then each load against each instance in turn
#  (new and base alternate, so drift in the machine's load hits both).
one_run () {
    local run=$1 kind name suffix
    run_wrk nginx "http://127.0.0.1:$PORT_NGINX/"
    run_pgbench
    for kind in evaluations checkins household credit board; do
        for name in "${INSTANCES[@]}"; do
            suffix=""
            [[ $name == base ]] && suffix=@base
            write_lua "$name" "$kind" "r$run$$"
            run_wrk "$kind$suffix" "http://127.0.0.1:${PORT[$name]}/" "$TMP/load.lua"
        done
    done
}

# ---------------------------------------------------------------------------
#  The table: per load each run's rate and the medians; then the ratios.

report () {
    python3 - "$RUNS" "$CONNECTIONS" "$SECONDS_PER_LOAD" "$TMP" "${INSTANCES[@]}" <<'EOF'
import statistics, sys
runs, conns, secs = (int(x) for x in sys.argv[1:4])
tmp, instances = sys.argv[4], sys.argv[5:]
rows = {}
for line in open(f"{tmp}/results.txt"):
    name, rate, p50, p99, err = line.split()
    rows.setdefault(name, []).append((float(rate), float(p50), float(p99), int(err)))
med = lambda xs: statistics.median(xs)
print(f"\n{runs} run(s), {secs} s per load, wrk {conns} connections, pgbench 8 clients")
print(f"{'load':<14}{'req/s (median)':>16}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}   runs")
for name, r in rows.items():
    print(f"{name:<14}{med([x[0] for x in r]):>16.0f}{med([x[1] for x in r]):>9.2f}"
          f"{med([x[2] for x in r]):>9.2f}{sum(x[3] for x in r):>8}   "
          + " ".join(f"{x[0]:.0f}" for x in r))
rate = {n: med([x[0] for x in r]) for n, r in rows.items()}
base = [n for n in rows if n.endswith("@base")]
if base:
    print("\nbefore (--baseline) / after, medians")
    print(f"{'load':<14}{'before req/s':>14}{'after req/s':>13}{'after/before':>14}"
          f"{'p99 before':>12}{'p99 after':>11}")
    for b in base:
        n = b[:-len("@base")]
        print(f"{n:<14}{rate[b]:>14.0f}{rate[n]:>13.0f}{rate[n] / rate[b]:>14.2f}"
              f"{med([x[2] for x in rows[b]]):>12.2f}{med([x[2] for x in rows[n]]):>11.2f}")
p99 = {n: med([x[2] for x in r]) for n, r in rows.items()}
errs = {n: sum(x[3] for x in r) for n, r in rows.items()}
print("\ntargets (issue 16)")
def target(label, ok, text):
    print(f"  [{'met' if ok else 'NOT met'}] {label}: {text}")
for w in ("evaluations", "checkins"):
    vp, vn = rate[w] / rate["postgres"], rate[w] / rate["nginx"]
    target(f"{w} vs PostgreSQL", vp >= 2.5 and errs[w] == 0, f"{vp:.2f}x (>= 2.5x)")
    target(f"{w} vs nginx", vn >= 0.30 and errs[w] == 0, f"{100 * vn:.0f} % (>= 30 %)")
    target(f"{w} p99", p99[w] < 5, f"{p99[w]:.2f} ms (< 5 ms)")
for w in ("household", "credit", "board"):
    v = rate[w] / rate["nginx"]
    target(f"{w} read vs nginx", v >= 0.5 and errs[w] == 0, f"{100 * v:.0f} % (>= 50 %)")
#  Memory of all daemons, MiB: the sums of the tables (mem_table) after
#  the demo and after the loads, and the sampler's highest during them.
def sums(name, when):
    cols = [0] * 6
    for line in open(f"{tmp}/mem-{name}-{when}.txt"):
        cols = [a + int(b) for a, b in zip(cols, line.split()[1:7])]
    return cols[0] / 1024, cols[3] / 1024      # VmRSS, Pss
mem = {}
for name in instances:
    top = [int(x) / 1024 for x in open(f"{tmp}/mem-{name}.max").read().split()]
    mem[name] = {"demo": sums(name, "demo"), "max": tuple(top),
                 "loads": sums(name, "loads")}
print("\nmemory of all daemons, MiB (PSS: each shared page counted once; "
      "VmRSS: shared libraries counted in every process)")
print(f"{'':<14}{'':>8}{'after demo':>12}{'max loads':>11}{'after loads':>13}")
for name in instances:
    for i, what in ((1, "PSS"), (0, "VmRSS")):
        print(f"{name:<14}{what:>8}" + "".join(f"{mem[name][w][i]:>{n}.1f}"
              for w, n in (("demo", 12), ("max", 11), ("loads", 13))))
pss = {w: mem["new"][w][1] for w in ("demo", "max", "loads")}
target("memory of all daemons (sum of PSS)", max(pss.values()) < 64,
       f"{pss['demo']:.1f} MiB after the demo, {pss['max']:.1f} MiB at most during "
       f"the loads, {pss['loads']:.1f} after (< 64 MiB; VmRSS sum at most "
       f"{mem['new']['max'][0]:.1f})")
EOF
}

for name in "${INSTANCES[@]}"; do start_tashan "$name"; done
start_nginx
start_postgres
for name in "${INSTANCES[@]}"; do wait_tashan "$name"; discover "$name"; done
for name in "${INSTANCES[@]}"; do mem_table "$name" demo; done
start_mem_sampler
: >"$TMP/results.txt"
for ((run = 1; run <= RUNS; run++)); do
    ts_say "run $run of $RUNS"
    one_run "$run" | tee -a "$TMP/results.txt"
done
sleep 1.5
for name in "${INSTANCES[@]}"; do mem_table "$name" loads; done
report

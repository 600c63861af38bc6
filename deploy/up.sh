#!/usr/bin/env bash
#  deploy/up.sh - build tashan and run the whole system in the foreground
#
#  Installs missing Debian packages, builds build/ incrementally, starts the
#  domain daemons (services/services.list) and the gateway on one data dir,
#  waits for /healthz, creates the demo community on first run, then
#  supervises: a daemon that dies is restarted (with a back-off when it keeps dying). Ctrl-C or
#  SIGTERM stops everything cleanly. Run with --help for the flags.
#
#  Environment (for tests and special setups; none is needed normally):
#    TASHAN_SKIP_INSTALL=1     do not check or install packages
#    TASHAN_SKIP_BUILD=1       do not run cmake
#    TASHAN_BIN_DIR=DIR        take the binaries from DIR (default build/)
#    TASHAN_JOBS=N             build jobs (default: nproc)
#    TASHAN_CONFIG=FILE        pass --config FILE to every daemon and tashanctl
#    TASHAN_LOG_LEVEL=L        pass --log-level L to every daemon
#    TASHAN_HEALTH_TIMEOUT=S   seconds to wait for /healthz 200 (default 30)
#    TASHAN_DEMO_SEED=N        pass --seed N to tashanctl demo

set -uo pipefail

#  Started in the background by a non-interactive shell (`up.sh &` in a
#  script), we would inherit SIGINT ignored, and bash cannot trap a signal
#  ignored on entry: start again with SIGINT back to its default, so that
#  `kill -INT` stops us cleanly as Ctrl-C does.
if [[ -z "${TS_UP_SIGINT_RESET:-}" ]] \
    && sigign=$(awk '/^SigIgn:/ { print $2 }' "/proc/$$/status" 2>/dev/null) \
    && [[ "$sigign" =~ ^[0-9a-fA-F]+$ ]] && (((16#$sigign & 2) != 0)) \
    && env --default-signal=INT true 2>/dev/null; then
    TS_UP_SIGINT_RESET=1 exec env --default-signal=INT bash "${BASH_SOURCE[0]}" "$@"
fi
unset TS_UP_SIGINT_RESET

TS_PROG=up.sh
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

#  The domain daemons of services/services.list, in start order.
mapfile -t DOMAIN_SERVICES < <(ts_services)
((${#DOMAIN_SERVICES[@]} > 0)) || ts_die "no daemon listed in $TS_SERVICES_LIST"
SERVICES=("${DOMAIN_SERVICES[@]}" gateway)
#  Stop order: the gateway first, so no new request reaches a daemon that
#  is going away; then the daemons in reverse start order.
STOP_ORDER=(gateway)
for ((i = ${#DOMAIN_SERVICES[@]} - 1; i >= 0; i--)); do
    STOP_ORDER+=("${DOMAIN_SERVICES[i]}")
done

POLL_S=0.5                      #  supervision poll period
STOP_TIMEOUT_MS=10000           #  SIGTERM → SIGKILL
LOOP_WINDOW_MS=10000            #  crash-loop detection window
LOOP_RESTARTS=5                 #  restarts allowed in the window
STABLE_MS=60000                 #  up this long → forget the crash history
BACKOFF_FIRST_S=5
BACKOFF_MAX_S=60

usage () {
    cat <<EOF
usage: deploy/up.sh [--data-dir DIR] [--listen HOST:PORT] [--no-demo] [--help]

Build tashan and run all its daemons in the foreground until Ctrl-C.

  --data-dir DIR       where every daemon keeps its data, pid files and logs
                       (default ./var, relative to the current directory)
  --listen HOST:PORT   the gateway's HTTP address (default 127.0.0.1:8080)
  --no-demo            do not create the demo community on first run
  -h, --help           this text

Ctrl-C or SIGTERM stops every daemon (SIGTERM, then SIGKILL after 10 s;
a second Ctrl-C kills at once). Only one up.sh runs per data dir.

Environment: TASHAN_SKIP_INSTALL=1, TASHAN_SKIP_BUILD=1, TASHAN_BIN_DIR=DIR,
TASHAN_JOBS=N, TASHAN_CONFIG=FILE, TASHAN_LOG_LEVEL=debug|info|warn|error,
TASHAN_HEALTH_TIMEOUT=SECONDS, TASHAN_DEMO_SEED=N (see the top of
deploy/up.sh).
EOF
}

usage_error () {
    printf 'up.sh: %s\n' "$1" >&2
    usage >&2
    exit 2
}

# ---------------------------------------------------------------------------
#  Arguments

data_dir=./var
listen=127.0.0.1:8080
demo=1
while (($#)); do
    case $1 in
        --data-dir)
            (($# >= 2)) || usage_error "--data-dir needs a value"
            data_dir=$2; shift 2 ;;
        --data-dir=*) data_dir=${1#*=}; shift ;;
        --listen)
            (($# >= 2)) || usage_error "--listen needs a value"
            listen=$2; shift 2 ;;
        --listen=*) listen=${1#*=}; shift ;;
        --no-demo) demo=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument: $1" ;;
    esac
done

[[ -n "$data_dir" ]] || usage_error "--data-dir must not be empty"
if [[ "$listen" =~ ^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9]{1,5})$ ]]; then
    listen_host=${BASH_REMATCH[1]}
    listen_port=$((10#${BASH_REMATCH[3]}))
else
    usage_error "--listen must be HOST:PORT (e.g. 127.0.0.1:8080), not '$listen'"
fi
((listen_port >= 1 && listen_port <= 65535)) \
    || usage_error "--listen port must be 1..65535, not $listen_port"

#  Where to reach the gateway from this host (a wildcard bind is reached on
#  loopback).
case $listen_host in
    0.0.0.0) url_host=127.0.0.1 ;;
    "[::]") url_host="[::1]" ;;
    *) url_host=$listen_host ;;
esac
base_url="http://$url_host:$listen_port"

#  Flags every daemon gets besides --data-dir (and the gateway's --listen).
daemon_args=()
case ${TASHAN_LOG_LEVEL:-} in
    "") ;;
    debug | info | warn | error) daemon_args+=(--log-level "$TASHAN_LOG_LEVEL") ;;
    *) usage_error "TASHAN_LOG_LEVEL must be debug, info, warn or error" ;;
esac
health_timeout_s=${TASHAN_HEALTH_TIMEOUT:-30}
[[ "$health_timeout_s" =~ ^[0-9]+$ ]] \
    || usage_error "TASHAN_HEALTH_TIMEOUT must be a number of seconds"
config_args=()
if [[ -n "${TASHAN_CONFIG:-}" ]]; then
    [[ -r "$TASHAN_CONFIG" ]] || ts_die "TASHAN_CONFIG=$TASHAN_CONFIG is not readable"
    config_args=(--config "$(realpath -- "$TASHAN_CONFIG")")
    daemon_args+=("${config_args[@]}")
fi
seed_args=()
if [[ -n "${TASHAN_DEMO_SEED:-}" ]]; then
    [[ "$TASHAN_DEMO_SEED" =~ ^[0-9]+$ ]] \
        || usage_error "TASHAN_DEMO_SEED must be a number"
    seed_args=(--seed "$TASHAN_DEMO_SEED")
fi

# ---------------------------------------------------------------------------
#  Data dir and the lock: one up.sh per data dir.

mkdir -p -- "$data_dir" || ts_die "cannot create data dir $data_dir"
data_dir=$(cd -- "$data_dir" && pwd -P) || ts_die "cannot enter data dir"
run_dir=$data_dir/run
log_dir=$data_dir/logs
#  ipc:// endpoints live in run/ and a unix socket path has 107 bytes at most:
#  room for "/run" and the longest "/<service>.sock".
sock_max=0
for svc in "${DOMAIN_SERVICES[@]}"; do
    ((${#svc} + 6 > sock_max)) && sock_max=$((${#svc} + 6))
done
if ((${#run_dir} + sock_max > 107)); then
    ts_die "data dir path too long for the daemons' ipc:// sockets (${#data_dir} characters, at most $((107 - 4 - sock_max))): use a shorter --data-dir"
fi
mkdir -p -- "$run_dir" "$log_dir" || ts_die "cannot create $run_dir or $log_dir"
chmod 0700 "$run_dir" 2>/dev/null || true
#  Logs name callers and what they did: the service's account and its group
#  read them (files 0640 in a 0750 directory), nobody else; older files
#  made 0644 are narrowed too. The daemons narrow their own log (ts_log.c).
chmod 0750 "$log_dir" 2>/dev/null || true
log_file_prepare () {
    [[ -e "$1" ]] || (umask 027; : >>"$1")
    chmod 0640 "$1" 2>/dev/null || true
}
log_file_prepare "$log_dir/up.log"

lock_file=$run_dir/up.lock
command -v flock >/dev/null 2>&1 || ts_die "flock is needed (Debian package util-linux)"
exec {lock_fd}>>"$lock_file" || ts_die "cannot open $lock_file"
if ! flock -n "$lock_fd"; then
    other=$(tr -cd '0-9' <"$lock_file" 2>/dev/null)
    ts_die "another up.sh${other:+ (pid $other)} is already running on $data_dir; stop it first (Ctrl-C in its terminal${other:+, or kill -TERM $other})"
fi
printf '%s\n' "$$" >"$lock_file"

#  up.sh's own events, in the daemons' format (ts_log: ts=… level=…
#  svc=up.sh event=NAME key=value…), to the terminal and to logs/up.log.
#  event NAME [FIELDS]: FIELDS is "key=value …" text; prose goes in
#  msg="…" (see msg_field). event_err logs at error, on stderr.
log_event () {
    local level=$1 name=$2 fields=${3:-} line
    line="ts=$(ts_now_iso) level=$level svc=up.sh event=$name${fields:+ $fields}"
    if [[ $level == info ]]; then
        printf '%s\n' "$line"
    else
        printf '%s\n' "$line" >&2
    fi
    printf '%s\n' "$line" >>"$log_dir/up.log"
}
event () { log_event info "$@"; }
event_err () { log_event error "$@"; }

#  msg="TEXT" for a log line: one line, no double quotes inside.
msg_field () {
    local text=${1//$'\n'/ }
    printf 'msg="%s"' "${text//\"/\'}"
}

#  Is pid $1 a running tashan-$2 ?
is_daemon () {
    local exe n=0
    [[ "$1" =~ ^[0-9]+$ ]] || return 1
    #  argv[0], or argv[1] when an interpreter runs it
    while IFS= read -r -d '' exe; do
        [[ "${exe##*/}" == "tashan-$2" ]] && return 0
        ((++n >= 2)) && break
    done 2>/dev/null <"/proc/$1/cmdline"
    return 1
}

#  A pid file of an earlier up.sh that was killed without cleaning up may
#  name a daemon that still runs on this data dir. We hold the lock, so no
#  up.sh owns it any more: stop it before starting our own.
for svc in "${SERVICES[@]}"; do
    pid_file=$run_dir/$svc.pid
    [[ -f "$pid_file" ]] || continue
    old=$(<"$pid_file")
    if is_daemon "$old" "$svc"; then
        ts_warn "tashan-$svc (pid $old) from an earlier run still runs on this data dir: stopping it"
        kill -TERM "$old" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            kill -0 "$old" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$old" 2>/dev/null
    fi
    rm -f -- "$pid_file"
done

# ---------------------------------------------------------------------------
#  Packages and build

ts_install_packages base
command -v curl >/dev/null 2>&1 || ts_die "curl is needed (Debian package curl)"
if [[ "${TASHAN_SKIP_BUILD:-0}" == 1 ]]; then
    ts_say "build: skipped (TASHAN_SKIP_BUILD=1)"
else
    ts_build "$TS_REPO_ROOT/build" "${TASHAN_JOBS:-$(nproc)}" \
        || ts_die "build failed (see the compiler output above)"
fi

bin_dir=${TASHAN_BIN_DIR:-$TS_REPO_ROOT/build}
bin_dir=$(cd -- "$bin_dir" 2>/dev/null && pwd -P) \
    || ts_die "binary dir ${TASHAN_BIN_DIR:-$TS_REPO_ROOT/build} does not exist: build first"
for svc in "${SERVICES[@]}"; do
    [[ -x "$bin_dir/tashan-$svc" ]] \
        || ts_die "$bin_dir/tashan-$svc is missing: the build did not produce it"
done

#  Daemons get their own session, so a Ctrl-C in this terminal reaches only
#  up.sh, which then stops them in order.
setsid_cmd=()
command -v setsid >/dev/null 2>&1 && setsid_cmd=(setsid)

# ---------------------------------------------------------------------------
#  Supervision state, per service

declare -A pid=()               #  running pid, "" when not running
declare -A started_ms=()        #  when the current process was started
declare -A deaths=()            #  ms timestamps of recent deaths
declare -A backoff_s=()         #  current crash-loop delay, 0 when none
declare -A next_start_ms=()     #  when a waiting service may start again
declare -A last_pid=()          #  the pid and status of the last death,
declare -A last_status=()       #  for the restart line
for svc in "${SERVICES[@]}"; do
    pid[$svc]=""; started_ms[$svc]=0; deaths[$svc]=""; backoff_s[$svc]=0
    next_start_ms[$svc]=0; last_pid[$svc]=""; last_status[$svc]=""
done
stopping=0
force_kill=0
nap_pid=""
demo_pid=""

#  Exit status as text: exit:N or signal:NAME.
describe_status () {
    if (($1 > 128)); then
        printf 'signal:%s' "$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"
    else
        printf 'exit:%s' "$1"
    fi
}

#  Sleep without blocking signal traps (wait returns when a trap fires).
nap () {
    sleep "$1" {lock_fd}>&- &
    nap_pid=$!
    wait "$nap_pid" 2>/dev/null
    nap_pid=""
}

write_pid_file () {
    printf '%s\n' "$2" >"$run_dir/$1.pid.tmp" \
        && mv -f -- "$run_dir/$1.pid.tmp" "$run_dir/$1.pid"
}

#  Start one daemon in the background, logs appended to logs/<svc>.log.
start_service () {
    local svc=$1
    local args=(--data-dir "$data_dir" "${daemon_args[@]}")
    [[ "$svc" == gateway ]] && args+=(--listen "$listen")
    log_file_prepare "$log_dir/$svc.log"
    printf 'ts=%s level=info svc=%s event=supervisor_start by=up.sh\n' \
        "$(ts_now_iso)" "$svc" >>"$log_dir/$svc.log"
    "${setsid_cmd[@]}" "$bin_dir/tashan-$svc" "${args[@]}" \
        </dev/null >>"$log_dir/$svc.log" 2>&1 {lock_fd}>&- &
    pid[$svc]=$!
    started_ms[$svc]=$(ts_now_ms)
    write_pid_file "$svc" "${pid[$svc]}"
}

#  A daemon died with status $2: restart it now, or later when it keeps
#  dying (never give up, but say so loudly).
on_death () {
    local svc=$1 st=$2 now t recent=()
    local old=${pid[$svc]}
    pid[$svc]=""
    rm -f -- "$run_dir/$svc.pid"
    last_pid[$svc]=$old
    last_status[$svc]=$(describe_status "$st")
    now=$(ts_now_ms)
    if ((now - started_ms[$svc] >= STABLE_MS)); then
        deaths[$svc]=""
        backoff_s[$svc]=0
    fi
    for t in ${deaths[$svc]}; do
        ((now - t < LOOP_WINDOW_MS)) && recent+=("$t")
    done
    recent+=("$now")
    deaths[$svc]="${recent[*]}"
    if ((${#recent[@]} > LOOP_RESTARTS)); then
        if ((backoff_s[$svc] == 0)); then
            backoff_s[$svc]=$BACKOFF_FIRST_S
        else
            backoff_s[$svc]=$((backoff_s[$svc] * 2))
            ((backoff_s[$svc] > BACKOFF_MAX_S)) && backoff_s[$svc]=$BACKOFF_MAX_S
        fi
        next_start_ms[$svc]=$((now + backoff_s[$svc] * 1000))
        event_err crash_loop "service=$svc old_pid=$old status=${last_status[$svc]} deaths_in_10s=${#recent[@]} next_start_in_s=${backoff_s[$svc]} log=$log_dir/$svc.log"
        tail -n 5 -- "$log_dir/$svc.log" 2>/dev/null | sed "s/^/    $svc| /" >&2
        return
    fi
    next_start_ms[$svc]=0
    start_service "$svc"
    event restart "service=$svc old_pid=$old status=${last_status[$svc]} new_pid=${pid[$svc]}"
}

#  One pass: reap dead daemons, start those whose back-off is over.
supervise_once () {
    local svc st
    for svc in "${SERVICES[@]}"; do
        if [[ -n "${pid[$svc]}" ]]; then
            kill -0 "${pid[$svc]}" 2>/dev/null && continue
            st=0
            wait "${pid[$svc]}" 2>/dev/null || st=$?
            on_death "$svc" "$st"
        elif (($(ts_now_ms) >= next_start_ms[$svc])); then
            start_service "$svc"
            event restart "service=$svc old_pid=${last_pid[$svc]} status=${last_status[$svc]} new_pid=${pid[$svc]} after_backoff_s=${backoff_s[$svc]}"
        fi
    done
}

#  Stop every daemon: SIGTERM, up to 10 s, then SIGKILL. Exits with $1.
stop_all () {
    local code=$1 why=$2 svc st deadline any
    if ((stopping)); then
        return
    fi
    stopping=1
    trap 'force_kill=1' INT TERM HUP
    [[ -n "$nap_pid" ]] && kill -TERM "$nap_pid" 2>/dev/null
    event stopping "reason=$why"
    if [[ -n "$demo_pid" ]]; then
        kill -TERM "$demo_pid" 2>/dev/null
        wait "$demo_pid" 2>/dev/null
        demo_pid=""
    fi
    for svc in "${STOP_ORDER[@]}"; do
        [[ -n "${pid[$svc]}" ]] && kill -TERM "${pid[$svc]}" 2>/dev/null
    done
    deadline=$(($(ts_now_ms) + STOP_TIMEOUT_MS))
    while :; do
        any=0
        for svc in "${SERVICES[@]}"; do
            [[ -n "${pid[$svc]}" ]] && kill -0 "${pid[$svc]}" 2>/dev/null && any=1
        done
        ((any && !force_kill && $(ts_now_ms) < deadline)) || break
        sleep 0.1
    done
    for svc in "${STOP_ORDER[@]}"; do
        [[ -n "${pid[$svc]}" ]] || continue
        if kill -0 "${pid[$svc]}" 2>/dev/null; then
            if ((force_kill)); then
                event_err kill "service=$svc pid=${pid[$svc]} reason=second_signal"
            else
                event_err kill "service=$svc pid=${pid[$svc]} reason=no_exit_within_$((STOP_TIMEOUT_MS / 1000))s_of_SIGTERM"
            fi
            kill -KILL "${pid[$svc]}" 2>/dev/null
        fi
        st=0
        wait "${pid[$svc]}" 2>/dev/null || st=$?
        event stopped "service=$svc pid=${pid[$svc]} status=$(describe_status "$st")"
        pid[$svc]=""
    done
    for svc in "${SERVICES[@]}"; do
        rm -f -- "$run_dir/$svc.pid" "$run_dir/$svc.pid.tmp"
    done
    event stopped_all
    exit "$code"
}

on_exit () {
    local rc=$?
    ((stopping)) || stop_all "$rc" "exit"
}

trap 'stop_all 0 SIGINT' INT
trap 'stop_all 0 SIGTERM' TERM
trap 'stop_all 0 SIGHUP' HUP
trap on_exit EXIT

# ---------------------------------------------------------------------------
#  Start, wait for health

event start "data_dir=$data_dir listen=$listen bin_dir=$bin_dir pid=$$"
for svc in "${SERVICES[@]}"; do
    start_service "$svc"
    event started "service=$svc pid=${pid[$svc]}"
done

deadline=$(($(ts_now_ms) + health_timeout_s * 1000))
while :; do
    supervise_once
    reply=$(curl -s --max-time 2 -w '\n%{http_code}' "$base_url/healthz" 2>/dev/null)
    code=${reply##*$'\n'}
    [[ "$code" == 200 ]] && break
    if (($(ts_now_ms) >= deadline)); then
        event_err unhealthy "url=$base_url/healthz timeout_s=$health_timeout_s last_status=${code:-none} $(msg_field "no 200 in time; last answer: ${reply%$'\n'*}")"
        for svc in "${SERVICES[@]}"; do
            printf '  --- last lines of %s\n' "$log_dir/$svc.log" >&2
            tail -n 8 -- "$log_dir/$svc.log" 2>/dev/null | sed 's/^/    /' >&2
        done
        stop_all 1 "unhealthy"
    fi
    nap 0.3
done
event healthy "url=$base_url/healthz"

token_file=$data_dir/gateway/ops.token
demo_tokens_file=$data_dir/gateway/demo-tokens.txt

#  After the demo: tokens a newcomer can try the other roles with (one
#  panel member, each school, three merchant apps), made through the API
#  as ops would, written 0600 next to the ops token.
make_demo_tokens () {
    [[ -f "$token_file" ]] || return 0
    local ops merchants line body role binding
    ops=$(<"$token_file")
    merchants=$(curl -s --max-time 5 -H "Authorization: Bearer $ops" \
        "$base_url/v1/merchants?page_size=3" | python3 -c '
import json, sys
try:
    print(" ".join(m["id"] for m in json.load(sys.stdin).get("merchants", [])[:3]))
except ValueError:
    pass')
    (umask 077; : >"$demo_tokens_file.tmp") || return 0
    for line in 'panel -' 'school S1' 'school S2' $(for m in $merchants; do printf 'merchant:%s ' "$m"; done); do
        if [[ "$line" == merchant:* ]]; then
            role=merchant binding=${line#merchant:}
            body="{\"role\":\"merchant\",\"merchant_id\":\"$binding\"}"
        else
            role=${line% *} binding=${line#* }
            body="{\"role\":\"$role\"${binding:+,\"school_id\":\"$binding\"}}"
            [[ "$binding" == - ]] && body='{"role":"panel"}'
        fi
        curl -s --max-time 5 -H "Authorization: Bearer $ops" -H 'Content-Type: application/json' \
            -d "$body" "$base_url/v1/tokens" | python3 -c '
import json, sys
try:
    print(sys.argv[1], sys.argv[2], json.load(sys.stdin)["token"])
except (ValueError, KeyError):
    pass' "$role" "$binding" >>"$demo_tokens_file.tmp"
    done
    mv -f "$demo_tokens_file.tmp" "$demo_tokens_file"
    event demo_tokens "file=$demo_tokens_file $(msg_field "tokens for the panel, schools S1/S2 and merchant apps")"
}

print_ready () {
    [[ -f "$token_file" ]] \
        || ts_warn "the gateway has not written $token_file"
    cat <<EOF

tashan is running (data in $data_dir)
  console    $base_url/
  ops token  $token_file
             curl -H "Authorization: Bearer \$(cat $token_file)" $base_url/v1/...
  health     curl $base_url/healthz
$( [[ -s "$demo_tokens_file" ]] && printf '  demo       other roles to try: %s\n             (role, binding, token a line; sign in to the console with a token)\n' "$demo_tokens_file")
  logs       $log_dir/<service>.log (up.sh's own: up.log)
  stop       Ctrl-C here, or: kill -TERM $$

EOF
}

#  The demo runs in the background so supervision goes on meanwhile. The
#  first start is what the stores say, not a marker file (a restored
#  backup carries none): `tashanctl demo --check` exits 0 only when every
#  daemon answers and no store holds data (and the demo checks again).
demo_check () {
    log_file_prepare "$log_dir/demo.log"
    "$bin_dir/tashanctl" --data-dir "$data_dir" "${config_args[@]}" demo --check \
        </dev/null >"$log_dir/demo.log" 2>&1 {lock_fd}>&-
}
if ((demo)) && [[ -x "$bin_dir/tashanctl" ]] && demo_check; then
    event demo_start "log=$log_dir/demo.log $(msg_field "creating the demo community (tashanctl demo${seed_args[*]:+ ${seed_args[*]}})")"
    "$bin_dir/tashanctl" --data-dir "$data_dir" "${config_args[@]}" \
        demo "${seed_args[@]}" </dev/null >>"$log_dir/demo.log" 2>&1 {lock_fd}>&- &
    demo_pid=$!
elif ((demo)) && [[ ! -x "$bin_dir/tashanctl" ]]; then
    event_err demo_failed "$(msg_field "demo NOT created: $bin_dir/tashanctl is missing; the system runs without demo data")"
    print_ready
else
    ((demo)) || event demo_skipped "reason=no_demo_flag"
    #  demo.log's last line says why: the stores hold data, or a daemon
    #  did not answer (then nothing is seeded either: the safe side).
    ((demo)) && event demo_skipped "reason=stores_hold_data_or_unreachable $(msg_field "$(tail -n 1 -- "$log_dir/demo.log" 2>/dev/null)")"
    print_ready
fi

# ---------------------------------------------------------------------------
#  Supervise until a signal stops us.

while :; do
    supervise_once
    if [[ -n "$demo_pid" ]] && ! kill -0 "$demo_pid" 2>/dev/null; then
        st=0
        wait "$demo_pid" 2>/dev/null || st=$?
        demo_pid=""
        if ((st == 0)); then
            event demo_created
            make_demo_tokens
        else
            event_err demo_failed "status=$(describe_status "$st") log=$log_dir/demo.log $(msg_field "demo NOT created: tashanctl demo failed; the system runs without demo data. Last lines of the log:")"
            tail -n 10 -- "$log_dir/demo.log" 2>/dev/null | sed 's/^/    demo| /' >&2
            printf '    retry: %s --data-dir %s demo   (or re-run up.sh)\n' \
                "$bin_dir/tashanctl" "$data_dir" >&2
        fi
        print_ready
    fi
    nap "$POLL_S"
done

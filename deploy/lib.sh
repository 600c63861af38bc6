# shellcheck shell=bash
#  deploy/lib.sh - functions shared by deploy/up.sh and deploy/test.sh
#
#  Sourced, never run. Callers set TS_PROG (their name, for messages)
#  before sourcing. Every function here prefixes its messages with it.
#
#  Environment it honours:
#    TASHAN_SKIP_INSTALL=1   do not check or install Debian packages
#    TASHAN_SKIP_BUILD=1     do not run cmake (use the binaries as they are)
#    TASHAN_JOBS=N           parallel build jobs (callers pick the default)

#  The repository root: the parent of the folder this file sits in.
TS_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

#  Debian 12 packages needed to build and test, and the extras that the
#  sanitizer and fuzzing builds use.
TS_PACKAGES_BASE=(build-essential cmake pkg-config libzmq3-dev
    libprotobuf-c-dev protobuf-c-compiler liblmdb-dev lmdb-utils libuv1-dev
    libhttp-parser-dev libjansson-dev libcmocka-dev libsodium-dev
    libqrencode-dev python3 curl ca-certificates)
TS_PACKAGES_SANITIZE=(clang libclang-rt-14-dev)
#  The console's browser tests: Debian's Chromium, CJK fonts for the
#  screenshots, node (npm only when no npm is on PATH: some node builds
#  bring their own).
TS_PACKAGES_BROWSER=(chromium fonts-noto-cjk nodejs)
#  The contract tests (ctest label contract): promtool (in Debian's
#  prometheus), node for @redocly/cli and dredd (npm only when no npm is
#  on PATH, as for the browser set).
TS_PACKAGES_CONTRACT=(prometheus nodejs)
#  tests/bench/compare.sh: the yardsticks tashan is measured against
#  (nginx serving a static 200, PostgreSQL's pgbench) and the HTTP load
#  generator.
TS_PACKAGES_BENCH=(nginx-light postgresql wrk)

#  The domain daemons, in start order: the names of services/services.list
#  (comments and blank lines skipped, the first word of each line).
TS_SERVICES_LIST=$TS_REPO_ROOT/services/services.list

#  ts_services: print the daemons' names, one per line.
ts_services () {
    awk '/^[a-z]/ { print $1 }' "$TS_SERVICES_LIST"
}

# ---------------------------------------------------------------------------
#  Messages. ts_say goes to stdout, ts_warn and ts_die to stderr.

ts_say () { printf '%s: %s\n' "${TS_PROG:-tashan}" "$*"; }
ts_warn () { printf '%s: warning: %s\n' "${TS_PROG:-tashan}" "$*" >&2; }
ts_die () { printf '%s: error: %s\n' "${TS_PROG:-tashan}" "$*" >&2; exit 1; }

#  UTC timestamp with milliseconds, as the daemons print it.
ts_now_iso () { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

#  Milliseconds since the epoch (integer; EPOCHREALTIME may use a locale's
#  decimal comma, so keep only the digits).
ts_now_ms () {
    local us=${EPOCHREALTIME//[!0-9]/}
    printf '%s' "$((us / 1000))"
}

# ---------------------------------------------------------------------------
#  ts_install_packages base|sanitize [browser] [contract] [bench]
#  Install the packages (base, plus the sanitizer/fuzzing extras, plus the
#  browser-test and contract-test sets, plus the benchmark yardsticks)
#  that are not installed yet. apt-get update runs only when something is
#  missing. Uses sudo when not root.

ts_install_packages () {
    local want=("${TS_PACKAGES_BASE[@]}") set
    for set in "$@"; do
        case "$set" in
            sanitize) want+=("${TS_PACKAGES_SANITIZE[@]}") ;;
            browser) want+=("${TS_PACKAGES_BROWSER[@]}")
                     command -v npm >/dev/null 2>&1 || want+=(npm) ;;
            contract) want+=("${TS_PACKAGES_CONTRACT[@]}")
                      command -v npm >/dev/null 2>&1 || want+=(npm) ;;
            bench) want+=("${TS_PACKAGES_BENCH[@]}") ;;
        esac
    done
    if [[ "${TASHAN_SKIP_INSTALL:-0}" == 1 ]]; then
        ts_say "packages: skipped (TASHAN_SKIP_INSTALL=1)"
        return 0
    fi
    command -v dpkg-query >/dev/null 2>&1 \
        || ts_die "dpkg-query not found: this script installs Debian 12 packages; on another system install the equivalents of: ${want[*]} and run with TASHAN_SKIP_INSTALL=1"

    local missing=() pkg status
    for pkg in "${want[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        ts_say "packages: all ${#want[@]} present"
        return 0
    fi

    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 \
            || ts_die "missing packages (${missing[*]}) and not root and no sudo: install them as root, then re-run"
        sudo=(sudo)
    fi
    ts_say "packages: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -q \
        || ts_die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || ts_die "apt-get install failed for: ${missing[*]}"
}

# ---------------------------------------------------------------------------
#  ts_build DIR JOBS [cmake -D options...]
#  Configure DIR (RelWithDebInfo) when it has no cache yet or when a given
#  -D option differs from its cache, then build incrementally. Returns
#  cmake's status.

ts_build () {
    local dir=$1 jobs=$2
    shift 2
    local opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "$@")
    local cache="$dir/CMakeCache.txt" configure=0 opt name value
    if [[ ! -f "$cache" ]]; then
        configure=1
    else
        for opt in "${opts[@]}"; do
            name=${opt#-D}
            value=${name#*=}
            name=${name%%=*}
            #  The cache line is NAME:TYPE=VALUE.
            grep -Eq "^${name}:[A-Z]+=${value}\$" "$cache" || configure=1
        done
    fi
    if ((configure)); then
        ts_say "configure $dir (${opts[*]})"
        cmake -S "$TS_REPO_ROOT" -B "$dir" "${opts[@]}" || return
    fi
    ts_say "build $dir (-j$jobs)"
    cmake --build "$dir" -j "$jobs"
}

# ---------------------------------------------------------------------------
#  ts_browser_deps
#  tests/browser/node_modules from its package-lock.json (npm ci), when
#  missing or older than the lock file. Returns non-zero on failure.

ts_browser_deps () {
    ts_npm_deps browser playwright-core
}

#  ts_contract_deps
#  tests/contract/node_modules (@redocly/cli, dredd), the same way.
ts_contract_deps () {
    ts_npm_deps contract dredd
}

#  ts_npm_deps DIR MODULE: npm ci in tests/DIR when node_modules/MODULE is
#  missing or older than the lock file.
ts_npm_deps () {
    local dir="$TS_REPO_ROOT/tests/$1"
    if [[ -d "$dir/node_modules/$2" \
          && ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
        return 0
    fi
    ts_say "$1 tests: npm ci in tests/$1"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

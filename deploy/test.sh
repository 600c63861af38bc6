#!/usr/bin/env bash
#  deploy/test.sh - build tashan and run its whole test suite
#
#  1. build/       RelWithDebInfo, ctest with every label (unit,
#                  integration, browser, contract, crash); the browser
#                  tests need Chromium and tests/browser/node_modules (npm
#                  ci), the contract tests promtool (Debian's prometheus)
#                  and tests/contract/node_modules (@redocly/cli, dredd),
#                  which this script installs
#  2. build-asan/  -DTASHAN_SANITIZE=ON (ASan + UBSan), ctest with labels
#                  unit and integration, leaks and UB fatal
#  3. build-fuzz/   clang + libFuzzer: each fuzz target runs for
#                  TASHAN_FUZZ_SECONDS (30) from its seed corpus
#
#  Both builds are incremental. Exits non-zero when a build or a test
#  fails; the last line is "summary: N passed, N failed". Run with --help
#  for the flags.
#
#  Environment:
#    TASHAN_SKIP_INSTALL=1   do not check or install packages
#    TASHAN_JOBS=N           build and ctest parallelism (default 2: the CI
#                            machine has 2 cores and a ~20 minute budget)

set -uo pipefail
TS_PROG=test.sh
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage () {
    cat <<EOF
usage: deploy/test.sh [--no-asan] [--quick] [--help] [ctest args...]

Build build/ and run every test, then build build-asan/ (ASan + UBSan)
and run the unit and integration tests again there.

  --no-asan     skip the sanitizer build, its tests and the fuzzing
  --quick       build/ only, without the crash tests (implies --no-asan)
  -h, --help    this text
  ctest args    passed to every ctest run, e.g. -R ledger or -L unit

Environment: TASHAN_SKIP_INSTALL=1, TASHAN_JOBS=N (default 2),
TASHAN_FUZZ_SECONDS=N (per fuzz target, default 30; 0 skips fuzzing).
EOF
}

asan=1
quick=0
ctest_args=()
while (($#)); do
    case $1 in
        --no-asan) asan=0; shift ;;
        --quick) quick=1; asan=0; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; ctest_args+=("$@"); break ;;
        *) ctest_args+=("$1"); shift ;;
    esac
done

jobs=${TASHAN_JOBS:-2}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || ts_die "TASHAN_JOBS must be a positive number"
cd "$TS_REPO_ROOT" || ts_die "cannot enter $TS_REPO_ROOT"
started_s=$SECONDS

if ((asan)); then
    ts_install_packages sanitize browser contract
else
    ts_install_packages base browser contract
fi
#  The console's browser tests (ctest label browser) must run here, not
#  skip: their node modules come from npm.
#  skip: their node modules come from npm (with TASHAN_SKIP_INSTALL=1 they
#  run when present, else skip).
if [[ "${TASHAN_SKIP_INSTALL:-0}" != 1 ]]; then
    ts_browser_deps || ts_die "npm ci in tests/browser failed"
    export TASHAN_BROWSER_REQUIRED=1
    #  The contract tests (promtool, redocly, dredd) likewise.
    ts_contract_deps || ts_die "npm ci in tests/contract failed"
    export TASHAN_CONTRACT_REQUIRED=1
fi

# ---------------------------------------------------------------------------
#  Steps and their results

summary=()                      #  one line per step
passed_total=0
failed_total=0
ctest_passed=0                  #  set by run_ctest
ctest_failed=0

record () {                     #  record NAME STATUS DETAIL
    summary+=("$(printf '%-12s %-8s %s' "$1" "$2" "$3")")
}

#  run_ctest DIR [args...]: run ctest, count what it reports. A ctest that
#  fails without a count (no tests, crash) counts as one failure.
run_ctest () {
    local dir=$1 log rc line total
    shift
    log=$(mktemp)
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" \
        "$@" "${ctest_args[@]}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    rm -f -- "$log"
    if [[ "$line" =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        ctest_failed=${BASH_REMATCH[1]}
        total=${BASH_REMATCH[2]}
        ctest_passed=$((total - ctest_failed))
    else
        ctest_passed=0
        ctest_failed=0
    fi
    if ((rc != 0 && ctest_failed == 0)); then
        ctest_failed=1
    fi
    passed_total=$((passed_total + ctest_passed))
    failed_total=$((failed_total + ctest_failed))
    return "$rc"
}

#  step_tests NAME DIR [ctest args...]
step_tests () {
    local name=$1 dir=$2 t0=$SECONDS
    shift 2
    ts_say "---- $name: ctest in $dir"
    if run_ctest "$dir" "$@"; then
        record "$name" ok "$ctest_passed passed, $ctest_failed failed ($((SECONDS - t0)) s)"
    else
        record "$name" FAILED "$ctest_passed passed, $ctest_failed failed ($((SECONDS - t0)) s)"
    fi
}

#  step_build NAME DIR [cmake -D options...]; returns the build's status.
step_build () {
    local name=$1 dir=$2 t0=$SECONDS
    shift 2
    ts_say "---- $name: $dir"
    if ts_build "$dir" "$jobs" "$@"; then
        record "$name" ok "($((SECONDS - t0)) s)"
        return 0
    fi
    record "$name" FAILED "($((SECONDS - t0)) s)"
    failed_total=$((failed_total + 1))
    return 1
}

# ---------------------------------------------------------------------------
#  1. The release build, every label (or all but crash with --quick)

labels=()
((quick)) && labels=(-LE crash)
if step_build build build -DTASHAN_SANITIZE=OFF; then
    step_tests tests build "${labels[@]}"
    build_ok=1
else
    record tests "not run" "(build failed)"
    build_ok=0
fi

# ---------------------------------------------------------------------------
#  2. The sanitizer build, unit and integration tests

if ((asan)); then
    if ((!build_ok)); then
        record build-asan "not run" "(build/ failed to build)"
    elif step_build build-asan build-asan -DTASHAN_SANITIZE=ON; then
        ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
            step_tests tests-asan build-asan -L 'unit|integration'
    else
        record tests-asan "not run" "(build-asan failed)"
    fi
fi

# ---------------------------------------------------------------------------
#  3. Fuzzing: every libFuzzer target (clang, ASan+UBSan) for a short,
#     bounded run from its seed corpus; a crash, leak or timeout fails.

fuzz_s=${TASHAN_FUZZ_SECONDS:-30}
[[ "$fuzz_s" =~ ^[0-9]+$ ]] || ts_die "TASHAN_FUZZ_SECONDS must be a number"
if ((asan && fuzz_s > 0)); then
    if step_build build-fuzz build-fuzz -DTASHAN_FUZZ=ON -DCMAKE_C_COMPILER=clang; then
        t0=$SECONDS
        fuzz_passed=0
        fuzz_failed=0
        for bin in build-fuzz/tests/fuzz/fuzz_*; do
            [[ -x "$bin" && -f "$bin" ]] || continue
            name=$(basename "$bin")
            work=$(mktemp -d)
            seeds="tests/fuzz/corpus/${name#fuzz_}"
            [[ -d "$seeds" ]] && cp -r "$seeds/." "$work/"
            ts_say "---- fuzz: $name for ${fuzz_s} s"
            if "$bin" -max_total_time="$fuzz_s" -timeout=10 -rss_limit_mb=2048 \
                    -print_final_stats=1 "$work" > "$work.log" 2>&1; then
                fuzz_passed=$((fuzz_passed + 1))
                grep -E '^(Done|stat::number_of_executed_units)' "$work.log" | tail -n 1
            else
                fuzz_failed=$((fuzz_failed + 1))
                tail -n 60 "$work.log"
            fi
            rm -rf -- "$work" "$work.log"
        done
        passed_total=$((passed_total + fuzz_passed))
        failed_total=$((failed_total + fuzz_failed))
        if ((fuzz_failed == 0 && fuzz_passed > 0)); then
            record fuzz ok "$fuzz_passed targets, ${fuzz_s} s each ($((SECONDS - t0)) s)"
        else
            ((fuzz_passed == 0 && fuzz_failed == 0)) && failed_total=$((failed_total + 1))
            record fuzz FAILED "$fuzz_passed passed, $fuzz_failed failed ($((SECONDS - t0)) s)"
        fi
    fi
fi

# ---------------------------------------------------------------------------
#  Summary

ts_say "---- summary ($((SECONDS - started_s)) s)"
for line in "${summary[@]}"; do
    ts_say "  $line"
done
printf 'summary: %d passed, %d failed\n' "$passed_total" "$failed_total"
((failed_total == 0))

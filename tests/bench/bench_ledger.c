/*  bench_ledger - the ledger's two performance figures (issue 4)

    1. board (always; in process, no sockets): loads --persons persons
       (default 1,000,000) and --entries entries (default 10,000,000) into
       a fresh ledger store through the real request path (ts_dispatch,
       group commits of EvaluateBatch requests, durable), printing the
       ingest rate, then times the month's honour board and rankings.
       Target: the board in under 1 s (month aggregates are kept as
       entries arrive; nothing is scanned).
       The rate of each million entries is printed as it is reached (a
       store that slows as it grows shows here: issue 16 wants the last
       million within 20 % of the first; the rate per CPU second of this
       process is printed beside it, and at the end the ratio last/first
       and whether >= 200,000/s and the 20 % hold). --random-keys gives each
       evaluation a random 32-hex-digit idempotency key (as clients making
       UUIDs do) instead of the counter "b<N>".
           bench_ledger board [--persons N] [--entries N] [--dir DIR]
               [--random-keys]

    2. ingest (against running daemons: deploy/up.sh or the harness):
       creates --persons residents over ZeroMQ (residents daemon), waits
       until the ledger knows them, then
       - ZeroMQ: --threads clients each sending ledger.EvaluateBatch
         requests of --batch evaluations straight to the ledger daemon;
       - HTTP (with --listen): --connections keep-alive connections each
         posting single evaluations (POST /v1/credit/evaluations) through
         the gateway;
       each for --seconds, every evaluation a new idempotency key (a
       durable write). Prints events/s and p50/p99 latency for both.
       Targets: >= 100,000 events/s over ZeroMQ in batches, >= 10,000
       single-event HTTP requests/s.
           bench_ledger ingest --data-dir DIR [--listen HOST:PORT]
               [--seconds 10] [--threads 4] [--batch 1000]
               [--connections 32] [--persons 200] [--seeded] [--http-only]
       --seeded: the persons p1..pN were put in the ledger's store by
       "bench_ledger seed --data-dir DIR --persons N" (person.created
       events applied as the residents consumer would, before the ledger
       daemon starts), so the residents daemon is not needed.
       --http-only: skip the ZeroMQ part (to profile the HTTP path alone).
*/
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ts_dispatch.h"
#include "ts_rpc.h"
#include "ledger_service.h"
#include "ledger_sums.h"
#include "ledger.pb-c.h"
#include "events.pb-c.h"
#include "residents.pb-c.h"

#define BOARD_JOBS_PER_COMMIT 64        //  EvaluateBatch requests per group commit
#define ITEMS_PER_JOB 1000
#define PERSON_EVENTS_PER_COMMIT 1000
#define BOARD_RUNS 5
#define THREADS_MAX 64
#define CONNECTIONS_MAX 256
#define PERSONS_MAX 100000
#define SAMPLES_MAX (2u * 1000 * 1000)
#define RESPONSE_MAX 65536

static double
s_now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_cmp_u32 (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return x < y ? -1 : x > y;
}

//  Sorts samples; prints p50 and p99 in ms.
static void
s_print_latency (const char *what, uint32_t *us, size_t n)
{
    if (n == 0) {
        printf ("%s: no samples\n", what);
        return;
    }
    qsort (us, n, sizeof *us, s_cmp_u32);
    printf ("%s latency: p50 %.2f ms, p99 %.2f ms (%zu samples)\n", what,
            us [n / 2] / 1000.0, us [(size_t) ((double) n * 0.99)] / 1000.0, n);
}

static uint64_t s_rng = 88172645463325252ull;
static uint64_t
s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

//  ====================================================================
//  1. Board at scale, in process

static void
s_put_rule (ts_dispatch *d, const char *code, int points)
{
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "ops" };
    pr.code = (char *) code;
    pr.points = points;
    pr.n_roles = 1;
    pr.roles = roles;
    Tashan__Caller ops = ts_caller ("ops", "", "bench");
    ts_arena *arena = ts_arena_new ();
    char msg [256];
    unsigned code_rc = ts_dispatch_call (d, "ledger.PutRule", &ops, &pr.base, arena, NULL,
                                         msg, sizeof msg);
    if (code_rc != 200) {
        fprintf (stderr, "PutRule %s: %u %s\n", code, code_rc, msg);
        exit (1);
    }
    ts_arena_destroy (&arena);
}

static void
s_load_persons (ts_dispatch *d, uint64_t persons)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Event **events = calloc (PERSON_EVENTS_PER_COMMIT, sizeof *events);
    assert (events);
    uint64_t seq = ts_dispatch_position (d, "residents");
    double t0 = s_now_s ();
    for (uint64_t first = 1; first <= persons; first += PERSON_EVENTS_PER_COMMIT) {
        size_t n = 0;
        for (uint64_t i = first; i <= persons && n < PERSON_EVENTS_PER_COMMIT; i++, n++) {
            char id [24], hh [24], bld [24], name [32];
            snprintf (id, sizeof id, "p%" PRIu64, i);
            snprintf (hh, sizeof hh, "h%" PRIu64, (i + 2) / 3);
            snprintf (bld, sizeof bld, "%" PRIu64, (i + 299) / 300);
            snprintf (name, sizeof name, "居民%" PRIu64, i);
            Tashan__Events__Person p = TASHAN__EVENTS__PERSON__INIT;
            p.person_id = id;
            p.household_id = hh;
            p.building_number = bld;
            p.name = name;
            p.credit_consent = true;
            Tashan__Event *ev = ts_arena_alloc (arena, sizeof *ev);
            tashan__event__init (ev);
            ev->seq = ++seq;
            ev->topic = "person.created";
            ev->created_ms = 1;
            ev->payload.len = protobuf_c_message_get_packed_size (&p.base);
            ev->payload.data = ts_arena_alloc (arena, ev->payload.len + 1);
            protobuf_c_message_pack (&p.base, ev->payload.data);
            events [n] = ev;
        }
        if (ts_dispatch_apply_batch (d, "residents", events, n, seq) != 0) {
            fprintf (stderr, "apply_batch failed\n");
            exit (1);
        }
        ts_arena_reset (arena);
    }
    double s = s_now_s () - t0;
    printf ("persons: %" PRIu64 " in %.1f s (%.0f/s)\n", persons, s, (double) persons / s);
    free (events);
    ts_arena_destroy (&arena);
}

static bool s_random_keys;          //  --random-keys

//  The idempotency key of the n-th evaluation (fits 40 bytes).
static void
s_entry_key (char *key, uint64_t n)
{
    if (s_random_keys)
        snprintf (key, 40, "%016" PRIx64 "%016" PRIx64, s_rand (), s_rand ());
    else
        snprintf (key, 40, "b%" PRIu64, n);
}

//  One line per million entries: the rate since the last line, by the
//  wall clock and per CPU second of this process (user + system: the
//  figure a shared, noisy machine leaves comparable between runs).
#define MILLIONS_MAX 1000

typedef struct {
    uint64_t next;                  //  the next million to report
    uint64_t done_at;               //  entries at the last line
    double at_s;                    //  wall time of the last line
    double cpu_at_s;                //  CPU time of the last line
    size_t count;                   //  millions reported
    uint64_t pages_copied;          //  since the last line (s_pages_freed_last)
    double wall_rate [MILLIONS_MAX];    //  entries/s of each million
    double cpu_rate [MILLIONS_MAX];     //  entries per CPU second
} s_million;

static double
s_cpu_s (void)
{
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
         + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

static void
s_million_report (s_million *m, uint64_t done)
{
    if (done < m->next)
        return;
    double now = s_now_s (), cpu = s_cpu_s ();
    double entries = (double) (done - m->done_at);
    double wall_rate = entries / (now - m->at_s);
    double cpu_rate = entries / (cpu - m->cpu_at_s > 1e-6 ? cpu - m->cpu_at_s : 1e-6);
    printf ("  million %" PRIu64 ": %.0f entries/s, %.0f entries per CPU second, "
            "%.2f pages copied per entry\n", m->next / 1000000, wall_rate, cpu_rate,
            (double) m->pages_copied / entries);
    m->pages_copied = 0;
    fflush (stdout);
    if (m->count < MILLIONS_MAX) {
        m->wall_rate [m->count] = wall_rate;
        m->cpu_rate [m->count] = cpu_rate;
        m->count++;
    }
    m->next += 1000000;
    m->done_at = done;
    m->at_s = now;
    m->cpu_at_s = cpu;
}

//  The pages the last commit copied (LMDB copies a page on its first
//  write in a transaction and frees the old one at commit): the size of
//  the newest freelist record, keyed by that commit's txn id. The store's
//  pages dirtied per commit, less the pages new at the end of the file.
static uint64_t
s_pages_freed_last (ts_dispatch *d)
{
    MDB_env *env = ts_store_env (ts_dispatch_store (d));
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    uint64_t pages = 0;
    if (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    MDB_val k, v;
    if (mdb_cursor_open (txn, 0, &cur) == 0
    &&  mdb_cursor_get (cur, &k, &v, MDB_LAST) == 0 && v.mv_size >= sizeof (size_t)) {
        size_t n;
        memcpy (&n, v.mv_data, sizeof n);     //  an MDB_IDL: count, then the pages
        pages = n;
    }
    if (cur)
        mdb_cursor_close (cur);
    mdb_txn_abort (txn);
    return pages;
}

//  Each table's pages (leaf, branch, overflow) and records at the end.
static void
s_print_tables (ts_dispatch *d)
{
    static const char *const names [] = { "entries", "subjects", "key_gens", "key_log",
                                          "key_blooms", "keys", "board", "hh_month", "bld_month",
                                          "sum_log" };
    ts_store *store = ts_dispatch_store (d);
    MDB_txn *txn = NULL;
    if (mdb_txn_begin (ts_store_env (store), NULL, MDB_RDONLY, &txn) != 0)
        return;
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++) {
        MDB_dbi dbi;
        MDB_stat st;
        if (mdb_dbi_open (txn, names [i], 0, &dbi) != 0 || mdb_stat (txn, dbi, &st) != 0)
            continue;
        printf ("  table %-10s %10zu records, %8zu leaf, %6zu branch, %6zu overflow pages\n",
                names [i], st.ms_entries, st.ms_leaf_pages, st.ms_branch_pages,
                st.ms_overflow_pages);
    }
    mdb_txn_abort (txn);
}

//  Issue 16's targets: >= 200,000 entries/s sustained (every million),
//  the last million's rate within 20 % of the first.
#define TARGET_RATE 200000.0
#define TARGET_DRIFT 0.20

static void
s_million_verdict (const s_million *m)
{
    if (m->count < 2) {
        printf ("targets: need at least 2 millions to compare (ran %zu)\n", m->count);
        return;
    }
    double slowest = m->wall_rate [0];
    for (size_t i = 1; i < m->count; i++)
        if (m->wall_rate [i] < slowest)
            slowest = m->wall_rate [i];
    double wall_ratio = m->wall_rate [m->count - 1] / m->wall_rate [0];
    double cpu_ratio = m->cpu_rate [m->count - 1] / m->cpu_rate [0];
    printf ("last/first million: %.2f by the wall clock, %.2f per CPU second\n",
            wall_ratio, cpu_ratio);
    printf ("target >= %.0f entries/s in every million: %s (slowest %.0f/s)\n",
            TARGET_RATE, slowest >= TARGET_RATE ? "met" : "NOT met", slowest);
    printf ("target last million within %.0f %% of the first: %s by the wall clock, "
            "%s per CPU second\n", TARGET_DRIFT * 100,
            wall_ratio >= 1 - TARGET_DRIFT ? "met" : "NOT met",
            cpu_ratio >= 1 - TARGET_DRIFT ? "met" : "NOT met");
}

static void
s_load_entries (ts_dispatch *d, uint64_t persons, uint64_t entries)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Caller ops = ts_caller ("ops", "", "bench");
    ts_job *jobs = calloc (BOARD_JOBS_PER_COMMIT, sizeof *jobs);
    Tashan__Ledger__EvaluateRequest *items = calloc (ITEMS_PER_JOB, sizeof *items);
    Tashan__Ledger__EvaluateRequest **ptrs = calloc (ITEMS_PER_JOB, sizeof *ptrs);
    char (*ids) [24] = calloc (ITEMS_PER_JOB, 24);
    char (*keys) [40] = calloc (ITEMS_PER_JOB, 40);
    assert (jobs && items && ptrs && ids && keys);
    uint64_t done = 0, rejected = 0, key = 0;
    double t0 = s_now_s (), last = t0;
    static s_million million;
    million = (s_million) { .next = 1000000, .at_s = t0, .cpu_at_s = s_cpu_s () };
    double tick_at = t0;
    while (done < entries) {
        //  The daemon's tick (the month sums' fold, ledger_sums.h), here
        //  in line, between group commits, as often as the daemon runs it.
        if (s_now_s () - tick_at >= LEDGER_SUMS_TICK_MS / 1000.0) {
            ts_dispatch_tick (d);
            tick_at = s_now_s ();
        }
        size_t job_count = 0;
        for (; job_count < BOARD_JOBS_PER_COMMIT && done < entries; job_count++) {
            size_t n = 0;
            for (; n < ITEMS_PER_JOB && done < entries; n++, done++) {
                tashan__ledger__evaluate_request__init (&items [n]);
                snprintf (ids [n], 24, "p%" PRIu64, 1 + s_rand () % persons);
                s_entry_key (keys [n], ++key);
                items [n].person_id = ids [n];
                items [n].rule = s_rand () % 10 < 7 ? "bench.plus" : "bench.minus";
                items [n].idempotency_key = keys [n];
                ptrs [n] = &items [n];
            }
            Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
            b.evaluations = ptrs;
            b.n_evaluations = n;
            memset (&jobs [job_count], 0, sizeof jobs [job_count]);
            jobs [job_count].method = "ledger.EvaluateBatch";
            jobs [job_count].caller = &ops;
            jobs [job_count].body_size = protobuf_c_message_get_packed_size (&b.base);
            uint8_t *body = ts_arena_alloc (arena, jobs [job_count].body_size + 1);
            protobuf_c_message_pack (&b.base, body);
            jobs [job_count].body = body;
        }
        ts_dispatch_run_batch (d, jobs, job_count, arena);
        for (size_t j = 0; j < job_count; j++) {
            if (jobs [j].code != 200) {
                fprintf (stderr, "EvaluateBatch: %u %s\n", jobs [j].code, jobs [j].message);
                exit (1);
            }
            Tashan__Ledger__BatchReply *rep = tashan__ledger__batch_reply__unpack (
                ts_arena_pb (arena), jobs [j].reply_size, jobs [j].reply);
            assert (rep);
            rejected += rep->n_rejected;
        }
        ts_arena_reset (arena);
        million.pages_copied += s_pages_freed_last (d);
        s_million_report (&million, done);
        double now = s_now_s ();
        if (now - last > 10) {
            printf ("  ... %" PRIu64 " entries, %.0f/s\n", done, (double) done / (now - t0));
            fflush (stdout);
            last = now;
        }
    }
    double s = s_now_s () - t0;
    printf ("entries: %" PRIu64 " in %.1f s (%.0f/s in process, durable group commits of %d), "
            "%" PRIu64 " rejected\n", entries, s, (double) entries / s,
            BOARD_JOBS_PER_COMMIT * ITEMS_PER_JOB, rejected);
    s_million_verdict (&million);
    s_print_tables (d);
    free (jobs);
    free (items);
    free (ptrs);
    free (ids);
    free (keys);
    ts_arena_destroy (&arena);
}

static void
s_time_read (ts_dispatch *d, const char *method, const char *role)
{
    Tashan__Caller caller = ts_caller (role, "", "bench");
    Tashan__Ledger__BoardRequest r = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    uint32_t us [BOARD_RUNS];
    size_t red = 0, grey = 0, rows = 0;
    for (int i = 0; i < BOARD_RUNS; i++) {
        ts_arena *arena = ts_arena_new ();
        ProtobufCMessage *reply = NULL;
        char msg [256];
        double t0 = s_now_s ();
        unsigned code = ts_dispatch_call (d, method, &caller, &r.base, arena, &reply, msg,
                                          sizeof msg);
        us [i] = (uint32_t) ((s_now_s () - t0) * 1e6);
        if (code != 200) {
            fprintf (stderr, "%s: %u %s\n", method, code, msg);
            exit (1);
        }
        if (strcmp (method, "ledger.HonorBoard") == 0) {
            red = ((Tashan__Ledger__HonorBoard *) reply)->n_red;
            grey = ((Tashan__Ledger__HonorBoard *) reply)->n_grey;
        }
        else
            rows = ((Tashan__Ledger__Ranking *) reply)->n_rows;
        ts_arena_destroy (&arena);
    }
    //  The first run builds the reply; the others are served as kept
    //  (ledger_replies: the store has not changed since).
    uint32_t built_us = us [0];
    qsort (us + 1, BOARD_RUNS - 1, sizeof *us, s_cmp_u32);
    printf ("%s (%s): built %.1f ms; kept: best %.3f ms, median %.3f ms "
            "(red %zu, grey page %zu, rows %zu)\n", method, role, built_us / 1000.0,
            us [1] / 1000.0, us [1 + (BOARD_RUNS - 1) / 2] / 1000.0, red, grey, rows);
}

static int
s_board (uint64_t persons, uint64_t entries, const char *dir_arg)
{
    char dir [256];
    if (dir_arg)
        snprintf (dir, sizeof dir, "%s", dir_arg);
    else {
        snprintf (dir, sizeof dir, "/tmp/bench_ledger_XXXXXX");
        if (!mkdtemp (dir)) {
            perror ("mkdtemp");
            return 1;
        }
    }
    printf ("board bench: %" PRIu64 " persons, %" PRIu64 " entries, store in %s\n",
            persons, entries, dir);
    char err [256];
    ts_dispatch *d = ts_dispatch_new (&ledger_service, dir, err, sizeof err);
    if (!d) {
        fprintf (stderr, "%s\n", err);
        return 1;
    }
    s_put_rule (d, "bench.plus", 3);
    s_put_rule (d, "bench.minus", -2);
    s_load_persons (d, persons);
    s_load_entries (d, persons, entries);
    s_time_read (d, "ledger.HonorBoard", "ops");
    s_time_read (d, "ledger.HonorBoard", "panel");
    s_time_read (d, "ledger.RankBuildings", "ops");
    s_time_read (d, "ledger.RankHouseholds", "ops");
    ts_dispatch_destroy (&d);
    if (!dir_arg) {
        char cmd [300];
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system (cmd) != 0)
            fprintf (stderr, "could not remove %s\n", dir);
    }
    return 0;
}

//  ====================================================================
//  2. Ingest against a running system

typedef struct {
    char host [64];
    int port;                       //  0: no HTTP part
    char data_dir [512];
    char ledger_ep [TS_ENDPOINT_MAX];
    char residents_ep [TS_ENDPOINT_MAX];
    char ops_token [256];
    char panel_token [256];
    char persons [PERSONS_MAX][24];
    size_t person_count;
    double seconds;
    int batch;
} ingest;

typedef struct {
    const ingest *g;
    int index;
    uint32_t *latency_us;
    size_t samples;
    uint64_t events;                //  evaluations acknowledged
    uint64_t errors;
    char first_error [200];
} worker;

//  One keep-alive HTTP connection.
static int
s_connect (const ingest *g)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) g->port) };
    inet_pton (AF_INET, g->host, &sa.sin_addr);
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

//  Send one request and read one response (Content-Length framed).
//  Returns the status, or -1; body (NUL-terminated) in buf.
static int
s_http (int fd, const char *method, const char *path, const char *token, const char *body,
        char *buf, size_t buf_size)
{
    char req [4096];
    size_t body_len = body ? strlen (body) : 0;
    int n = snprintf (req, sizeof req,
                      "%s %s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                      method, path, token, body_len, body ? body : "");
    if (n <= 0 || (size_t) n >= sizeof req)
        return -1;
    for (int sent = 0; sent < n;) {
        ssize_t w = send (fd, req + sent, (size_t) (n - sent), MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        sent += (int) w;
    }
    size_t got = 0;
    for (int reads = 0; reads < 10000; reads++) {
        ssize_t r = recv (fd, buf + got, buf_size - 1 - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t) r;
        buf [got] = 0;
        char *end = strstr (buf, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr (buf, "Content-Length:");
        size_t len = cl && cl < end ? strtoul (cl + 15, NULL, 10) : 0;
        size_t head = (size_t) (end + 4 - buf);
        if (got >= head + len) {
            int status = atoi (buf + 9);
            memmove (buf, buf + head, len);
            buf [len] = 0;
            return status;
        }
        if (got >= buf_size - 1)
            return -1;
    }
    return -1;
}

//  The value of "field":"..." in a JSON text (first match), or "".
static void
s_json_str (const char *json, const char *field, char *out, size_t out_size)
{
    char pat [64];
    snprintf (pat, sizeof pat, "\"%s\":\"", field);
    const char *p = strstr (json, pat);
    out [0] = 0;
    if (!p)
        return;
    p += strlen (pat);
    size_t i = 0;
    while (p [i] && p [i] != '"' && i + 1 < out_size) {
        out [i] = p [i];
        i++;
    }
    out [i] = 0;
}

//  One blocking call as ops; exits on failure unless the code is in ok.
static unsigned
s_call (const char *endpoint, const char *method, const ProtobufCMessage *req,
        const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena, ProtobufCMessage **reply)
{
    Tashan__Caller ops = ts_caller ("ops", "", "bench");
    char msg [256] = "";
    unsigned code = ts_rpc_call_sync (endpoint, NULL, method, &ops, req, reply_desc, arena,
                                      reply, msg, sizeof msg, 10000);
    if (code >= 400 && code != 404)
        fprintf (stderr, "%s: %u %s\n", method, code, msg);
    return code;
}

//  Persons through the residents daemon, a rule without a cap.
static int
s_setup_zmq (ingest *g, size_t persons)
{
    ts_config cfg;
    char *args [] = { "bench_ledger", "--data-dir", g->data_dir, NULL };
    if (ts_config_parse (&cfg, 3, args, "bench_ledger", "", NULL, false) != TS_CONFIG_RUN)
        return -1;
    snprintf (g->ledger_ep, sizeof g->ledger_ep, "%s", ts_config_endpoint (&cfg, "ledger"));
    snprintf (g->residents_ep, sizeof g->residents_ep, "%s",
              ts_config_endpoint (&cfg, "residents"));
    ts_arena *arena = ts_arena_new ();
    ProtobufCMessage *reply = NULL;
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "panel" };
    pr.code = "bench.point";
    pr.points = 1;
    pr.n_roles = 1;
    pr.roles = roles;
    if (s_call (g->ledger_ep, "ledger.PutRule", &pr.base, &tashan__ledger__rule__descriptor,
                arena, &reply) != 200)
        return -1;
    char number [32], room [32], name [32];
    snprintf (number, sizeof number, "BENCH%ld", (long) getpid ());
    Tashan__Residents__CreateBuildingRequest cb = TASHAN__RESIDENTS__CREATE_BUILDING_REQUEST__INIT;
    cb.number = number;
    cb.grid = "G1";
    if (s_call (g->residents_ep, "residents.CreateBuilding", &cb.base,
                &tashan__residents__building__descriptor, arena, &reply) != 201)
        return -1;
    for (size_t i = 0; i < persons; i++) {
        Tashan__Residents__MemberInput m = TASHAN__RESIDENTS__MEMBER_INPUT__INIT;
        Tashan__Residents__MemberInput *mp = &m;
        snprintf (name, sizeof name, "Bench %zu", i);
        snprintf (room, sizeof room, "%zu", i + 1);
        m.name = name;
        m.birth_year = 1980;
        Tashan__Residents__CreateHouseholdRequest ch = TASHAN__RESIDENTS__CREATE_HOUSEHOLD_REQUEST__INIT;
        ch.building = number;
        ch.room = room;
        ch.members = &mp;
        ch.n_members = 1;
        if (s_call (g->residents_ep, "residents.CreateHousehold", &ch.base,
                    &tashan__residents__household__descriptor, arena, &reply) != 201)
            return -1;
        Tashan__Residents__Household *hh = (Tashan__Residents__Household *) reply;
        if (hh->n_members != 1)
            return -1;
        snprintf (g->persons [i], sizeof g->persons [i], "%s", hh->members [0]->id);
        ts_arena_reset (arena);
    }
    g->person_count = persons;
    //  Wait until the ledger has heard of the last one.
    Tashan__Ledger__GetPersonRequest gp = TASHAN__LEDGER__GET_PERSON_REQUEST__INIT;
    gp.id = g->persons [persons - 1];
    unsigned code = 0;
    for (int i = 0; i < 300 && code != 200; i++) {
        code = s_call (g->ledger_ep, "ledger.GetPerson", &gp.base,
                       &tashan__ledger__person_credit__descriptor, arena, &reply);
        if (code != 200)
            usleep (100 * 1000);
    }
    ts_arena_destroy (&arena);
    if (code != 200) {
        fprintf (stderr, "the ledger never heard of %s\n", g->persons [persons - 1]);
        return -1;
    }
    return 0;
}

//  The HTTP part needs the ops token (to make a panel token).
static int
s_setup_http (ingest *g)
{
    char path [600], buf [RESPONSE_MAX];
    snprintf (path, sizeof path, "%s/gateway/ops.token", g->data_dir);
    FILE *f = fopen (path, "r");
    if (!f || !fgets (g->ops_token, sizeof g->ops_token, f)) {
        fprintf (stderr, "cannot read %s\n", path);
        if (f)
            fclose (f);
        return -1;
    }
    fclose (f);
    g->ops_token [strcspn (g->ops_token, "\r\n")] = 0;
    int fd = s_connect (g);
    if (fd < 0) {
        fprintf (stderr, "cannot connect to %s:%d\n", g->host, g->port);
        return -1;
    }
    int st = s_http (fd, "POST", "/v1/tokens", g->ops_token, "{\"role\":\"panel\"}", buf,
                     sizeof buf);
    close (fd);
    s_json_str (buf, "token", g->panel_token, sizeof g->panel_token);
    if (st != 201 || !g->panel_token [0]) {
        fprintf (stderr, "POST /v1/tokens: %d %s\n", st, buf);
        return -1;
    }
    return 0;
}

static void *
s_zmq_worker (void *arg)
{
    worker *w = arg;
    const ingest *g = w->g;
    const char *endpoint = g->ledger_ep;
    Tashan__Caller panel = ts_caller ("panel", "", "bench");
    Tashan__Ledger__EvaluateRequest *items = calloc ((size_t) g->batch, sizeof *items);
    Tashan__Ledger__EvaluateRequest **ptrs = calloc ((size_t) g->batch, sizeof *ptrs);
    char (*keys) [48] = calloc ((size_t) g->batch, 48);
    assert (items && ptrs && keys);
    uint64_t key = 0;
    double end = s_now_s () + g->seconds;
    while (s_now_s () < end && w->samples < SAMPLES_MAX) {
        for (int i = 0; i < g->batch; i++) {
            tashan__ledger__evaluate_request__init (&items [i]);
            snprintf (keys [i], 48, "z%ld-%d-%" PRIu64, (long) getpid (), w->index, ++key);
            items [i].person_id = (char *) g->persons [key % g->person_count];
            items [i].rule = "bench.point";
            items [i].idempotency_key = keys [i];
            ptrs [i] = &items [i];
        }
        Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
        b.evaluations = ptrs;
        b.n_evaluations = (size_t) g->batch;
        ts_arena *arena = ts_arena_new ();
        ProtobufCMessage *reply = NULL;
        char msg [256];
        double t0 = s_now_s ();
        unsigned code = ts_rpc_call_sync (endpoint, NULL, "ledger.EvaluateBatch", &panel, &b.base,
                                          &tashan__ledger__batch_reply__descriptor, arena, &reply,
                                          msg, sizeof msg, 10000);
        w->latency_us [w->samples++] = (uint32_t) ((s_now_s () - t0) * 1e6);
        if (code == 200 && reply)
            w->events += ((Tashan__Ledger__BatchReply *) reply)->accepted;
        else {
            if (!w->errors++)
                snprintf (w->first_error, sizeof w->first_error, "%u %.180s", code, msg);
        }
        ts_arena_destroy (&arena);
    }
    free (items);
    free (ptrs);
    free (keys);
    return NULL;
}

static void *
s_http_worker (void *arg)
{
    worker *w = arg;
    const ingest *g = w->g;
    int fd = s_connect (g);
    char *buf = malloc (RESPONSE_MAX);
    assert (buf);
    uint64_t key = 0;
    double end = s_now_s () + g->seconds;
    while (fd >= 0 && s_now_s () < end && w->samples < SAMPLES_MAX) {
        char body [256];
        key++;
        snprintf (body, sizeof body, "{\"person_id\":\"%s\",\"rule\":\"bench.point\","
                  "\"idempotency_key\":\"h%ld-%d-%" PRIu64 "\"}",
                  g->persons [key % g->person_count], (long) getpid (), w->index, key);
        double t0 = s_now_s ();
        int st = s_http (fd, "POST", "/v1/credit/evaluations", g->panel_token, body, buf,
                         RESPONSE_MAX);
        w->latency_us [w->samples++] = (uint32_t) ((s_now_s () - t0) * 1e6);
        if (st == 201)
            w->events++;
        else {
            if (!w->errors++)
                snprintf (w->first_error, sizeof w->first_error, "%d %.150s", st, buf);
            if (st < 0) {
                close (fd);
                fd = s_connect (g);
            }
        }
    }
    if (fd >= 0)
        close (fd);
    free (buf);
    return NULL;
}

static void
s_run (const ingest *g, int count, void *(*fn) (void *), const char *what)
{
    worker *ws = calloc ((size_t) count, sizeof *ws);
    pthread_t *th = calloc ((size_t) count, sizeof *th);
    assert (ws && th);
    double t0 = s_now_s ();
    for (int i = 0; i < count; i++) {
        ws [i].g = g;
        ws [i].index = i;
        ws [i].latency_us = calloc (SAMPLES_MAX, sizeof (uint32_t));
        assert (ws [i].latency_us);
        pthread_create (&th [i], NULL, fn, &ws [i]);
    }
    uint64_t events = 0, errors = 0;
    size_t samples = 0;
    for (int i = 0; i < count; i++) {
        pthread_join (th [i], NULL);
        events += ws [i].events;
        errors += ws [i].errors;
        samples += ws [i].samples;
    }
    double s = s_now_s () - t0;
    uint32_t *all = calloc (samples + 1, sizeof *all);
    assert (all);
    size_t k = 0;
    for (int i = 0; i < count; i++) {
        memcpy (all + k, ws [i].latency_us, ws [i].samples * sizeof *all);
        k += ws [i].samples;
        if (ws [i].errors && ws [i].first_error [0])
            printf ("%s: first error (worker %d): %s\n", what, i, ws [i].first_error);
        free (ws [i].latency_us);
    }
    printf ("%s: %" PRIu64 " events in %.1f s = %.0f events/s, %" PRIu64 " errors\n",
            what, events, s, (double) events / s, errors);
    s_print_latency (what, all, samples);
    free (all);
    free (ws);
    free (th);
}

static int
s_ingest (ingest *g, int threads, int connections, size_t persons, bool seeded,
          bool http_only)
{
    if (seeded) {
        ts_config cfg;
        char *args [] = { "bench_ledger", "--data-dir", g->data_dir, NULL };
        if (ts_config_parse (&cfg, 3, args, "bench_ledger", "", NULL, false) != TS_CONFIG_RUN)
            return 1;
        snprintf (g->ledger_ep, sizeof g->ledger_ep, "%s", ts_config_endpoint (&cfg, "ledger"));
        ts_arena *arena = ts_arena_new ();
        ProtobufCMessage *reply = NULL;
        Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
        char *roles [] = { "panel" };
        pr.code = "bench.point";
        pr.points = 1;
        pr.n_roles = 1;
        pr.roles = roles;
        unsigned code = s_call (g->ledger_ep, "ledger.PutRule", &pr.base,
                                &tashan__ledger__rule__descriptor, arena, &reply);
        ts_arena_destroy (&arena);
        if (code != 200)
            return 1;
        for (size_t i = 0; i < persons; i++)
            snprintf (g->persons [i], sizeof g->persons [i], "p%zu", i + 1);
        g->person_count = persons;
    }
    else
    if (s_setup_zmq (g, persons) != 0)
        return 1;
    if (g->port && s_setup_http (g) != 0)
        return 1;
    printf ("ingest bench: %zu persons; ZeroMQ %d clients x batches of %d; "
            "HTTP %d connections; %.0f s each\n", persons, threads, g->batch,
            g->port ? connections : 0, g->seconds);
    if (http_only)
        printf ("zeromq: skipped (--http-only)\n");
    else
        s_run (g, threads, s_zmq_worker, "zeromq EvaluateBatch (per batch)");
    if (g->port)
        s_run (g, connections, s_http_worker, "http POST /v1/credit/evaluations");
    else
        printf ("http: skipped (no --listen)\n");
    return 0;
}

//  ====================================================================

static void
s_usage (void)
{
    fprintf (stderr,
        "usage: bench_ledger board [--persons N] [--entries N] [--dir DIR] [--random-keys]\n"
        "       bench_ledger seed --data-dir DIR [--persons N]\n"
        "       bench_ledger ingest --data-dir DIR [--listen HOST:PORT] [--seconds S]\n"
        "            [--threads N] [--batch N] [--connections N] [--persons N]\n"
        "            [--seeded] [--http-only]\n");
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        s_usage ();
        return 2;
    }
    bool board = strcmp (argv [1], "board") == 0;
    bool seed = strcmp (argv [1], "seed") == 0;
    bool seeded = false, http_only = false;
    if (!board && !seed && strcmp (argv [1], "ingest") != 0) {
        s_usage ();
        return 2;
    }
    uint64_t persons = board ? 1000000 : 200, entries = 10000000;
    const char *dir = NULL;
    static ingest g;
    snprintf (g.host, sizeof g.host, "127.0.0.1");
    g.seconds = 10;
    g.batch = 1000;
    int threads = 4, connections = 32;
    for (int i = 2; i < argc; i += 2) {
        const char *k = argv [i], *v = i + 1 < argc ? argv [i + 1] : "";
        if (!strcmp (k, "--seeded")) { seeded = true; i--; }
        else if (!strcmp (k, "--http-only")) { http_only = true; i--; }
        else if (!strcmp (k, "--random-keys")) { s_random_keys = true; i--; }
        else if (!strcmp (k, "--persons")) persons = strtoull (v, NULL, 10);
        else if (!strcmp (k, "--entries")) entries = strtoull (v, NULL, 10);
        else if (!strcmp (k, "--dir")) dir = v;
        else if (!strcmp (k, "--data-dir")) snprintf (g.data_dir, sizeof g.data_dir, "%s", v);
        else if (!strcmp (k, "--listen")) {
            const char *colon = strrchr (v, ':');
            if (!colon) { s_usage (); return 2; }
            snprintf (g.host, sizeof g.host, "%.*s", (int) (colon - v), v);
            g.port = atoi (colon + 1);
        }
        else if (!strcmp (k, "--seconds")) g.seconds = atof (v);
        else if (!strcmp (k, "--threads")) threads = atoi (v);
        else if (!strcmp (k, "--batch")) g.batch = atoi (v);
        else if (!strcmp (k, "--connections")) connections = atoi (v);
        else { s_usage (); return 2; }
    }
    if (board) {
        if (persons < 1 || persons > 100000000 || entries > 1000000000) {
            s_usage ();
            return 2;
        }
        return s_board (persons, entries, dir);
    }
    if (seed) {
        char err [256];
        if (!g.data_dir [0] || persons < 1 || persons > PERSONS_MAX) {
            s_usage ();
            return 2;
        }
        ts_dispatch *d = ts_dispatch_new (&ledger_service, g.data_dir, err, sizeof err);
        if (!d) {
            fprintf (stderr, "%s\n", err);
            return 1;
        }
        s_load_persons (d, persons);
        ts_dispatch_destroy (&d);
        return 0;
    }
    if (!g.data_dir [0] || persons < 1 || persons > PERSONS_MAX || threads < 1
    ||  threads > THREADS_MAX || connections < 1 || connections > CONNECTIONS_MAX
    ||  g.batch < 1 || g.batch > 1000 || g.seconds <= 0) {
        s_usage ();
        return 2;
    }
    if (http_only && !g.port) {
        s_usage ();
        return 2;
    }
    return s_ingest (&g, threads, connections, (size_t) persons, seeded, http_only);
}

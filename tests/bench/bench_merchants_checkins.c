/*  bench_merchants_checkins - merchant apps posting check-ins through the
    gateway: N keep-alive HTTP connections (default 32), each posting
    POST /v1/checkins back to back for a fixed time, every check-in a new
    checkin_id (so each is a durable write). Prints check-ins/s, p50, p99
    and p99.9 latency, and any non-201 answers.

    With --redeem it measures card redemptions instead: each request is
    POST /v1/offers/{id}/redemptions with a new idempotency key, a saga
    across two daemons (merchants reserves the unit, the ledger debits
    the card, merchants takes the unit) answered when final. It first
    gives REDEEM_PERSONS residents card points with batched evaluations.

    Runs against a running system (deploy/up.sh or the test harness):
        bench_merchants_checkins --data-dir DIR --listen 127.0.0.1:8080
            [--seconds 10] [--connections 32]
    It reads the ops token from DIR/gateway/ops.token, registers a
    merchant with a merchant token, creates residents (through the
    residents daemon) and waits until the merchants daemon knows them.
    Target (issue 5): >= 5,000 check-ins/s, p99 < 20 ms. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECTIONS_MAX 256
#define PERSONS 32
#define REDEEM_PERSONS 4096          //  residents with cards (--redeem)
#define PERSONS_MAX REDEEM_PERSONS
#define EVAL_BATCH 1000
#define CODE_MAX 256                //  a card code's text (ts_cardcode.h: < 200)
#define SAMPLES_MAX (4u * 1000 * 1000)      //  requests per connection, at most
#define RESPONSE_MAX 65536
#define WAIT_READY_S 30

typedef struct {
    char host [64];
    int port;
    char ops_token [256];
    char merchant_token [256];
    char merchant_id [32];
    char persons [PERSONS_MAX][32];
    char codes [PERSONS][CODE_MAX];     //  each person's card code
    size_t person_count;
    double seconds;
    int connections;
    bool redeem;                        //  --redeem: card redemptions
    char offer_id [32];
} bench;

typedef struct {
    const bench *b;
    int index;                      //  connection number
    uint32_t *latency_us;           //  one per request
    size_t cap;                     //  room in latency_us: the request bound
    size_t count;                   //  requests answered 201
    size_t errors;                  //  other answers
    unsigned first_error;           //  status of the first error
    char first_error_body [200];
} worker;

static double
s_now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_connect (const bench *b)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) b->port) };
    if (inet_pton (AF_INET, b->host, &addr.sin_addr) != 1
    ||  connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0) {
        close (fd);
        return -1;
    }
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

//  One request on a keep-alive connection; returns the status (0 on a
//  broken connection) and copies the body (NUL-terminated) into body.
static unsigned
s_http (int fd, const char *method, const char *path, const char *token,
        const char *json, char *body, size_t body_size)
{
    char head_buf [1024];
    size_t json_len = json ? strlen (json) : 0;
    int n = snprintf (head_buf, sizeof head_buf,
                      "%s %s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      method, path, token, json_len);
    if (n <= 0 || (size_t) n >= sizeof head_buf)
        return 0;
    //  Headers and body in one write when they fit (one packet per
    //  request), else two.
    static _Thread_local char req [8192];
    const char *parts [2] = { head_buf, json ? json : "" };
    size_t sizes [2] = { (size_t) n, json_len };
    size_t part_count = 2;
    if ((size_t) n + json_len < sizeof req) {
        memcpy (req, head_buf, (size_t) n);
        memcpy (req + n, parts [1], json_len);
        parts [0] = req;
        sizes [0] = (size_t) n + json_len;
        part_count = 1;
    }
    for (size_t p = 0; p < part_count; p++)
        for (size_t sent = 0; sent < sizes [p];) {
            ssize_t w = write (fd, parts [p] + sent, sizes [p] - sent);
            if (w <= 0)
                return 0;
            sent += (size_t) w;
        }
    static _Thread_local char buf [RESPONSE_MAX];
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        if (have == sizeof buf - 1)
            return 0;
        ssize_t r = read (fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            return 0;
        have += (size_t) r;
        buf [have] = 0;
        end = strstr (buf, "\r\n\r\n");
    }
    unsigned status = 0;
    if (sscanf (buf, "HTTP/1.1 %u", &status) != 1)
        return 0;
    size_t length = 0;
    const char *cl = strcasestr (buf, "\r\nContent-Length:");
    if (cl)
        length = (size_t) strtoul (cl + 17, NULL, 10);
    size_t head = (size_t) (end + 4 - buf);
    if (head + length >= sizeof buf)
        return 0;
    while (have < head + length) {
        ssize_t r = read (fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            return 0;
        have += (size_t) r;
    }
    if (body && body_size) {
        size_t copy = length < body_size - 1 ? length : body_size - 1;
        memcpy (body, buf + head, copy);
        body [copy] = 0;
    }
    return status;
}

//  The string value after "key":" in json (into out); false if absent.
static bool
s_json_str (const char *json, const char *key, char *out, size_t out_size)
{
    char pattern [64];
    snprintf (pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr (json, pattern);
    if (!p)
        return false;
    p += strlen (pattern);
    size_t n = strcspn (p, "\"");
    if (n >= out_size)
        return false;
    memcpy (out, p, n);
    out [n] = 0;
    return true;
}

//  Register the merchant, its token and the residents; wait until the
//  merchants daemon knows the last resident.
//  --redeem: an offer with stock for the whole run, and card points for
//  every resident (evaluations in batches, as the panel's app sends them).
static int
s_prepare_redeem (bench *b, int fd)
{
    static char body [RESPONSE_MAX];
    char json [512];
    snprintf (json, sizeof json, "{\"merchant_id\":\"%s\",\"title\":\"notebook\","
              "\"kind\":\"item\",\"points\":1,\"stock\":1000000}", b->merchant_id);
    unsigned st = s_http (fd, "POST", "/v1/offers", b->ops_token, json, body, sizeof body);
    if (st != 201 || !s_json_str (body, "id", b->offer_id, sizeof b->offer_id)) {
        fprintf (stderr, "POST /v1/offers: %u %s\n", st, body);
        return -1;
    }
    static const char *const rules [] = { "garbage_sorting.good", "civil_conduct.good" };
    enum { PER_RULE = 5 };
    size_t evals = b->person_count * 2 * PER_RULE, done = 0;
    char *batch = malloc ((size_t) EVAL_BATCH * 160 + 64);
    if (!batch)
        return -1;
    while (done < evals) {
        size_t used = (size_t) sprintf (batch, "{\"evaluations\":[");
        for (size_t k = 0; k < EVAL_BATCH && done < evals; k++, done++) {
            size_t person = done / (2 * PER_RULE), rest = done % (2 * PER_RULE);
            used += (size_t) sprintf (batch + used,
                "%s{\"person_id\":\"%s\",\"rule\":\"%s\",\"idempotency_key\":\"bench-%d-%zu\"}",
                k ? "," : "", b->persons [person], rules [rest / PER_RULE], (int) getpid (), done);
        }
        strcpy (batch + used, "]}");
        double deadline = s_now_s () + WAIT_READY_S;
        //  The ledger hears of new persons as events: a batch may come early.
        do {
            st = s_http (fd, "POST", "/v1/credit/evaluations/batch", b->ops_token, batch,
                         body, sizeof body);
            if (st == 200 && !strstr (body, "\"rejected\":[{"))
                break;
            usleep (100 * 1000);
        } while (s_now_s () < deadline);
        if (st != 200) {
            fprintf (stderr, "POST /v1/credit/evaluations/batch: %u %.300s\n", st, body);
            free (batch);
            return -1;
        }
    }
    free (batch);
    return 0;
}

static int
s_prepare (bench *b)
{
    int fd = s_connect (b);
    if (fd < 0) {
        fprintf (stderr, "cannot connect to %s:%d\n", b->host, b->port);
        return -1;
    }
    char body [RESPONSE_MAX];
    unsigned st = s_http (fd, "POST", "/v1/merchants", b->ops_token,
                          "{\"name\":\"Bench barber\",\"kind\":\"individual\","
                          "\"category\":\"beauty\",\"services\":[\"haircut\"],"
                          "\"free_services\":[\"free haircut\"]}", body, sizeof body);
    if (st != 201 || !s_json_str (body, "id", b->merchant_id, sizeof b->merchant_id)) {
        fprintf (stderr, "POST /v1/merchants: %u %s\n", st, body);
        return -1;
    }
    char json [768];
    snprintf (json, sizeof json, "{\"role\":\"merchant\",\"merchant_id\":\"%s\"}", b->merchant_id);
    st = s_http (fd, "POST", "/v1/tokens", b->ops_token, json, body, sizeof body);
    if (st != 201 || !s_json_str (body, "token", b->merchant_token, sizeof b->merchant_token)) {
        fprintf (stderr, "POST /v1/tokens: %u %s\n", st, body);
        return -1;
    }
    char building [32];
    snprintf (building, sizeof building, "bench-%ld", (long) getpid ());
    snprintf (json, sizeof json, "{\"number\":\"%s\",\"grid\":\"G1\"}", building);
    st = s_http (fd, "POST", "/v1/buildings", b->ops_token, json, body, sizeof body);
    if (st != 201) {
        fprintf (stderr, "POST /v1/buildings: %u %s\n", st, body);
        return -1;
    }
    int persons_wanted = b->redeem ? REDEEM_PERSONS : PERSONS;
    for (int h = 0; h < persons_wanted / 8; h++) {
        char members [1024] = "";
        for (int i = 0; i < 8; i++) {
            char one [96];
            snprintf (one, sizeof one, "%s{\"name\":\"Resident %d\",\"birth_year\":%d}",
                      i ? "," : "", h * 8 + i, 1950 + i * 5);
            strcat (members, one);
        }
        char req [1536];
        snprintf (req, sizeof req, "{\"building\":\"%s\",\"room\":\"%d01\",\"members\":[%s]}",
                  building, h + 1, members);
        st = s_http (fd, "POST", "/v1/households", b->ops_token, req, body, sizeof body);
        if (st != 201) {
            fprintf (stderr, "POST /v1/households: %u %s\n", st, body);
            return -1;
        }
        //  Member ids: every "id":"p…" in the household.
        for (const char *p = body; (p = strstr (p, "\"id\":\"p"))
                                   && b->person_count < (size_t) persons_wanted;
             p += 6)
            s_json_str (p, "id", b->persons [b->person_count++], sizeof b->persons [0]);
    }
    if (b->person_count == 0) {
        fprintf (stderr, "no person ids in the households' replies\n");
        return -1;
    }
    //  Each resident's card code from the ledger (which hears of persons
    //  as events: wait for each), then one check-in to wait until the
    //  merchants daemon knows the last person too.
    double deadline = s_now_s () + WAIT_READY_S;
    for (size_t i = 0; i < b->person_count && i < PERSONS; i++) {
        char path [96];
        snprintf (path, sizeof path, "/v1/persons/%s/card-code", b->persons [i]);
        for (;;) {
            st = s_http (fd, "POST", path, b->ops_token, "{}", body, sizeof body);
            if (st == 201 && s_json_str (body, "code", b->codes [i], sizeof b->codes [i]))
                break;
            if (s_now_s () > deadline || st != 404) {
                fprintf (stderr, "POST %s: %u %s\n", path, st, body);
                return -1;
            }
            usleep (50 * 1000);
        }
    }
    for (int attempt = 0;; attempt++) {
        snprintf (json, sizeof json,
                  "{\"checkin_id\":\"warm-%d\",\"merchant_id\":\"%s\",\"resident_code\":\"%s\","
                  "\"service\":\"haircut\"}",
                  attempt, b->merchant_id, b->codes [PERSONS - 1]);
        st = s_http (fd, "POST", "/v1/checkins", b->merchant_token, json, body, sizeof body);
        if (st == 201)
            break;
        if (s_now_s () > deadline || (st != 422 && st != 404)) {
            fprintf (stderr, "warm-up check-in: %u %s\n", st, body);
            return -1;
        }
        usleep (100 * 1000);
    }
    if (b->redeem && s_prepare_redeem (b, fd) != 0)
        return -1;
    close (fd);
    return 0;
}

static void *
s_worker (void *arg)
{
    worker *w = arg;
    const bench *b = w->b;
    int fd = s_connect (b);
    if (fd < 0) {
        w->errors++;
        return NULL;
    }
    double end = s_now_s () + b->seconds;
    char json [768], body [512];
    for (size_t i = 0; i < w->cap; i++) {
        double t0 = s_now_s ();
        if (t0 >= end)
            break;
        unsigned st;
        if (b->redeem) {
            char path [96];
            snprintf (path, sizeof path, "/v1/offers/%s/redemptions", b->offer_id);
            snprintf (json, sizeof json,
                      "{\"person_id\":\"%s\",\"idempotency_key\":\"b%d-%d-%zu\"}",
                      b->persons [(i * (size_t) b->connections + (size_t) w->index)
                                  % b->person_count],
                      (int) getpid (), w->index, i);
            st = s_http (fd, "POST", path, b->ops_token, json, body, sizeof body);
        }
        else {
            snprintf (json, sizeof json,
                      "{\"checkin_id\":\"b%d-%d-%zu\",\"merchant_id\":\"%s\","
                      "\"resident_code\":\"%s\",\"service\":\"haircut\"}",
                      (int) getpid (), w->index, i, b->merchant_id,
                      b->codes [(i + (size_t) w->index) % PERSONS]);
            st = s_http (fd, "POST", "/v1/checkins", b->merchant_token, json, body,
                         sizeof body);
        }
        double t1 = s_now_s ();
        if (st == 201)
            w->latency_us [w->count++] = (uint32_t) ((t1 - t0) * 1e6);
        else {
            if (w->errors++ == 0) {
                w->first_error = st;
                snprintf (w->first_error_body, sizeof w->first_error_body, "%.199s", body);
            }
            if (st == 0) {
                close (fd);
                fd = s_connect (b);
                if (fd < 0)
                    return NULL;
            }
        }
    }
    close (fd);
    return NULL;
}

static int
s_cmp_u32 (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
    static bench b = { .seconds = 10, .connections = 32 };
    const char *data_dir = NULL, *listen = "127.0.0.1:8080";
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--data-dir") == 0 && i + 1 < argc)
            data_dir = argv [++i];
        else if (strcmp (argv [i], "--listen") == 0 && i + 1 < argc)
            listen = argv [++i];
        else if (strcmp (argv [i], "--seconds") == 0 && i + 1 < argc)
            b.seconds = atof (argv [++i]);
        else if (strcmp (argv [i], "--connections") == 0 && i + 1 < argc)
            b.connections = atoi (argv [++i]);
        else if (strcmp (argv [i], "--redeem") == 0)
            b.redeem = true;
        else {
            fprintf (stderr, "usage: %s --data-dir DIR [--listen HOST:PORT] "
                     "[--seconds S] [--connections N] [--redeem]\n", argv [0]);
            return 2;
        }
    }
    if (!data_dir || b.connections < 1 || b.connections > CONNECTIONS_MAX
    ||  b.seconds <= 0 || b.seconds > 3600) {
        fprintf (stderr, "need --data-dir; connections 1..%d; seconds 0..3600\n",
                 CONNECTIONS_MAX);
        return 2;
    }
    if (sscanf (listen, "%63[^:]:%d", b.host, &b.port) != 2) {
        fprintf (stderr, "--listen must be HOST:PORT\n");
        return 2;
    }
    char path [1024];
    snprintf (path, sizeof path, "%s/gateway/ops.token", data_dir);
    FILE *f = fopen (path, "r");
    if (!f || !fgets (b.ops_token, sizeof b.ops_token, f)) {
        fprintf (stderr, "cannot read %s\n", path);
        return 1;
    }
    fclose (f);
    b.ops_token [strcspn (b.ops_token, "\r\n")] = 0;
    if (s_prepare (&b) != 0)
        return 1;

    worker *workers = calloc ((size_t) b.connections, sizeof *workers);
    pthread_t *threads = calloc ((size_t) b.connections, sizeof *threads);
    size_t per_worker = (size_t) (b.seconds * 50000);     //  50k/s per connection max
    if (per_worker > SAMPLES_MAX)
        per_worker = SAMPLES_MAX;
    for (int i = 0; i < b.connections; i++) {
        workers [i].b = &b;
        workers [i].index = i;
        workers [i].cap = per_worker;
        workers [i].latency_us = malloc (per_worker * sizeof (uint32_t));
        if (!workers [i].latency_us)
            return 1;
    }
    double t0 = s_now_s ();
    for (int i = 0; i < b.connections; i++)
        pthread_create (&threads [i], NULL, s_worker, &workers [i]);
    for (int i = 0; i < b.connections; i++)
        pthread_join (threads [i], NULL);
    double elapsed = s_now_s () - t0;

    size_t total = 0, errors = 0;
    for (int i = 0; i < b.connections; i++) {
        total += workers [i].count;
        errors += workers [i].errors;
    }
    uint32_t *all = malloc ((total ? total : 1) * sizeof (uint32_t));
    size_t k = 0;
    for (int i = 0; i < b.connections; i++) {
        memcpy (all + k, workers [i].latency_us, workers [i].count * sizeof (uint32_t));
        k += workers [i].count;
    }
    qsort (all, total, sizeof (uint32_t), s_cmp_u32);
    double p50 = total ? all [total / 2] / 1000.0 : 0;
    double p99 = total ? all [(size_t) ((double) total * 0.99)] / 1000.0 : 0;
    double p999 = total ? all [(size_t) ((double) total * 0.999)] / 1000.0 : 0;
    const char *what = b.redeem ? "redemptions" : "checkins";
    printf ("bench_merchants_checkins: %d connections, %.1f s, durable %s "
            "through the gateway\n", b.connections, elapsed,
            b.redeem ? "card redemptions (merchants + ledger saga)" : "check-ins");
    printf ("%s=%zu errors=%zu %s_per_s=%.0f p50_ms=%.2f p99_ms=%.2f "
            "p999_ms=%.2f max_ms=%.2f\n",
            what, total, errors, what, (double) total / elapsed, p50, p99, p999,
            total ? all [total - 1] / 1000.0 : 0);
    for (int i = 0; i < b.connections; i++)
        if (workers [i].errors) {
            printf ("first error: %u %s\n", workers [i].first_error,
                    workers [i].first_error_body);
            break;
        }
    if (!b.redeem)
        printf ("target: >= 5000 checkins/s and p99 < 20 ms: %s\n",
                (double) total / elapsed >= 5000 && p99 < 20 ? "met" : "NOT met");
    for (int i = 0; i < b.connections; i++)
        free (workers [i].latency_us);
    free (workers);
    free (threads);
    free (all);
    return errors && !total ? 1 : 0;
}

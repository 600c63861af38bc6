/*  test_ts_daemon - a real daemon (forked, on the shared runtime, with its
    own LMDB and ROUTER socket) fed malformed ZeroMQ traffic: it answers
    every frame with a clear status (corr_id 0 when unreadable), never dies, and
    still serves; SIGTERM stops it cleanly (exit 0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "crashtest.pb-c.h"
#include "ts_service.h"
#include "ts_status.h"
#include "ts_zmq.h"

static unsigned
s_echo (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    if (strcmp (req->key, "fail") == 0)
        return ts_fail (ctx, TS_CONFLICT, "asked to fail");
    rep->seq = strlen (req->key);
    return TS_OK;
}

//  Stores the key (up to megabytes) as a value: a write of any size.
static unsigned
s_store (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    ts_table t = ts_store_table (ts_txn_store (ctx->txn), "blobs");
    ts_txn_put (ctx->txn, t, "last", 4, req->key, strlen (req->key));
    rep->seq = strlen (req->key);
    return TS_CREATED;
}

static const ts_method s_methods [] = {
    { "test.Echo", &tashan__crashtest__emit_request__descriptor,
      &tashan__crashtest__emit_reply__descriptor, s_echo, TS_METHOD_READ,
      TS_ROLE_OPS, NULL },
    { "test.Store", &tashan__crashtest__emit_request__descriptor,
      &tashan__crashtest__emit_reply__descriptor, s_store, TS_METHOD_WRITE,
      TS_ROLE_OPS, NULL },
};

static const ts_table_def s_tables [] = { { "blobs", 0 } };

static const ts_service s_service = {
    .name = "volunteers", .summary = "frame test", .schema_version = 1,
    .tables = s_tables, .table_count = 1,
    .methods = s_methods, .method_count = 2,
};

typedef struct {
    char dir [64];
    pid_t pid;
    void *ctx;
    void *sock;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "daemon"), 0);
    f->pid = fork ();
    assert_true (f->pid >= 0);
    if (f->pid == 0) {
        char *argv [] = { "test", "--data-dir", f->dir, "--log-level", "error", NULL };
        _exit (ts_daemon_main (&s_service, 5, argv));
    }
    //  Our own context: the child has its own copy of the process state.
    f->ctx = zmq_ctx_new ();
    f->sock = zmq_socket (f->ctx, ZMQ_DEALER);
    int timeout_ms = 2000, linger = 0;
    zmq_setsockopt (f->sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt (f->sock, ZMQ_LINGER, &linger, sizeof linger);
    char ep [128];
    snprintf (ep, sizeof ep, "ipc://%s/run/volunteers.sock", f->dir);
    assert_int_equal (zmq_connect (f->sock, ep), 0);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    zmq_close (f->sock);
    zmq_ctx_term (f->ctx);
    if (f->pid > 0) {
        kill (f->pid, SIGKILL);
        waitpid (f->pid, NULL, 0);
    }
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

static void
s_send_request (fixture_t *f, uint64_t corr_id, const char *method, const char *role,
                bool with_caller, const uint8_t *body, size_t body_size)
{
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = (char *) role;
    Tashan__Request req = TASHAN__REQUEST__INIT;
    req.corr_id = corr_id;
    req.method = (char *) method;
    req.caller = with_caller ? &caller : NULL;
    req.body.data = (uint8_t *) body;
    req.body.len = body_size;
    uint8_t buf [4096];
    size_t size = protobuf_c_message_pack (&req.base, buf);
    assert_true (size < sizeof buf);
    assert_int_equal (zmq_send (f->sock, buf, size, 0), (int) size);
}

//  Receive one reply; returns its status code (0 when none came).
static unsigned
s_recv_reply (fixture_t *f, uint64_t *corr_id, char *message, size_t message_size)
{
    uint8_t buf [8192];
    int n = zmq_recv (f->sock, buf, sizeof buf, 0);
    if (n < 0)
        return 0;
    Tashan__Reply *rep = tashan__reply__unpack (NULL, (size_t) n, buf);
    assert_non_null (rep);
    assert_non_null (rep->status);
    unsigned code = rep->status->code;
    if (corr_id)
        *corr_id = rep->corr_id;
    if (message)
        snprintf (message, message_size, "%s", rep->status->message);
    tashan__reply__free_unpacked (rep, NULL);
    return code;
}

static unsigned
s_health (fixture_t *f)
{
    s_send_request (f, 77, "sys.Health", "system", true, NULL, 0);
    //  Junk sent before may decode as requests (protobuf is lenient) and
    //  get error replies: skip those, bounded.
    for (int i = 0; i < 100; i++) {
        uint64_t corr = 0;
        unsigned code = s_recv_reply (f, &corr, NULL, 0);
        if (code == 0 || corr == 77)
            return code;
        assert_true (code >= 400);
    }
    return 0;
}

static void
test_serves_a_valid_request (void **state)
{
    fixture_t *f = *state;
    Tashan__Crashtest__EmitRequest req = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    req.key = "hello";
    uint8_t body [64];
    size_t size = protobuf_c_message_pack (&req.base, body);
    s_send_request (f, 5, "test.Echo", "ops", true, body, size);
    uint64_t corr;
    assert_int_equal (s_recv_reply (f, &corr, NULL, 0), TS_OK);
    assert_int_equal (corr, 5);
}

static void
test_garbage_frames_are_dropped_and_daemon_lives (void **state)
{
    fixture_t *f = *state;
    //  Not a protobuf at all.
    assert_int_equal (zmq_send (f->sock, "\xff\xff\xff\xff garbage", 12, 0), 12);
    //  Empty frame.
    assert_int_equal (zmq_send (f->sock, "", 0, 0), 0);
    //  Three frames: not our protocol.
    zmq_send (f->sock, "a", 1, ZMQ_SNDMORE);
    zmq_send (f->sock, "b", 1, ZMQ_SNDMORE);
    zmq_send (f->sock, "c", 1, 0);
    //  Random bytes of many sizes.
    uint8_t junk [3000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk [i] = (uint8_t) (i * 7919u >> 3);
    for (size_t len = 1; len < sizeof junk; len += 97)
        zmq_send (f->sock, junk, len, 0);
    assert_int_equal (s_health (f), TS_OK);
}

static void
test_bad_envelopes_get_clear_errors (void **state)
{
    fixture_t *f = *state;
    char message [256];
    s_send_request (f, 1, "test.Echo", "ops", false, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, message, sizeof message), TS_BAD_REQUEST);
    assert_non_null (strstr (message, "caller"));

    char long_method [200];
    memset (long_method, 'm', sizeof long_method - 1);
    long_method [sizeof long_method - 1] = 0;
    s_send_request (f, 2, long_method, "ops", true, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_BAD_REQUEST);

    s_send_request (f, 3, "", "ops", true, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_BAD_REQUEST);

    s_send_request (f, 4, "test.Nope", "ops", true, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_NOT_FOUND);

    s_send_request (f, 5, "test.Echo", "merchant", true, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_FORBIDDEN);

    //  A body that is not the method's request message.
    s_send_request (f, 6, "test.Echo", "ops", true, (const uint8_t *) "\x0a\xff", 2);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_BAD_REQUEST);

    //  System methods are for role system only, and validate their input.
    s_send_request (f, 7, "sys.Fetch", "ops", true, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_FORBIDDEN);
    s_send_request (f, 8, "sys.Fetch", "system", true, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_BAD_REQUEST);
    s_send_request (f, 9, "sys.Backup", "system", true, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_BAD_REQUEST);
    s_send_request (f, 10, "sys.Nothing", "system", true, NULL, 0);
    assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_NOT_FOUND);

    //  A handler error comes back with its message.
    Tashan__Crashtest__EmitRequest req = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    req.key = "fail";
    uint8_t body [64];
    size_t size = protobuf_c_message_pack (&req.base, body);
    s_send_request (f, 11, "test.Echo", "ops", true, body, size);
    assert_int_equal (s_recv_reply (f, NULL, message, sizeof message), TS_CONFLICT);
    assert_string_equal (message, "asked to fail");
    assert_int_equal (s_health (f), TS_OK);
}

//  What cannot be read as a request is answered, not dropped: 400 for a
//  frame that is no Request or a message of several frames, 413 for a
//  frame over TS_FRAME_MAX_BYTES (corr_id 0: it could not be read).
static void
test_malformed_frames_are_answered (void **state)
{
    fixture_t *f = *state;
    char message [256];
    uint64_t corr = 99;
    assert_int_equal (zmq_send (f->sock, "\xff\xff\xff\xff garbage", 12, 0), 12);
    assert_int_equal (s_recv_reply (f, &corr, message, sizeof message), TS_BAD_REQUEST);
    assert_int_equal (corr, 0);
    assert_non_null (strstr (message, "not a packed tashan.Request"));
    zmq_send (f->sock, "a", 1, ZMQ_SNDMORE);
    zmq_send (f->sock, "b", 1, ZMQ_SNDMORE);
    zmq_send (f->sock, "c", 1, 0);
    assert_int_equal (s_recv_reply (f, NULL, message, sizeof message), TS_BAD_REQUEST);
    assert_non_null (strstr (message, "one frame"));
    size_t size = TS_FRAME_MAX_BYTES + 1;
    uint8_t *big = calloc (1, size);
    assert_int_equal (zmq_send (f->sock, big, size, 0), (int) size);
    free (big);
    assert_int_equal (s_recv_reply (f, &corr, message, sizeof message), TS_TOO_LARGE);
    assert_int_equal (corr, 0);
    assert_int_equal (s_health (f), TS_OK);
}

//  A REQ socket's envelope (empty delimiter frame) gets a Reply in that
//  envelope, so the REQ client reads why.
static void
test_req_envelope_is_answered (void **state)
{
    fixture_t *f = *state;
    void *req_sock = zmq_socket (f->ctx, ZMQ_REQ);
    int timeout_ms = 2000, linger = 0;
    zmq_setsockopt (req_sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt (req_sock, ZMQ_LINGER, &linger, sizeof linger);
    char ep [128];
    snprintf (ep, sizeof ep, "ipc://%s/run/volunteers.sock", f->dir);
    assert_int_equal (zmq_connect (req_sock, ep), 0);
    Tashan__Request req = TASHAN__REQUEST__INIT;
    req.corr_id = 42;
    req.method = "sys.Health";
    uint8_t buf [64];
    size_t size = protobuf_c_message_pack (&req.base, buf);
    assert_int_equal (zmq_send (req_sock, buf, size, 0), (int) size);
    uint8_t reply_buf [1024];
    int n = zmq_recv (req_sock, reply_buf, sizeof reply_buf, 0);
    assert_true (n > 0);
    Tashan__Reply *rep = tashan__reply__unpack (NULL, (size_t) n, reply_buf);
    assert_non_null (rep);
    assert_int_equal (rep->corr_id, 42);
    assert_int_equal (rep->status->code, TS_BAD_REQUEST);
    assert_non_null (strstr (rep->status->message, "DEALER"));
    tashan__reply__free_unpacked (rep, NULL);
    zmq_close (req_sock);
}

//  sys.Backup writes only under backup.root (<data-dir>/backups).
static void
test_backup_outside_root_refused (void **state)
{
    fixture_t *f = *state;
    const char *dirs [] = { "/tmp", "/etc/tashan-backup", "", "relative/dir" };
    unsigned codes [] = { TS_FORBIDDEN, TS_FORBIDDEN, TS_BAD_REQUEST, TS_BAD_REQUEST };
    for (size_t i = 0; i < 4; i++) {
        Tashan__BackupRequest br = TASHAN__BACKUP_REQUEST__INIT;
        br.dir = (char *) dirs [i];
        uint8_t body [256];
        size_t size = protobuf_c_message_pack (&br.base, body);
        s_send_request (f, 20 + i, "sys.Backup", "system", true, body, size);
        char message [256];
        assert_int_equal (s_recv_reply (f, NULL, message, sizeof message), codes [i]);
    }
    //  A symlink under the root pointing out of it is outside too.
    char link [128], inside [256];
    snprintf (link, sizeof link, "%s/backups/out", f->dir);
    assert_int_equal (symlink ("/tmp", link), 0);
    snprintf (inside, sizeof inside, "%s/x", link);
    Tashan__BackupRequest br = TASHAN__BACKUP_REQUEST__INIT;
    br.dir = inside;
    uint8_t body [256];
    size_t size = protobuf_c_message_pack (&br.base, body);
    s_send_request (f, 30, "sys.Backup", "system", true, body, size);
    char message [256];
    assert_int_equal (s_recv_reply (f, NULL, message, sizeof message), TS_FORBIDDEN);
    assert_non_null (strstr (message, "outside backup.root"));
    //  Under the root: done.
    snprintf (inside, sizeof inside, "%s/backups/one", f->dir);
    br.dir = inside;
    size = protobuf_c_message_pack (&br.base, body);
    s_send_request (f, 31, "sys.Backup", "system", true, body, size);
    assert_int_equal (s_recv_reply (f, NULL, message, sizeof message), TS_OK);
}

static void
test_big_requests_all_answered (void **state)
{
    fixture_t *f = *state;
    //  Ten 1 MiB writes sent at once: all answered and committed (group
    //  commits of at most TS_BATCH_MAX_BYTES of requests each; how they
    //  split depends on how fast the bytes arrive).
    size_t size = 1024 * 1024;
    char *key = malloc (size + 1);
    memset (key, 'k', size);
    key [size] = 0;
    Tashan__Crashtest__EmitRequest req = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    req.key = key;
    size_t body_size = protobuf_c_message_get_packed_size (&req.base);
    uint8_t *body = malloc (body_size);
    protobuf_c_message_pack (&req.base, body);
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = "ops";
    for (uint64_t i = 0; i < 10; i++) {
        Tashan__Request r = TASHAN__REQUEST__INIT;
        r.corr_id = 100 + i;
        r.method = "test.Store";
        r.caller = &caller;
        r.body.data = body;
        r.body.len = body_size;
        size_t n = protobuf_c_message_get_packed_size (&r.base);
        uint8_t *frame = malloc (n);
        protobuf_c_message_pack (&r.base, frame);
        assert_int_equal (zmq_send (f->sock, frame, n, 0), (int) n);
        free (frame);
    }
    for (int i = 0; i < 10; i++)
        assert_int_equal (s_recv_reply (f, NULL, NULL, 0), TS_CREATED);
    free (body);
    free (key);
    //  Health counts the commits made.
    s_send_request (f, 78, "sys.Health", "system", true, NULL, 0);
    uint8_t buf [8192];
    int n = zmq_recv (f->sock, buf, sizeof buf, 0);
    assert_true (n > 0);
    Tashan__Reply *rep = tashan__reply__unpack (NULL, (size_t) n, buf);
    assert_non_null (rep);
    Tashan__HealthReply *h = tashan__health_reply__unpack (NULL, rep->body.len, rep->body.data);
    assert_non_null (h);
    assert_true (h->batches_total >= 1 && h->batches_total <= 10);
    assert_int_equal (h->requests_total, 11);
    tashan__health_reply__free_unpacked (h, NULL);
    tashan__reply__free_unpacked (rep, NULL);
}

static void
test_sigterm_stops_cleanly (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_health (f), TS_OK);
    kill (f->pid, SIGTERM);
    int status;
    assert_int_equal (waitpid (f->pid, &status, 0), f->pid);
    f->pid = 0;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_serves_a_valid_request, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_garbage_frames_are_dropped_and_daemon_lives,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_envelopes_get_clear_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_malformed_frames_are_answered, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_req_envelope_is_answered, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_backup_outside_root_refused, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_big_requests_all_answered,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sigterm_stops_cleanly, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  ts_zmq - context and socket setup. See ts_zmq.h. */
#include "ts_zmq.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static void *s_ctx;

void *
ts_zmq_ctx (void)
{
    if (!s_ctx) {
        s_ctx = zmq_ctx_new ();
        assert (s_ctx);
        zmq_ctx_set (s_ctx, ZMQ_IO_THREADS, 1);
    }
    return s_ctx;
}

void
ts_zmq_term (void)
{
    if (s_ctx) {
        zmq_ctx_term (s_ctx);
        s_ctx = NULL;
    }
}

static void
s_limits (void *sock)
{
    int hwm = TS_ZMQ_HWM, linger_ms = 500;
    //  Frames bigger than this are dropped by libzmq before we see them.
    int64_t max_bytes = 4 * 1024 * 1024;
    zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_setsockopt (sock, ZMQ_MAXMSGSIZE, &max_bytes, sizeof max_bytes);
}

void *
ts_zmq_router (const char *endpoint, const ts_config *cfg, char *err, size_t err_size)
{
    void *sock = zmq_socket (ts_zmq_ctx (), ZMQ_ROUTER);
    assert (sock);
    s_limits (sock);
    //  Replies to a peer that went away fail fast instead of queueing.
    int mandatory = 1;
    zmq_setsockopt (sock, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    if (cfg && cfg->curve_secret [0]) {
        int server = 1;
        zmq_setsockopt (sock, ZMQ_CURVE_SERVER, &server, sizeof server);
        zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, cfg->curve_secret, 40);
    }
    if (zmq_bind (sock, endpoint) != 0) {
        snprintf (err, err_size, "cannot bind %s: %s", endpoint, zmq_strerror (errno));
        zmq_close (sock);
        return NULL;
    }
    return sock;
}

void *
ts_zmq_dealer (const char *endpoint, const ts_config *cfg, bool immediate,
               char *err, size_t err_size)
{
    void *sock = zmq_socket (ts_zmq_ctx (), ZMQ_DEALER);
    assert (sock);
    s_limits (sock);
    int on = immediate ? 1 : 0;
    zmq_setsockopt (sock, ZMQ_IMMEDIATE, &on, sizeof on);
    int reconnect_ms = 100, reconnect_max_ms = 1000;
    zmq_setsockopt (sock, ZMQ_RECONNECT_IVL, &reconnect_ms, sizeof reconnect_ms);
    zmq_setsockopt (sock, ZMQ_RECONNECT_IVL_MAX, &reconnect_max_ms, sizeof reconnect_max_ms);
    if (cfg && cfg->curve_server [0] && cfg->curve_public [0] && cfg->curve_secret [0]) {
        zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, cfg->curve_server, 40);
        zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, cfg->curve_public, 40);
        zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, cfg->curve_secret, 40);
    }
    if (zmq_connect (sock, endpoint) != 0) {
        snprintf (err, err_size, "cannot connect %s: %s", endpoint, zmq_strerror (errno));
        zmq_close (sock);
        return NULL;
    }
    return sock;
}

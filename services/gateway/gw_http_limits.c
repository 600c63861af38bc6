/*  =========================================================================
    gw_http_limits - who may hold a connection, so one client cannot lock
    the others out:

      * at most max_connections_per_address open from one IP address (a
        hash table of chains keyed by the address text; a chain holds only
        connections whose address hashes alike, so counting walks at most
        the cap plus collisions);
      * when the whole table (max_connections) is full, the connection
        that has been idle longest is closed to make room for the new one
        (the idle list, oldest first, kept in step by conn_arm_timer);
        only when none is idle is the newcomer refused.

    A new connection that sends nothing is idle too, with the short
    first_byte_timeout_ms (gw_http_conn.c), so a flood of silent
    connections is both evicted first and timed out early.
    =========================================================================
*/
//  Invariant asserts stay on in release builds (STYLE: broken invariants
//  are asserts that stay on in production).
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http_internal.h"
#include "ts_hash.h"

//  --------------------------------------------------------------------------
//  Set up the per-address table: about two buckets per connection.

int
gw_http__limits_init (gw_http *self)
{
    uint32_t count = 64;
    while (count < 2 * self->cfg.max_connections && count < (1u << 20))
        count *= 2;
    self->addr_buckets = calloc (count, sizeof *self->addr_buckets);
    if (!self->addr_buckets)
        return -ENOMEM;
    self->addr_bucket_count = count;
    return 0;
}

void
gw_http__limits_free (gw_http *self)
{
    free (self->addr_buckets);
    self->addr_buckets = NULL;
    self->addr_bucket_count = 0;
}


//  --------------------------------------------------------------------------
//  Open connections from conn's address (conn itself not counted yet).

static uint32_t
s_count_address (gw_http *server, gw_http_conn *conn)
{
    uint32_t bucket = conn->addr_hash & (server->addr_bucket_count - 1);
    uint32_t same = 0, seen = 0;
    for (gw_http_conn *c = server->addr_buckets [bucket]; c; c = c->anext) {
        assert (++seen <= server->conn_count);
        if (c->addr_hash == conn->addr_hash && strcmp (c->remote_ip, conn->remote_ip) == 0)
            same++;
    }
    return same;
}

static void
s_count_in (gw_http *server, gw_http_conn *conn)
{
    uint32_t bucket = conn->addr_hash & (server->addr_bucket_count - 1);
    conn->aprev = NULL;
    conn->anext = server->addr_buckets [bucket];
    if (conn->anext)
        conn->anext->aprev = conn;
    server->addr_buckets [bucket] = conn;
    conn->counted = true;
}


//  --------------------------------------------------------------------------
//  May a connection just accepted stay?

bool
gw_http__limits_admit (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    assert (!conn->counted);
    //  Addresses are chosen by clients, but a collision only lengthens one
    //  chain, bounded by max_connections.
    conn->addr_hash = ts_hash_text (conn->remote_ip, GW_HTTP_REMOTE_BYTES);
    if (s_count_address (server, conn) >= server->cfg.max_connections_per_address)
        return false;
    //  live_count already includes conn.
    if (server->live_count > server->cfg.max_connections) {
        gw_http_conn *oldest = server->idle_head;
        if (!oldest)
            return false;
        assert (oldest != conn && oldest->in_idle_list);
        server->stats.connections_evicted++;
        gw_http__conn_close (oldest);
        assert (server->live_count <= server->cfg.max_connections);
    }
    s_count_in (server, conn);
    return true;
}


//  --------------------------------------------------------------------------
//  The connection closes: uncount it, drop it from the idle list.

void
gw_http__limits_forget (gw_http_conn *conn)
{
    gw_http *server = conn->server;
    gw_http__limits_idle (conn, false);
    if (!conn->counted)
        return;
    if (conn->aprev)
        conn->aprev->anext = conn->anext;
    else {
        uint32_t bucket = conn->addr_hash & (server->addr_bucket_count - 1);
        assert (server->addr_buckets [bucket] == conn);
        server->addr_buckets [bucket] = conn->anext;
    }
    if (conn->anext)
        conn->anext->aprev = conn->aprev;
    conn->aprev = conn->anext = NULL;
    conn->counted = false;
}


//  --------------------------------------------------------------------------
//  Keep the idle list in step. A connection joins at the tail when it
//  becomes idle, so the head is the one idle longest.

void
gw_http__limits_idle (gw_http_conn *conn, bool idle)
{
    gw_http *server = conn->server;
    if (idle == conn->in_idle_list || conn->in_memory)
        return;
    if (idle) {
        conn->inext = NULL;
        conn->iprev = server->idle_tail;
        if (server->idle_tail)
            server->idle_tail->inext = conn;
        else
            server->idle_head = conn;
        server->idle_tail = conn;
    }
    else {
        if (conn->iprev)
            conn->iprev->inext = conn->inext;
        else
            server->idle_head = conn->inext;
        if (conn->inext)
            conn->inext->iprev = conn->iprev;
        else
            server->idle_tail = conn->iprev;
        conn->iprev = conn->inext = NULL;
    }
    conn->in_idle_list = idle;
}

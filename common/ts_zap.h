/*  =========================================================================
    ts_zap - CURVE client authentication for a daemon (ZAP, ZMQ RFC 27)

    With CURVE on, libzmq asks a ZAP handler on inproc://zeromq.zap.01
    whether a client's public key may connect. This class is that handler,
    run on the daemon's own libuv loop (ts_zwatch): the keys table is only
    ever touched by the loop's thread, so it needs no lock, and a slow
    handshake can only wait for the loop, never race it.

    A known key (ts_keys: the keys file plus the daemons' own key) is
    accepted with User-Id = the client's name and metadata X-Key = its
    public key; every message from that connection carries both. Because
    ZAP runs only at connect time, the daemon checks each request again
    (ts_zap_authorize): the key must still be listed, under the same name,
    and the request's Caller must be one the key may claim. So a revoked
    key is refused on its next request, not at its next reconnect.

    The keys file is re-read when it changes (its mtime, size and inode
    checked at most once per TS_ZAP_RELOAD_MS, and at every handshake). A
    file that has become invalid refuses every client key but the
    daemons' own until fixed, and says so in the log.
    =========================================================================
*/
#ifndef TS_ZAP_H
#define TS_ZAP_H

#include <stdint.h>
#include <uv.h>
#include <zmq.h>

#include "ts_arena.h"
#include "ts_keys.h"

#define TS_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define TS_ZAP_RELOAD_MS 1000
#define TS_ZAP_PROPERTY_KEY "X-Key"

typedef struct ts_zap ts_zap;

//  Bind the handler (before any CURVE server socket binds) and load the
//  keys file. daemon_public_z85: the daemons' own public key. Returns
//  NULL with err filled (bad keys file, bind failed).
ts_zap *ts_zap_new (const char *keys_path, const char *daemon_public_z85,
                    char *err, size_t err_size);
//  Answer handshakes on loop (ts_zwatch).
void ts_zap_watch (ts_zap *self, uv_loop_t *loop);
//  Stop answering (the loop is ending); handles close with the loop.
void ts_zap_stop (ts_zap *self);
//  Close the socket (after the loop ended, before ts_zmq_term).
void ts_zap_destroy (ts_zap **self_p);

//  The peer of a received message: copies its User-Id (the client name)
//  and X-Key properties into name / key ("" when absent).
void ts_zap_peer_of (zmq_msg_t *msg, char *name, size_t name_size, char *key,
                     size_t key_size);

//  May the peer (name, key from ts_zap_peer_of) make this request? An
//  absent caller is filled from a bound key (school S1...); a bound key's
//  principal becomes its name. Returns 0, or 401/403 with why filled.
unsigned ts_zap_authorize (ts_zap *self, const char *name, const char *key,
                           const char *method, Tashan__Caller **caller,
                           ts_arena *arena, char *why, size_t why_size);

#endif

/*  ctl_status - tashanctl status: every daemon's health, with the reason
    when one is down, its consumers' lag (or why consuming stopped), and
    the gateway's /healthz. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "ctl_probe.h"

#define STATUS_TIMEOUT_MS 1500

//  "producer=lag" for each consumer; "AHEAD" when a position is past the
//  producer's head (never an unsigned wrap), "STOPPED" when it stopped.
static void
s_lag_text (const Tashan__HealthReply *h, char *text, size_t size)
{
    size_t used = 0;
    text [0] = 0;
    for (size_t c = 0; c < h->n_consumers && used < size - 1; c++) {
        const Tashan__ConsumerPosition *p = h->consumers [c];
        char lag [64];
        if (p->error && p->error [0])
            snprintf (lag, sizeof lag, "STOPPED");
        else
        if (p->applied_seq > p->producer_head_seq)
            snprintf (lag, sizeof lag, "AHEAD(%llu>%llu)", (unsigned long long) p->applied_seq,
                      (unsigned long long) p->producer_head_seq);
        else
            snprintf (lag, sizeof lag, "%llu",
                      (unsigned long long) (p->producer_head_seq - p->applied_seq));
        used += (size_t) snprintf (text + used, size - used, "%s%s=%s", c ? " " : "",
                                   p->producer, lag);
    }
}

//  One daemon's row. Returns true when it is up.
static bool
s_status_row (ctl_t *ctl, const char *service)
{
    const char *endpoint = ts_config_endpoint (&ctl->cfg, service);
    const char *why = ctl_probe_endpoint (endpoint);
    if (why) {
        printf ("%-12s %-5s %s\n", service, "no", why);
        return false;
    }
    ts_arena *arena = ts_arena_new ();
    Tashan__Empty empty = TASHAN__EMPTY__INIT;
    Tashan__HealthReply *h = NULL;
    unsigned code = ctl_call (ctl, service, "sys.Health", &empty.base,
                              &tashan__health_reply__descriptor, arena,
                              (ProtobufCMessage **) &h, STATUS_TIMEOUT_MS, true);
    bool up = code == 200 && h;
    if (!up)
        printf ("%-12s %-5s %s (code %u)\n", service, "no",
                code == 504 ? "timeout: nothing in 1.5 s (stopped, overloaded, or the "
                              "CURVE keys do not match)" : "the health call failed", code);
    else {
        char lag [512];
        s_lag_text (h, lag, sizeof lag);
        printf ("%-12s %-5s %-8s %12.1f %12llu  %s\n", h->service, "yes", h->version,
                (double) h->uptime_ms / 1000.0, (unsigned long long) h->outbox_head_seq, lag);
        for (size_t c = 0; c < h->n_consumers; c++)
            if (h->consumers [c]->error && h->consumers [c]->error [0])
                printf ("%-12s   consuming from %s stopped: %s\n", "",
                        h->consumers [c]->producer, h->consumers [c]->error);
    }
    ts_arena_destroy (&arena);
    return up;
}

//  Are all the daemons' ipc sockets missing with their run dir? Then no
//  daemon runs on this data dir at all: say so at once.
static bool
s_no_run_dir (ctl_t *ctl)
{
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        if (strncmp (ts_config_endpoint (&ctl->cfg, ts_service_names [i]), "ipc://", 6) != 0)
            return false;
    char run [TS_PATH_MAX + 8];
    snprintf (run, sizeof run, "%s/run", ctl->cfg.data_dir);
    struct stat st;
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        if (stat (ts_config_endpoint (&ctl->cfg, ts_service_names [i]) + 6, &st) == 0)
            return false;
    fprintf (stderr, "tashanctl: %s/*.sock does not exist: no daemon runs on data dir %s "
             "(start deploy/up.sh, or give the right one with --data-dir DIR)\n", run,
             ctl->cfg.data_dir);
    return true;
}

int
ctl_status (ctl_t *ctl, int argc, char **argv)
{
    if (ctl_no_arguments ("status", argc, argv) != 0)
        return 2;
    if (s_no_run_dir (ctl))
        return 1;
    int down = 0;
    printf ("%-12s %-5s %-8s %12s %12s  %s\n", "service", "up", "version", "uptime_s",
            "outbox_seq", "consumer lag");
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        down += s_status_row (ctl, ts_service_names [i]) ? 0 : 1;
    char why [300];
    unsigned code = ctl_probe_gateway (ctl->cfg.listen, STATUS_TIMEOUT_MS, why, sizeof why);
    if (code == 200)
        printf ("%-12s %-5s http://%s/healthz answers 200\n", "gateway", "yes", ctl->cfg.listen);
    else
    if (code)
        printf ("%-12s %-5s http://%s/healthz answers %u (a daemon is down)\n", "gateway",
                "yes", ctl->cfg.listen, code);
    else {
        printf ("%-12s %-5s %s (set --listen HOST:PORT if it listens elsewhere)\n",
                "gateway", "no", why);
        down++;
    }
    return down ? 1 : 0;
}

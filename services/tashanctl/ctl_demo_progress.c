/*  ctl_demo_progress - tashanctl demo's progress on stderr. A terminal
    gets a bar redrawn in place (at most ten times a second); a pipe or a
    log file gets a plain line at each new phase and every few seconds,
    so up.sh's demo.log shows how far a long --scale run is. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_demo.h"

#define BAR_CHARS 30
#define TTY_EVERY_S 0.1
#define LINE_EVERY_S 2.0

static double
s_now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
ctl_progress_init (ctl_progress *self, bool quiet, uint64_t total)
{
    memset (self, 0, sizeof *self);
    self->quiet = quiet;
    self->tty = isatty (STDERR_FILENO) == 1;
    self->total = total ? total : 1;
    self->start_s = self->shown_s = s_now_s ();
}

double
ctl_progress_seconds (const ctl_progress *self)
{
    return s_now_s () - self->start_s;
}

static unsigned
s_percent (const ctl_progress *self)
{
    uint64_t done = self->done < self->total ? self->done : self->total;
    return (unsigned) (done * 100 / self->total);
}

static void
s_show (ctl_progress *self, double now_s)
{
    unsigned percent = s_percent (self);
    if (self->tty) {
        char bar [BAR_CHARS + 1];
        unsigned full = percent * BAR_CHARS / 100;
        for (unsigned i = 0; i < BAR_CHARS; i++)
            bar [i] = i < full ? '#' : '.';
        bar [BAR_CHARS] = 0;
        //  \033[K clears what a longer phase name left on the line.
        fprintf (stderr, "\r[%s] %3u%% %6.1f s  %s\033[K", bar, percent,
                 now_s - self->start_s, self->phase);
    }
    else
        fprintf (stderr, "demo progress: %u%% %.1f s %s\n", percent, now_s - self->start_s,
                 self->phase);
    fflush (stderr);
    self->shown_s = now_s;
}

void
ctl_progress_add (ctl_progress *self, const char *phase, uint64_t units)
{
    if (!self)
        return;
    self->done += units;
    bool new_phase = strncmp (self->phase, phase, sizeof self->phase - 1) != 0;
    if (new_phase)
        snprintf (self->phase, sizeof self->phase, "%s", phase);
    if (self->quiet)
        return;
    double now_s = s_now_s ();
    double every_s = self->tty ? TTY_EVERY_S : LINE_EVERY_S;
    if ((new_phase && !self->tty) || now_s - self->shown_s >= every_s)
        s_show (self, now_s);
}

void
ctl_progress_end (ctl_progress *self)
{
    if (!self || self->quiet)
        return;
    self->done = self->total;
    snprintf (self->phase, sizeof self->phase, "done");
    s_show (self, s_now_s ());
    if (self->tty)
        fputc ('\n', stderr);
}

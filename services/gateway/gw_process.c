/*  gw_process - process_* metrics from /proc. See gw_process.h. */
#include "gw_process.h"

#include <assert.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

//  More descriptors than this are counted as this many (a bound on the walk).
#define FDS_COUNT_MAX 1000000

//  Boot time, seconds since the epoch ("btime" of /proc/stat), or 0.
static uint64_t
s_boot_time (void)
{
    FILE *f = fopen ("/proc/stat", "r");
    if (!f)
        return 0;
    char line [512];
    unsigned long long btime = 0;
    for (int i = 0; i < 10000 && fgets (line, sizeof line, f); i++)
        if (sscanf (line, "btime %llu", &btime) == 1)
            break;
    fclose (f);
    return btime;
}

static uint64_t
s_open_fds (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    if (!dir)
        return 0;
    uint64_t count = 0;
    struct dirent *entry;
    while (count < FDS_COUNT_MAX && (entry = readdir (dir)))
        if (entry->d_name [0] != '.')
            count++;
    closedir (dir);
    //  The walk's own descriptor is not one of ours.
    return count > 0 ? count - 1 : 0;
}

//  utime, stime, starttime (clock ticks) and rss (pages) from
//  /proc/self/stat; the command name may hold spaces, so fields are
//  counted from its closing parenthesis.
static bool
s_read_stat (unsigned long long *ticks, unsigned long long *start, long long *rss_pages)
{
    FILE *f = fopen ("/proc/self/stat", "r");
    if (!f)
        return false;
    char text [1024];
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text [n] = 0;
    const char *p = strrchr (text, ')');
    if (!p)
        return false;
    unsigned long long utime, stime;
    //  Fields 3.. after ")": state, then 10 numbers to utime (14).
    int got = sscanf (p + 1, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu"
                             " %*s %*s %*s %*s %*s %*s %llu %*s %lld",
                      &utime, &stime, start, rss_pages);
    if (got != 4)
        return false;
    *ticks = utime + stime;
    return true;
}

bool
gw_process_read (gw_process_stats *st)
{
    assert (st);
    memset (st, 0, sizeof *st);
    unsigned long long ticks, start;
    long long rss_pages;
    long hz = sysconf (_SC_CLK_TCK);
    long page = sysconf (_SC_PAGESIZE);
    if (hz <= 0 || page <= 0 || !s_read_stat (&ticks, &start, &rss_pages))
        return false;
    st->cpu_seconds = (double) ticks / (double) hz;
    st->resident_bytes = rss_pages > 0 ? (uint64_t) rss_pages * (uint64_t) page : 0;
    st->start_time_seconds = (double) s_boot_time () + (double) start / (double) hz;
    st->open_fds = s_open_fds ();
    struct rlimit lim;
    if (getrlimit (RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        st->max_fds = (uint64_t) lim.rlim_cur;
    return true;
}

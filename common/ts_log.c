/*  ts_log - key=value lines on stderr. See ts_log.h. */
#include "ts_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

static char s_service [32] = "tashan";
static ts_log_level s_level = TS_LOG_INFO;

static const char *s_level_names [] = { "debug", "info", "warn", "error" };
//  Lines not written (disk full, closed stderr): counted, never half-written.
static atomic_uint_least64_t s_dropped;

uint64_t
ts_log_dropped (void)
{
    return atomic_load (&s_dropped);
}

//  Write the whole line with one write() or none of it: a full disk may
//  take part of a line; then the part is cut off again (a regular file
//  only: our bytes are the last ones, as stderr is opened O_APPEND or
//  ours alone), so a reader never sees half a line glued to the next.
static void
s_write_line (const char *line, size_t size)
{
    ssize_t done;
    do
        done = write (STDERR_FILENO, line, size);
    while (done < 0 && errno == EINTR);
    if (done == (ssize_t) size)
        return;
    atomic_fetch_add (&s_dropped, 1);
    struct stat st;
    if (done > 0 && fstat (STDERR_FILENO, &st) == 0 && S_ISREG (st.st_mode)) {
        off_t end = lseek (STDERR_FILENO, 0, SEEK_CUR);
        if (end >= done && ftruncate (STDERR_FILENO, end - done) == 0)
            lseek (STDERR_FILENO, end - done, SEEK_SET);
    }
}

//  Log lines name callers, tokens' ids and what they did: a log file is
//  for the service's account and its group (0640), never for everyone.
//  Whoever opened our stderr (up.sh, systemd, a test harness) may have
//  made it with a looser umask; a regular file we own is narrowed here.
//  Its directory is left alone: stderr may be a file in any directory
//  (up.sh makes its logs directory 0750).
static void
s_log_file_narrow (int fd)
{
    struct stat st;
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ())
        return;
    mode_t mode = st.st_mode & 07777;
    if ((mode & ~(mode_t) TS_LOG_FILE_MODE) != 0)
        (void) fchmod (fd, mode & TS_LOG_FILE_MODE);
}

void
ts_log_init (const char *service, ts_log_level level)
{
    snprintf (s_service, sizeof s_service, "%s", service);
    s_level = level;
    s_log_file_narrow (STDERR_FILENO);
}

int
ts_log_level_parse (const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp (name, s_level_names [i]) == 0)
            return i;
    return -1;
}

void
ts_log (ts_log_level level, const char *event, const char *fmt, ...)
{
    if (level < s_level)
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    //  One buffer, one write: lines from several processes sharing a log
    //  file do not interleave mid-line.
    char line [2048];
    int n = snprintf (line, sizeof line,
                      "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s svc=%s event=%s",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000,
                      s_level_names [level], s_service, event);
    if (n < 0)
        return;
    if (fmt && *fmt && (size_t) n < sizeof line - 2) {
        line [n++] = ' ';
        va_list args;
        va_start (args, fmt);
        int m = vsnprintf (line + n, sizeof line - (size_t) n - 1, fmt, args);
        va_end (args);
        if (m > 0)
            n += m;
    }
    if ((size_t) n > sizeof line - 2)
        n = (int) sizeof line - 2;
    line [n++] = '\n';
    s_write_line (line, (size_t) n);
}

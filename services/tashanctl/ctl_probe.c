/*  ctl_probe - reachability of daemons and the gateway. See ctl_probe.h. */
#include "ctl_probe.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 1000

static void
s_set_timeouts (int fd, uint32_t timeout_ms)
{
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

//  A TCP connection to HOST:PORT; -1 with why filled.
static int
s_tcp_connect (const char *host_port, uint32_t timeout_ms, char *why, size_t why_size)
{
    char host [256];
    snprintf (host, sizeof host, "%s", host_port);
    char *colon = strrchr (host, ':');
    if (!colon) {
        snprintf (why, why_size, "address %s has no port", host_port);
        return -1;
    }
    *colon = 0;
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo (host, colon + 1, &hints, &res) != 0 || !res) {
        snprintf (why, why_size, "cannot resolve %s", host_port);
        return -1;
    }
    int fd = socket (res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        s_set_timeouts (fd, timeout_ms);
        if (connect (fd, res->ai_addr, res->ai_addrlen) != 0) {
            snprintf (why, why_size, "%s: %s", host_port,
                      errno == ECONNREFUSED ? "connection refused"
                      : errno == EINPROGRESS || errno == EAGAIN ? "timeout" : strerror (errno));
            close (fd);
            fd = -1;
        }
    }
    freeaddrinfo (res);
    return fd;
}

const char *
ctl_probe_endpoint (const char *endpoint)
{
    static char why [TS_PATH_MAX + 64];
    if (strncmp (endpoint, "tcp://", 6) == 0) {
        int fd = s_tcp_connect (endpoint + 6, PROBE_TIMEOUT_MS, why, sizeof why);
        if (fd < 0)
            return why;
        close (fd);
        return NULL;
    }
    if (strncmp (endpoint, "ipc://", 6) != 0)
        return NULL;                //  another transport: let the call tell
    const char *path = endpoint + 6;
    struct stat st;
    if (stat (path, &st) != 0) {
        snprintf (why, sizeof why, "socket %s does not exist", path);
        return why;
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen (path) >= sizeof addr.sun_path) {
        snprintf (why, sizeof why, "socket path %s is too long", path);
        return why;
    }
    strcpy (addr.sun_path, path);
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    int rc = fd >= 0 ? connect (fd, (struct sockaddr *) &addr, sizeof addr) : -1;
    int saved = errno;
    if (fd >= 0)
        close (fd);
    if (rc == 0)
        return NULL;
    snprintf (why, sizeof why, "%s: %s (the daemon is not running)", path,
              saved == ECONNREFUSED ? "connection refused" : strerror (saved));
    return why;
}

unsigned
ctl_probe_gateway (const char *listen, uint32_t timeout_ms, char *why, size_t why_size)
{
    int fd = s_tcp_connect (listen, timeout_ms, why, why_size);
    if (fd < 0)
        return 0;
    char request [300];
    int len = snprintf (request, sizeof request, "GET /healthz HTTP/1.1\r\nHost: %s\r\n"
                        "Connection: close\r\n\r\n", listen);
    char answer [64] = "";
    ssize_t got = -1;
    if (write (fd, request, (size_t) len) == len)
        got = read (fd, answer, sizeof answer - 1);
    close (fd);
    unsigned code = 0;
    if (got > 0) {
        answer [got] = 0;
        if (sscanf (answer, "HTTP/1.%*d %u", &code) != 1)
            code = 0;
    }
    if (code == 0)
        snprintf (why, why_size, "%s: %s", listen, got < 0 ? "timeout" : "not an HTTP answer");
    return code;
}

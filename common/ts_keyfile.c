/*  ts_keyfile - secret key files beside a store. See ts_keyfile.h. */
#include "ts_keyfile.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#define KEY_MAX_BYTES 1024

static int
s_create (const char *dir, const char *path, uint8_t *key, size_t size_bytes,
          char *err, size_t err_size)
{
    randombytes_buf (key, size_bytes);
    //  O_EXCL: two daemons racing on a fresh dir cannot both win.
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (err, err_size, "cannot create %s: %s", path, strerror (errno));
        return -1;
    }
    bool ok = write (fd, key, size_bytes) == (ssize_t) size_bytes && fsync (fd) == 0;
    close (fd);
    if (!ok) {
        snprintf (err, err_size, "cannot write %s: %s", path, strerror (errno));
        unlink (path);
        return -1;
    }
    //  The directory entry must be durable too, or a crash loses the key
    //  while the store that depends on it survives.
    int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync (dfd);
        close (dfd);
    }
    return 0;
}

int
ts_keyfile_load (const char *dir, const char *name, uint8_t *key, size_t size_bytes,
                 char *err, size_t err_size)
{
    assert (dir && name && key);
    assert (size_bytes > 0 && size_bytes <= KEY_MAX_BYTES);
    if (sodium_init () < 0) {
        snprintf (err, err_size, "libsodium failed to initialise");
        return -1;
    }
    char path [1024];
    if (snprintf (path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path) {
        snprintf (err, err_size, "key path too long");
        return -1;
    }
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return s_create (dir, path, key, size_bytes, err, err_size);
    if (fd < 0) {
        snprintf (err, err_size, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat (fd, &st) != 0 || st.st_size != (off_t) size_bytes)
        snprintf (err, err_size, "%s must hold exactly %zu bytes", path, size_bytes);
    else
    if ((st.st_mode & 077) != 0)
        snprintf (err, err_size, "%s must not be readable by group or others (chmod 600)", path);
    else
    if (read (fd, key, size_bytes) != (ssize_t) size_bytes)
        snprintf (err, err_size, "cannot read %s", path);
    else
        rc = 0;
    close (fd);
    return rc;
}

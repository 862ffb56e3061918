/*
 * core/dsctl_export.c - `dsctl export NAME [--opt key=value]... [-o FILE]
 * [--format svg|png]`: runs a plugin's exporter in the daemon and writes its
 * output to stdout or FILE. With --format, the output (Graphviz DOT) is piped
 * through the `dot` program here, on the client, so the daemon never runs a
 * renderer. The output is streamed (export.begin, export.next per chunk) and
 * written as it arrives. A file is written as FILE.tmp and renamed only when everything
 * succeeded: a failed export never leaves a truncated FILE behind.
 */
#include "dsctl_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Why: write(2) may write less than asked (pipes, signals); loops until done. */
static int dsctl_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Why: renders DOT text with Graphviz's `dot -T<format>` writing to outfd;
 * the DOT text goes through a pipe, dot's warnings go to our stderr. */
static int dsctl_render_dot(const char *data, size_t len, const char *format, int outfd)
{
    char tflag[32];
    int fds[2];
    snprintf(tflag, sizeof tflag, "-T%s", format);
    if (pipe(fds) != 0) {
        fprintf(stderr, "dsctl: export: pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "dsctl: export: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[0], 0);
        dup2(outfd, 1);
        close(fds[0]);
        close(fds[1]);
        execlp("dot", "dot", tflag, (char *)NULL);
        fprintf(stderr, "dsctl: export: cannot run Graphviz's dot: %s (install graphviz)\n", strerror(errno));
        _exit(127);
    }
    close(fds[0]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    int wrc = dsctl_write_all(fds[1], data, len);
    close(fds[1]);
    signal(SIGPIPE, old);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 127))
            fprintf(stderr, "dsctl: export: dot -T%s failed (status %d)\n", format,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    if (wrc != 0) {
        fprintf(stderr, "dsctl: export: could not pipe the output to dot\n");
        return -1;
    }
    return 0;
}

/* Why: builds the export params ({"plugin","opts"}) from NAME and every
 * --opt key=value; NULL (after a usage message) if an --opt has no '='. */
static json_t *dsctl_export_params(const struct dsctl_args *a)
{
    json_t *opts = dsctl_args_pairs(a, "opt", false);
    return opts ? json_pack("{s:s,s:o}", "plugin", a->pos[0], "opts", opts) : NULL;
}

/* Why a growing buffer for --format: dot needs the whole DOT text at once. */
static int dsctl_buf_add(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 65536;
        while (c < *len + n + 1)
            c *= 2;
        char *nb = realloc(*buf, c);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    return 0;
}

/* Why streamed: export.begin, then export.next until done, each chunk written
 * to fd as it arrives, so neither side holds the whole output (except for
 * --format, where dot needs all of it). 0, or -1 after a message; on a local
 * write error the export is aborted in the daemon. */
static int dsctl_export_chunks(struct dsctl *d, json_t *params, const char *format, int fd, const char *what)
{
    json_t *res = NULL;
    if (dsctl_call(d, "export.begin", params, &res))
        return -1;   /* the daemon's error was printed */
    json_t *jtok = json_object_get(res, "export");
    char *token = json_is_string(jtok) ? strdup(json_string_value(jtok)) : NULL;
    json_decref(res);
    if (!token) {
        fprintf(stderr, "dsctl: export: bad reply: no \"export\" token\n");
        return -1;
    }
    char *all = NULL;
    size_t alen = 0, acap = 0;
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        res = NULL;
        if (dsctl_call(d, "export.next", json_pack("{s:s,s:i}", "export", token, "max_bytes", 1 << 20), &res)) {
            rc = -1;   /* the daemon's error was printed; the export is gone there */
            break;
        }
        json_t *jdata = json_object_get(res, "data");
        done = json_is_true(json_object_get(res, "done"));
        if (!json_is_string(jdata)) {
            fprintf(stderr, "dsctl: export: bad reply: no \"data\" string\n");
            rc = -1;
        } else if (format) {
            if (dsctl_buf_add(&all, &alen, &acap, json_string_value(jdata), json_string_length(jdata)) != 0) {
                fprintf(stderr, "dsctl: export: out of memory\n");
                rc = -1;
            }
        } else if (dsctl_write_all(fd, json_string_value(jdata), json_string_length(jdata)) != 0) {
            fprintf(stderr, "dsctl: export: writing %s: %s\n", what, strerror(errno));
            rc = -1;
        }
        json_decref(res);
        if (rc != 0 && !done) {
            json_t *ab = NULL;
            if (dsctl_call(d, "export.abort", json_pack("{s:s}", "export", token), &ab) == 0)
                json_decref(ab);
        }
    }
    free(token);
    if (rc == 0 && format)
        rc = dsctl_render_dot(all ? all : "", alen, format, fd);
    free(all);
    return rc;
}

/* Why FILE.tmp: the output goes to a temporary file renamed only when the
 * whole export succeeded; on any failure it is deleted and FILE untouched. */
static int dsctl_export_stream(struct dsctl *d, json_t *params, const char *out, const char *format)
{
    if (!out)
        return dsctl_export_chunks(d, params, format, 1, "stdout") == 0 ? DSCTL_EXIT_OK : DSCTL_EXIT_FAILED;
    size_t tlen = strlen(out) + 5;
    char *tmp = malloc(tlen);
    if (!tmp) {
        json_decref(params);
        return DSCTL_EXIT_FAILED;
    }
    snprintf(tmp, tlen, "%s.tmp", out);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    int rc;
    if (fd < 0) {
        fprintf(stderr, "dsctl: export: cannot create %s: %s\n", tmp, strerror(errno));
        json_decref(params);
        rc = DSCTL_EXIT_FAILED;
    } else {
        int wrc = dsctl_export_chunks(d, params, format, fd, tmp);
        if (close(fd) != 0)
            wrc = -1;
        if (wrc == 0 && rename(tmp, out) != 0) {
            fprintf(stderr, "dsctl: export: cannot rename %s to %s: %s\n", tmp, out, strerror(errno));
            wrc = -1;
        }
        if (wrc != 0)
            unlink(tmp);
        rc = wrc == 0 ? DSCTL_EXIT_OK : DSCTL_EXIT_FAILED;
    }
    free(tmp);
    return rc;
}

int dsctl_cmd_export(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"opt", 1}, {"output", 1}, {"format", 1}, {NULL, 0}};
    struct dsctl_args a;
    /* -o FILE is --output FILE */
    char **av = calloc((size_t)argc + 1, sizeof *av);
    if (!av)
        return DSCTL_EXIT_FAILED;
    for (int i = 0; i < argc; i++)
        av[i] = strcmp(argv[i], "-o") == 0 ? (char *)"--output" : argv[i];
    int rc = dsctl_args_parse(&a, "export", argc, av, specs);
    const char *out = NULL, *format = NULL;
    if (!rc && a.npos != 1)
        rc = dsctl_usage_error("export: expected one plugin NAME (dsctl plugins lists the exporters)");
    if (!rc) {
        out = dsctl_args_last(&a, "output");
        format = dsctl_args_last(&a, "format");
        if (format && strcmp(format, "svg") != 0 && strcmp(format, "png") != 0)
            rc = dsctl_usage_error("export: --format must be svg or png, not '%s'", format);
    }
    json_t *params = rc ? NULL : dsctl_export_params(&a);
    if (!rc && !params)
        rc = DSCTL_EXIT_USAGE;
    dsctl_args_free(&a);
    free(av);
    if (rc)
        return rc;
    return dsctl_export_stream(d, params, out, format);
}

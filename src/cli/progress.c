/* progress.c - what a long run shows while it works.
 *
 * On a terminal: one line redrawn in place (phase, collection, count, rate,
 * ETA), at most 10 times a second. Otherwise: a plain line every 5 seconds,
 * so logs stay readable and carry no escape sequences. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../util/mem.h"
#include "cli.h"

struct cli_progress {
    int quiet, verbose, tty;
    pthread_mutex_t mu;
    char phase[32], coll[256];
    int64_t total, done;
    double t_phase, t_last;
    int drawn;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fmt_secs(char *buf, size_t n, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void draw(cli_progress *p, int final)
{
    double el = now() - p->t_phase;
    double rate = el > 0 ? (double)p->done / el : 0;
    char line[512], eta[32] = "";
    if (p->total > 0 && rate > 0 && p->done < p->total) {
        char t[24];
        fmt_secs(t, sizeof t, (double)(p->total - p->done) / rate);
        snprintf(eta, sizeof eta, ", ETA %s", t);
    }
    if (p->total > 0)
        snprintf(line, sizeof line, "%s '%s': %lld/%lld (%3.0f%%), %.0f/s%s", p->phase, p->coll, (long long)p->done,
                 (long long)p->total, 100.0 * (double)p->done / (double)p->total, rate, eta);
    else
        snprintf(line, sizeof line, "%s '%s': %lld, %.0f/s", p->phase, p->coll, (long long)p->done, rate);
    if (p->tty) {
        fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
        p->drawn = !final;
    } else {
        fprintf(stderr, "chroma-migrate: %s\n", line);
    }
    fflush(stderr);
}

static void on_phase(void *ctx, const char *phase, const char *coll, int64_t total)
{
    cli_progress *p = ctx;
    pthread_mutex_lock(&p->mu);
    if (p->drawn && p->tty) {
        fputs("\r\033[K", stderr);
        p->drawn = 0;
    }
    snprintf(p->phase, sizeof p->phase, "%s", phase);
    snprintf(p->coll, sizeof p->coll, "%s", coll);
    p->total = total;
    p->done = 0;
    p->t_phase = p->t_last = now();
    if (p->verbose && !p->quiet)
        fprintf(stderr, "chroma-migrate: %s '%s'%s\n", phase, coll, total >= 0 ? "" : "");
    pthread_mutex_unlock(&p->mu);
}

static void on_advance(void *ctx, int64_t done)
{
    cli_progress *p = ctx;
    if (p->quiet)
        return;
    pthread_mutex_lock(&p->mu);
    if (done > p->done)
        p->done = done;
    double t = now();
    if ((p->tty && t - p->t_last >= 0.1) || (!p->tty && t - p->t_last >= 5.0)) {
        p->t_last = t;
        draw(p, 0);
    }
    pthread_mutex_unlock(&p->mu);
}

static int on_cancelled(void *ctx)
{
    (void)ctx;
    return cli_interrupted();
}

cli_progress *cli_progress_new(int quiet, int verbose)
{
    cli_progress *p = xcalloc(1, sizeof *p);
    p->quiet = quiet;
    p->verbose = verbose;
    p->tty = isatty(STDERR_FILENO) && getenv("TERM") && strcmp(getenv("TERM"), "dumb") != 0;
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

void cli_progress_bind(cli_progress *p, cm_progress *out)
{
    out->phase = on_phase;
    out->advance = on_advance;
    out->cancelled = on_cancelled;
    out->ctx = p;
}

void cli_progress_end(cli_progress *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->drawn && p->tty)
        fputs("\r\033[K", stderr);
    p->drawn = 0;
    pthread_mutex_unlock(&p->mu);
}

void cli_progress_free(cli_progress *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p);
}

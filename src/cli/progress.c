/* progress.c - what a long run shows while it works.
 *
 * On a terminal: a bar for the collection at work (phase, count, rate, ETA)
 * and, once the write pass has started, a bar for the whole run above it
 * (collections, records, ETA), redrawn in place at most 10 times a second.
 * Otherwise: a plain line every 5 seconds, so logs stay readable and carry
 * no escape sequences. */
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
    int drawn; /* lines on screen to clear before the next draw */
    /* The whole write pass: work = each source record written, then
     * indexed; base = the work of the phases already finished. */
    int planned;
    size_t ncoll, kcoll;
    int64_t all_total, all_base;
    double t_plan;
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

/* ", ETA m:ss" from the work done in el seconds, or "" when not known. */
static void fmt_eta(char *buf, size_t n, int64_t done, int64_t total, double el)
{
    buf[0] = '\0';
    double rate = el > 0 ? (double)done / el : 0;
    if (total > 0 && rate > 0 && done < total) {
        char t[24];
        fmt_secs(t, sizeof t, (double)(total - done) / rate);
        snprintf(buf, n, ", ETA %s", t);
    }
}

/* "[#######-------------] " for done of total (nothing on a plain log). */
static const char *bar(char *buf, int tty, int64_t done, int64_t total)
{
    enum { W = 20 };
    if (!tty || total <= 0)
        return "";
    int k = (int)((double)(done < total ? done : total) * W / (double)total);
    buf[0] = '[';
    for (int i = 0; i < W; i++)
        buf[1 + i] = i < k ? '#' : '-';
    buf[W + 1] = ']';
    buf[W + 2] = ' ';
    buf[W + 3] = '\0';
    return buf;
}

static void clear_lines(cli_progress *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", stderr);
        for (int i = 1; i < p->drawn; i++)
            fputs("\033[1A\r\033[K", stderr);
    }
    p->drawn = 0;
}

static void draw(cli_progress *p, int final)
{
    double t = now();
    double el = t - p->t_phase;
    char line[512], eta[40], b[32], all[256] = "";
    fmt_eta(eta, sizeof eta, p->done, p->total, el);
    const char *bb = bar(b, p->tty, p->done, p->total);
    if (p->total > 0)
        snprintf(line, sizeof line, "%s%s '%s': %lld/%lld (%3.0f%%), %.0f/s%s", bb, p->phase, p->coll,
                 (long long)p->done, (long long)p->total, 100.0 * (double)p->done / (double)p->total,
                 el > 0 ? (double)p->done / el : 0, eta);
    else
        snprintf(line, sizeof line, "%s '%s': %lld, %.0f/s", p->phase, p->coll, (long long)p->done,
                 el > 0 ? (double)p->done / el : 0);
    if (p->planned && p->all_total > 0) {
        int64_t d = p->all_base + p->done;
        char ae[40], ab[32];
        fmt_eta(ae, sizeof ae, d, p->all_total, t - p->t_plan);
        snprintf(all, sizeof all, "%soverall: collection %zu of %zu, %3.0f%% of the work%s", bar(ab, p->tty, d, p->all_total),
                 p->kcoll, p->ncoll, 100.0 * (double)(d < p->all_total ? d : p->all_total) / (double)p->all_total, ae);
    }
    if (p->tty) {
        clear_lines(p);
        if (all[0])
            fprintf(stderr, "%s\n", all);
        fprintf(stderr, "%s%s", line, final ? "\n" : "");
        p->drawn = final ? 0 : all[0] ? 2 : 1;
    } else {
        fprintf(stderr, "chroma-migrate: %s%s%s\n", line, all[0] ? " | " : "", all);
    }
    fflush(stderr);
}

static void on_plan(void *ctx, size_t collections, int64_t work)
{
    cli_progress *p = ctx;
    pthread_mutex_lock(&p->mu);
    p->planned = 1;
    p->ncoll = collections;
    p->kcoll = 0;
    p->all_total = work;
    p->all_base = 0;
    p->t_plan = now();
    pthread_mutex_unlock(&p->mu);
}

static void on_phase(void *ctx, const char *phase, const char *coll, int64_t total)
{
    cli_progress *p = ctx;
    pthread_mutex_lock(&p->mu);
    clear_lines(p);
    /* A phase that ends is done: all of its work counts, whether or not
     * every unit was reported (the last ticks of a pass are not). */
    if (p->planned && (strcmp(p->phase, "writing") == 0 || strcmp(p->phase, "indexing") == 0))
        p->all_base += p->total > p->done ? p->total : p->done;
    if (p->planned && strcmp(phase, "writing") == 0)
        p->kcoll++;
    snprintf(p->phase, sizeof p->phase, "%s", phase);
    snprintf(p->coll, sizeof p->coll, "%s", coll);
    p->total = total;
    p->done = 0;
    p->t_phase = p->t_last = now();
    if (p->verbose && !p->quiet)
        fprintf(stderr, "chroma-migrate: %s '%s'\n", phase, coll);
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

/* The progress of this run, for notes printed while it is drawn. */
static cli_progress *active;

void cli_progress_note(const char *msg)
{
    cli_progress *p = active;
    if (p)
        pthread_mutex_lock(&p->mu);
    if (p)
        clear_lines(p); /* the next draw puts the bars back below the note */
    fprintf(stderr, "chroma-migrate: %s\n", msg);
    fflush(stderr);
    if (p)
        pthread_mutex_unlock(&p->mu);
}

cli_progress *cli_progress_new(int quiet, int verbose)
{
    cli_progress *p = xcalloc(1, sizeof *p);
    active = p;
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
    out->plan = on_plan;
    out->cancelled = on_cancelled;
    out->ctx = p;
}

void cli_progress_end(cli_progress *p)
{
    pthread_mutex_lock(&p->mu);
    clear_lines(p);
    p->planned = 0;
    pthread_mutex_unlock(&p->mu);
}

void cli_progress_free(cli_progress *p)
{
    if (!p)
        return;
    if (active == p)
        active = NULL;
    pthread_mutex_destroy(&p->mu);
    free(p);
}

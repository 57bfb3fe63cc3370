/* term.c - raw-mode prompts for the wizard.
 *
 * ISIG stays off while a prompt reads keys, so Ctrl-C arrives as a byte and
 * the prompt returns TERM_CANCEL: the wizard then leaves with nothing
 * written, and the terminal is restored on every path. */
#include "term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int raw_on;

void term_restore(void)
{
    if (raw_on) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        raw_on = 0;
    }
}

static int raw_enter(void)
{
    if (tcgetattr(STDIN_FILENO, &saved) != 0)
        return -1;
    struct termios t = saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    t.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0)
        return -1;
    raw_on = 1;
    static int registered;
    if (!registered) {
        atexit(term_restore);
        registered = 1;
    }
    return 0;
}

enum { K_UP = 1000, K_DOWN, K_ENTER, K_CANCEL, K_BACKSPACE, K_OTHER, K_KILL };

static int read_key(int *ch)
{
    unsigned char c;
    if (read(STDIN_FILENO, &c, 1) != 1)
        return K_CANCEL;
    if (c == 3 || c == 4)
        return K_CANCEL;
    if (c == '\r' || c == '\n')
        return K_ENTER;
    if (c == 127 || c == 8)
        return K_BACKSPACE;
    if (c == 21)
        return K_KILL;
    if (c == 27) {
        unsigned char seq[2];
        if (read(STDIN_FILENO, &seq[0], 1) != 1 || read(STDIN_FILENO, &seq[1], 1) != 1)
            return K_OTHER;
        if (seq[0] == '[' || seq[0] == 'O') {
            if (seq[1] == 'A')
                return K_UP;
            if (seq[1] == 'B')
                return K_DOWN;
        }
        return K_OTHER;
    }
    *ch = c;
    return 0;
}

static void draw_choices(const char *const *choices, int n, int cur, int redraw)
{
    if (redraw)
        printf("\033[%dA", n);
    for (int i = 0; i < n; i++)
        printf("\r\033[K  %s %d) %s%s\n", i == cur ? "\033[1;36m>\033[0m" : " ", i + 1, i == cur ? "\033[1m" : "",
               choices[i]);
    printf("\033[0m");
    fflush(stdout);
}

int term_choose(const char *question, const char *const *choices, int n, int dflt)
{
    printf("\n\033[1m%s\033[0m  (arrows or 1-%d, Enter)\n", question, n);
    if (raw_enter() < 0)
        return TERM_CANCEL;
    int cur = dflt;
    draw_choices(choices, n, cur, 0);
    for (;;) {
        int ch = 0, k = read_key(&ch);
        if (k == K_CANCEL) {
            term_restore();
            return TERM_CANCEL;
        }
        if (k == K_UP)
            cur = (cur + n - 1) % n;
        else if (k == K_DOWN)
            cur = (cur + 1) % n;
        else if (k == K_ENTER)
            break;
        else if (k == 0 && ch >= '1' && ch < '1' + n && ch <= '9') {
            cur = ch - '1';
            draw_choices(choices, n, cur, 1);
            break;
        }
        draw_choices(choices, n, cur, 1);
    }
    term_restore();
    return cur;
}

int term_line(const char *question, const char *dflt, char *buf, size_t cap, int secret, term_mask_fn mask)
{
    return term_line_ex(question, dflt, dflt, buf, cap, secret, mask);
}

int term_line_ex(const char *question, const char *label, const char *dflt, char *buf, size_t cap, int secret,
                 term_mask_fn mask)
{
    printf("\033[1m%s\033[0m [%s]: ", question, label);
    fflush(stdout);
    if (raw_enter() < 0)
        return TERM_CANCEL;
    size_t len = 0;
    buf[0] = '\0';
    for (;;) {
        int ch = 0, k = read_key(&ch);
        if (k == K_CANCEL) {
            term_restore();
            printf("\n");
            return TERM_CANCEL;
        }
        if (k == K_ENTER)
            break;
        if (k == K_BACKSPACE && len > 0) {
            /* drop a whole UTF-8 sequence */
            do
                len--;
            while (len > 0 && ((unsigned char)buf[len] & 0xc0) == 0x80);
            buf[len] = '\0';
            printf("\b \b");
        } else if (k == K_KILL) {
            while (len > 0) {
                if (((unsigned char)buf[len - 1] & 0xc0) != 0x80)
                    printf("\b \b");
                len--;
            }
            buf[0] = '\0';
        } else if (k == 0 && (ch >= 32 || ch >= 0x80) && len + 1 < cap) {
            buf[len++] = (char)ch;
            buf[len] = '\0';
            if (!(secret && !mask))
                putchar(ch);
            else if ((ch & 0xc0) != 0x80) /* a password: one '*' per character, never the character */
                putchar('*');
        }
        fflush(stdout);
    }
    term_restore();
    if (len == 0)
        snprintf(buf, cap, "%s", dflt);
    if (secret) {
        /* the line is redrawn masked; a default taken shows as its label */
        char shown[1024];
        if (len == 0)
            snprintf(shown, sizeof shown, "%s", label);
        else if (mask)
            mask(buf, shown, sizeof shown);
        else {
            size_t n = strlen(buf) < sizeof shown - 1 ? strlen(buf) : sizeof shown - 1;
            memset(shown, '*', n);
            shown[n] = '\0';
        }
        printf("\r\033[K\033[1m%s\033[0m [%s]: %s\n", question, label, shown);
    } else {
        if (len == 0)
            printf("%s", label);
        printf("\n");
    }
    fflush(stdout);
    return 0;
}

int term_yes_no(const char *question, int dflt)
{
    printf("\033[1m%s\033[0m [%s]: ", question, dflt ? "Y/n" : "y/N");
    fflush(stdout);
    if (raw_enter() < 0)
        return TERM_CANCEL;
    int r;
    for (;;) {
        int ch = 0, k = read_key(&ch);
        if (k == K_CANCEL) {
            r = TERM_CANCEL;
            break;
        }
        if (k == K_ENTER) {
            r = dflt;
            break;
        }
        if (k == 0 && (ch == 'y' || ch == 'Y')) {
            r = 1;
            break;
        }
        if (k == 0 && (ch == 'n' || ch == 'N')) {
            r = 0;
            break;
        }
    }
    term_restore();
    printf("%s\n", r == TERM_CANCEL ? "" : r ? "yes" : "no");
    return r;
}

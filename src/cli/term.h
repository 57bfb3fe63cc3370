/* term.h - the few terminal interactions the wizard needs: a choice list
 * (arrow keys or numbers, Enter for the default) and a line editor. Raw mode
 * is always restored, also on Ctrl-C. */
#ifndef CM_CLI_TERM_H
#define CM_CLI_TERM_H

#include <stddef.h>

/* Results of the prompts. */
#define TERM_CANCEL (-2)

/* Shows question and choices; returns the chosen index, or TERM_CANCEL on
 * Ctrl-C / end of input. */
int term_choose(const char *question, const char *const *choices, int n, int dflt);
/* Reads a line into buf (default shown in brackets, taken on empty input).
 * With secret, the finished line is redrawn through `mask` (may be NULL:
 * every character becomes '*', also while it is typed). Returns 0, or
 * TERM_CANCEL. */
typedef void (*term_mask_fn)(const char *in, char *out, size_t cap);
int term_line(const char *question, const char *dflt, char *buf, size_t cap, int secret, term_mask_fn mask);
/* The same with the default shown as `label` (e.g. "none", or "as before"
 * for a secret given earlier), so a default value is never printed. */
int term_line_ex(const char *question, const char *label, const char *dflt, char *buf, size_t cap, int secret,
                 term_mask_fn mask);
/* Yes/no with a default; 1 yes, 0 no, TERM_CANCEL. */
int term_yes_no(const char *question, int dflt);
void term_restore(void);

#endif

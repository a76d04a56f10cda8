// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (c) 2026 The gcscope authors */
/* The agent's type windows under a budget (typewin.h). */
#include <string.h>

#include "typewin.h"

#define NS 1e9

void typewin_init(struct typewin *w, const struct typewin_conf *c, uint64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->c = *c;
	w->t0 = now_ns;
	/* the first window a period after the attach: by then the budget has
	 * a period's worth to spend */
	w->next_ns = now_ns + (uint64_t)(c->every_s * NS);
}

static bool within(const struct typewin *w, uint64_t now_ns, uint64_t walk_ns)
{
	return (double)walk_ns <= w->c.budget * (double)(now_ns - w->t0);
}

enum typewin_step typewin_decide(struct typewin *w, uint64_t now_ns, uint64_t walk_ns)
{
	uint64_t every = (uint64_t)(w->c.every_s * NS);

	w->walk_ns = walk_ns;
	if (!every || w->failed)
		return TW_NONE;
	if (w->active) {
		bool over = !within(w, now_ns, walk_ns);

		if (!over && now_ns - w->start_ns < (uint64_t)(w->c.window_s * NS))
			return TW_NONE;
		w->active = false;
		if (over)
			w->cut++;
		w->next_ns = w->start_ns + every;
		/* the next window when the walks' total is within the budget
		 * again: each period that passes before is a skipped window */
		if (w->c.budget > 0) {
			double back = (double)w->t0 + (double)walk_ns / w->c.budget;

			if (back > (double)w->next_ns) {
				uint64_t n = (uint64_t)((back - (double)w->next_ns) / (double)every) + 1;

				w->skipped += n;
				w->next_ns += n * every;
			}
		}
		if (w->next_ns < now_ns)
			w->next_ns = now_ns;
		return TW_CLOSED;
	}
	if (now_ns < w->next_ns)
		return TW_NONE;
	if (!within(w, now_ns, walk_ns)) {
		w->skipped++;
		w->next_ns = now_ns + every;
		return TW_NONE;
	}
	w->active = true;
	w->start_ns = now_ns;
	w->run++;
	return TW_OPENED;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include "common/counters.h"

const char *const pf_drop_names[PF_DROP_MAX] = {
#define X(n, d) #n,
	PF_DROP_REASONS(X)
#undef X
};
const char *const pf_drop_descr[PF_DROP_MAX] = {
#define X(n, d) d,
	PF_DROP_REASONS(X)
#undef X
};
const char *const pf_event_names[PF_EV_MAX] = {
#define X(n, d) #n,
	PF_EVENTS(X)
#undef X
};
const char *const pf_event_descr[PF_EV_MAX] = {
#define X(n, d) d,
	PF_EVENTS(X)
#undef X
};

/* SPDX-License-Identifier: BSD-3-Clause */
/* The applier part of the test helper (see pftest.h): its own object, so that programs
 * without control/applier.c (tests/fuzz/build_pipeline.sh) can use pftest.c. */
#include <stdio.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include "common/route_msg.h"
#include "control/applier.h"
#include "control/applier_priv.h"
#include "control/control.h"
#include "tests/common/pftest.h"

struct pf_applier *
pft_applier_create(struct pf_build *b, const char *ring_name, unsigned ring_size,
		   struct rte_ring **ring)
{
	struct rte_ring *rg = NULL;
	struct pf_applier *a;

	if (ring_name != NULL) {
		rg = rte_ring_create_elem(ring_name, sizeof(struct pf_route_msg), ring_size,
					  SOCKET_ID_ANY, RING_F_MP_HTS_ENQ | RING_F_SC_DEQ);
		*ring = rg;
		if (rg == NULL) {
			fprintf(stderr, "route ring: %s\n", rte_strerror(rte_errno));
			return NULL;
		}
	}
	a = pf_applier_create(b, rg);
	if (a == NULL)
		fprintf(stderr, "pf_applier_create failed\n");
	return a;
}

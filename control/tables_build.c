/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compile the configuration into the tables workers read (dataplane/tables.h).
 * Context 0 is the core context: plain IP on core ports, our core addresses, the
 * gateways, and the customers' public prefixes (so cloud traffic finds its way back to
 * the right public/Microsoft peering). Customer contexts follow in configuration order.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>

#include "control/control.h"
#include "dataplane/esp.h"
#include "dataplane/pkt.h"

#define GRE_OVERHEAD (20 + 8) /* outer IPv4 + GRE with key */

/* Address space reserved once and committed by the kernel as it is touched: the arrays
 * never move, so workers may keep reading while control appends. */
static void *
reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
unreserve(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

static int
fail(struct pf_build *b, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return err;
}

static int
port_id(struct pf_build *b, const char *name, uint16_t *pid)
{
	if (rte_eth_dev_get_port_by_name(name, pid) != 0)
		return fail(b, -ENODEV, "port '%s': no such DPDK device (check --vdev/-a)", name);
	if (*pid >= PF_MAX_PORTS)
		return fail(b, -ERANGE, "port '%s': DPDK port id %u >= %u", name, *pid, PF_MAX_PORTS);
	return 0;
}

/* Neighbors are shared by every next hop that leads to the same (ctx, address). */
static int
neigh_get(struct pf_build *b, uint16_t ctx, uint16_t port, int family, const uint8_t *ip,
	  const uint8_t *src_ip, const struct pf_tags *tags, uint32_t *out)
{
	struct pf_tables *t = b->t;
	unsigned alen = family == 4 ? 4 : 16;

	for (uint32_t i = 0; i < t->n_neigh; i++) {
		struct pf_neigh *n = &t->neigh[i];

		if (n->ctx == ctx && n->family == family && memcmp(n->ip, ip, alen) == 0) {
			*out = i;
			return 0;
		}
	}
	if (t->n_neigh == PF_MAX_NEIGH)
		return fail(b, -ENOSPC, "too many neighbors (%u)", PF_MAX_NEIGH);
	memset(&t->neigh[t->n_neigh], 0, sizeof(t->neigh[0]));
	t->neigh[t->n_neigh].family = family;
	t->neigh[t->n_neigh].ctx = ctx;
	t->neigh[t->n_neigh].port = port;
	t->neigh[t->n_neigh].tags = *tags;
	memcpy(t->neigh[t->n_neigh].ip, ip, alen);
	memcpy(t->neigh[t->n_neigh].src_ip, src_ip, alen);
	t->neigh_mac[t->n_neigh] = 0;
	*out = t->n_neigh++;
	return 0;
}

static int
nh_get(struct pf_build *b, const struct pf_nexthop *want, uint32_t *out)
{
	struct pf_tables *t = b->t;
	struct pf_nexthop nh = *want;

	/* the header template and fast-path flags follow from the fields (nexthop.c) */
	if (pf_nh_prepare(&nh, &t->port[nh.port].mac) < 0)
		return fail(b, -EINVAL, "next hop on port %u: tags on a GRE next hop", nh.port);
	want = &nh;
	for (uint32_t i = 1; i < t->n_nh; i++) {
		if (memcmp(&t->nh[i], want, sizeof(*want)) == 0) {
			*out = i;
			return 0;
		}
	}
	if (t->n_nh == PF_MAX_NH)
		return fail(b, -ENOSPC, "too many next hops (%u)", PF_MAX_NH);
	t->nh[t->n_nh] = *want;
	*out = t->n_nh++;
	return 0;
}

static void
tags_of(const struct pf_context_conf *cx, struct pf_tags *tags)
{
	memset(tags, 0, sizeof(*tags));
	if (cx->qinq) {
		tags->n = 2;
		tags->tpid[0] = rte_cpu_to_be_16(cx->s_tpid ? cx->s_tpid : RTE_ETHER_TYPE_QINQ);
		tags->tci[0] = rte_cpu_to_be_16(cx->s_tag);
		tags->tpid[1] = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		tags->tci[1] = rte_cpu_to_be_16(cx->c_tag);
	} else {
		tags->n = 1;
		tags->tpid[0] = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		tags->tci[0] = rte_cpu_to_be_16(cx->vlan);
	}
}

/* The n-th address of a subnet (network order, IPv4 in [0..3] or IPv6). */
static void
subnet_addr(const struct pf_prefix *p, unsigned n, uint8_t out[16])
{
	memset(out, 0, 16);
	if (p->family == 4) {
		uint32_t a;

		memcpy(&a, p->addr, 4);
		a = rte_cpu_to_be_32(rte_be_to_cpu_32(a) + n);
		memcpy(out, &a, 4);
	} else {
		memcpy(out, p->addr, 16);
		out[15] += n; /* /126: the last two bits */
	}
}

static int
route_add(struct pf_build *b, uint16_t ctx, int family, const uint8_t *addr, uint8_t len,
	  uint32_t nh)
{
	int r;

	if (family == 4) {
		uint32_t a;

		memcpy(&a, addr, 4);
		r = fib4_add(b->t->fib, ctx, rte_be_to_cpu_32(a), len, nh);
	} else {
		r = fib6_add(b->t->fib, ctx, addr, len, nh);
	}
	if (r < 0)
		return fail(b, r, "installing a route in context %u: %s", ctx, strerror(-r));
	return 0;
}


/* Next hop toward a customer router over one of a context's links. */
static int
nh_edge(struct pf_build *b, const struct pf_context_conf *cx, uint16_t ctx, uint16_t cust,
	const struct pf_link_conf *lk, int family, uint32_t *out)
{
	struct pf_nexthop nh = {.type = PF_NH_EDGE, .family = family, .ctx = ctx, .customer = cust};
	const struct pf_prefix *sn = family == 4 ? &lk->subnet4 : &lk->subnet6;
	uint8_t peer[16], ours[16];
	uint16_t pid;
	int r;

	if (sn->family != family)
		return fail(b, -EINVAL, "context '%s': an IPv%d route via the customer router needs "
			    "an IPv%d peering subnet", cx->name, family, family);
	if ((r = port_id(b, lk->port, &pid)) < 0)
		return r;
	tags_of(cx, &nh.tags);
	nh.port = pid;
	nh.mtu = b->t->port[pid].mtu;
	subnet_addr(sn, 1, peer);
	subnet_addr(sn, 2, ours);
	if ((r = neigh_get(b, ctx, pid, family, peer, ours, &nh.tags, &nh.neigh)) < 0)
		return r;
	return nh_get(b, &nh, out);
}

static int
nh_core(struct pf_build *b, const struct pf_core_info *ci, int family, const uint8_t *via,
	uint32_t *out)
{
	struct pf_nexthop nh = {.type = PF_NH_CORE, .family = family, .ctx = PF_CTX_CORE,
				.customer = 0xffff, .port = ci->port};
	const struct pf_port_conf *pc = ci->pc;
	uint8_t src[16] = {0};
	int r;

	nh.mtu = b->t->port[ci->port].mtu;
	memcpy(src, family == 4 ? pc->addr4.addr : pc->addr6.addr, 16);
	if ((r = neigh_get(b, PF_CTX_CORE, ci->port, family, via, src, &nh.tags, &nh.neigh)) < 0)
		return r;
	return nh_get(b, &nh, out);
}

static int
build_ports(struct pf_build *b, const struct pf_config *cfg, struct pf_core_info *ci)
{
	struct pf_tables *t = b->t;
	int r;

	memset(ci, 0, sizeof(*ci));
	for (size_t i = 0; i < cfg->n_ports; i++) {
		const struct pf_port_conf *pc = &cfg->ports[i];
		uint16_t pid;
		struct pf_port *p;

		if ((r = port_id(b, pc->name, &pid)) < 0)
			return r;
		p = &t->port[pid];
		if (p->vlan_ctx != NULL)
			return fail(b, -EEXIST, "port '%s' configured twice", pc->name);
		p->vlan_ctx = malloc(4096 * sizeof(uint16_t));
		if (p->vlan_ctx == NULL)
			return fail(b, -ENOMEM, "out of memory");
		for (unsigned v = 0; v < 4096; v++)
			p->vlan_ctx[v] = PF_CTX_NONE;
		p->is_core = pc->role == PF_ROLE_CORE;
		p->mtu = pc->mtu ? pc->mtu : 1500;
		if (pc->has_mac)
			memcpy(p->mac.addr_bytes, pc->mac, 6);
		else
			rte_eth_macaddr_get(pid, &p->mac);
		snprintf(p->name, sizeof(p->name), "%s", pc->name);
		if (pid >= t->n_ports)
			t->n_ports = pid + 1;
		if (p->is_core && ci->pc == NULL) {
			ci->pc = pc;
			ci->port = pid;
		}
	}
	if (ci->pc == NULL)
		return fail(b, -EINVAL, "no core port");
	ci->have4 = ci->pc->addr4.family == 4;
	ci->have6 = ci->pc->addr6.family == 6;
	return 0;
}

static int
qinq_insert(struct pf_tables *t, uint16_t port, uint16_t s, uint16_t c, uint16_t ctx)
{
	uint32_t key = 1u << 31 | (uint32_t)port << 24 | (uint32_t)s << 12 | c;
	uint32_t i = pf_hash32(key) & t->qinq_mask;

	for (uint32_t n = 0; n <= t->qinq_mask; n++, i = (i + 1) & t->qinq_mask) {
		if (t->qinq[i].key == key)
			return t->qinq[i].ctx == ctx ? 0 : -EEXIST;
		if (t->qinq[i].key == 0) {
			t->qinq[i].key = key;
			t->qinq[i].ctx = ctx;
			return 0;
		}
	}
	return -ENOSPC;
}

static uint32_t
pow2_for(size_t n)
{
	uint32_t s = 16;

	while (s < 2 * n)
		s <<= 1;
	return s;
}

static int
install_core(struct pf_build *b, struct pf_core_info *ci, uint32_t nh_local)
{
	const struct pf_port_conf *pc = ci->pc;
	struct pf_context *cx = &b->t->ctx[PF_CTX_CORE];
	static const uint8_t zero[16];
	int r;

	cx->kind = PF_KIND_CORE;
	cx->customer = 0xffff;
	snprintf(cx->name, sizeof(cx->name), "core");
	if (ci->have4) {
		memcpy(&cx->addr4, pc->addr4.addr, 4);
		if ((r = route_add(b, PF_CTX_CORE, 4, pc->addr4.addr, 32, nh_local)) < 0)
			return r;
		if (pc->gw4.family == 4) {
			if ((r = nh_core(b, ci, 4, pc->gw4.addr, &ci->nh_core4)) < 0 ||
			    (r = route_add(b, PF_CTX_CORE, 4, pc->gw4.addr, 32, ci->nh_core4)) < 0 ||
			    /* for what we originate; cloud traffic never hairpins (wrong_dir) */
			    (r = route_add(b, PF_CTX_CORE, 4, zero, 0, ci->nh_core4)) < 0)
				return r;
		}
	}
	if (ci->have6) {
		memcpy(cx->addr6, pc->addr6.addr, 16);
		if ((r = route_add(b, PF_CTX_CORE, 6, pc->addr6.addr, 128, nh_local)) < 0)
			return r;
		if (pc->gw6.family == 6) {
			if ((r = nh_core(b, ci, 6, pc->gw6.addr, &ci->nh_core6)) < 0 ||
			    (r = route_add(b, PF_CTX_CORE, 6, pc->gw6.addr, 128, ci->nh_core6)) < 0 ||
			    (r = route_add(b, PF_CTX_CORE, 6, zero, 0, ci->nh_core6)) < 0)
				return r;
		}
	}
	return 0;
}

static int
install_links(struct pf_build *b, const struct pf_context_conf *cc, uint16_t ctx, uint16_t cust,
	      uint32_t nh_local)
{
	const struct pf_link_conf *links[2] = {&cc->primary, &cc->secondary};
	int r;

	for (unsigned l = 0; l < 2; l++) {
		const struct pf_link_conf *lk = links[l];
		uint8_t a[16];
		uint32_t nh;
		uint16_t pid;

		if (!lk->present)
			continue;
		if ((r = port_id(b, lk->port, &pid)) < 0)
			return r;
		if (cc->qinq) {
			r = qinq_insert(b->t, pid, cc->s_tag, cc->c_tag, ctx);
			if (r < 0)
				return fail(b, r, "context '%s': tags %u/%u on port '%s' already used",
					    cc->name, cc->s_tag, cc->c_tag, lk->port);
		} else {
			uint16_t *slot = &b->t->port[pid].vlan_ctx[cc->vlan];

			if (*slot != PF_CTX_NONE && *slot != ctx)
				return fail(b, -EEXIST, "context '%s': VLAN %u on port '%s' already used",
					    cc->name, cc->vlan, lk->port);
			*slot = ctx;
		}
		for (int fam = 4; fam <= 6; fam += 2) {
			const struct pf_prefix *sn = fam == 4 ? &lk->subnet4 : &lk->subnet6;

			if (sn->family != fam)
				continue;
			subnet_addr(sn, 2, a);
			if ((r = route_add(b, ctx, fam, a, fam == 4 ? 32 : 128, nh_local)) < 0)
				return r;
			if ((r = nh_edge(b, cc, ctx, cust, lk, fam, &nh)) < 0)
				return r;
			subnet_addr(sn, 1, a);
			if ((r = route_add(b, ctx, fam, a, fam == 4 ? 32 : 128, nh)) < 0)
				return r;
		}
	}
	return 0;
}

static int
nh_gre(struct pf_build *b, const struct pf_core_info *ci, const struct pf_customer_conf *cu,
       uint16_t ctx, uint16_t cust, uint32_t *out)
{
	struct pf_nexthop nh = {.type = PF_NH_GRE, .family = 4, .ctx = ctx, .customer = cust,
				.port = ci->port};
	const uint8_t *via = ci->pc->gw4.addr;
	uint8_t src[16] = {0};
	int r;

	nh.mtu = b->t->port[ci->port].mtu - GRE_OVERHEAD;
	memcpy(&nh.tun_src, cu->gre_src.addr, 4);
	memcpy(&nh.tun_dst, cu->gre_dst.addr, 4);
	nh.gre_key = rte_cpu_to_be_32(cu->gre_key);
	/* IPsec: the GRE packet travels inside ESP toward the ESP tunnel's far end */
	const struct pf_addr *far = cu->has_ipsec ? &cu->ipsec.dst : &cu->gre_dst;
	if (cu->has_ipsec) {
		nh.esp = 1;
		nh.mtu -= PF_ESP_OVERHEAD;
	}
	/* the tunnel's far end is either on the core subnet or behind the gateway */
	if (pf_prefix_contains(&ci->pc->addr4, far))
		via = far->addr;
	else if (ci->pc->gw4.family != 4)
		return fail(b, -EINVAL, "customer '%s': GRE destination is off-link and the core "
			    "port has no gateway", cu->name);
	memcpy(src, ci->pc->addr4.addr, 4);
	if ((r = neigh_get(b, PF_CTX_CORE, ci->port, 4, via, src, &nh.tags, &nh.neigh)) < 0)
		return r;
	return nh_get(b, &nh, out);
}

static int
install_routes(struct pf_build *b, const struct pf_core_info *ci, const struct pf_customer_conf *cu,
	       const struct pf_context_conf *cc, uint16_t ctx, uint16_t cust, uint32_t nh_drop)
{
	int r;

	if (cc->kind == PF_CTX_PRIVATE) {
		uint32_t nhg, nh_peer[2] = {0, 0};

		if ((r = nh_gre(b, ci, cu, ctx, cust, &nhg)) < 0)
			return r;
		for (size_t i = 0; i < cu->n_vnets; i++)
			if ((r = route_add(b, ctx, cu->vnets[i].family, cu->vnets[i].addr,
					   cu->vnets[i].len, nhg)) < 0)
				return r;
		for (size_t i = 0; i < cu->n_on_prem; i++) {
			const struct pf_prefix *p = &cu->on_prem[i];
			uint32_t *nh = &nh_peer[p->family == 6];

			if (*nh == 0 && (r = nh_edge(b, cc, ctx, cust, &cc->primary, p->family, nh)) < 0)
				return r;
			if ((r = route_add(b, ctx, p->family, p->addr, p->len, *nh)) < 0)
				return r;
		}
	}
	for (size_t i = 0; i < cc->n_routes; i++) {
		const struct pf_route_conf *rc = &cc->routes[i];
		int fam = rc->prefix.family;
		uint32_t nh = 0;

		switch (rc->via) {
		case PF_VIA_PEER:
			r = nh_edge(b, cc, ctx, cust, &cc->primary, fam, &nh);
			break;
		case PF_VIA_GRE:
			r = nh_gre(b, ci, cu, ctx, cust, &nh);
			break;
		case PF_VIA_CORE:
			nh = fam == 4 ? ci->nh_core4 : ci->nh_core6;
			r = nh ? 0 : fail(b, -EINVAL, "context '%s': route via core needs a core IPv%d "
					  "gateway", cc->name, fam);
			break;
		case PF_VIA_DROP:
			nh = nh_drop;
			r = 0;
			break;
		case PF_VIA_ADDR:
		default: {
			const struct pf_link_conf *links[2] = {&cc->primary, &cc->secondary};
			uint8_t peer[16];

			r = -1;
			for (unsigned l = 0; l < 2 && r < 0; l++) {
				const struct pf_prefix *sn = fam == 4 ? &links[l]->subnet4
								      : &links[l]->subnet6;
				if (!links[l]->present || sn->family != rc->via_addr.family)
					continue;
				subnet_addr(sn, 1, peer);
				if (memcmp(peer, rc->via_addr.addr, fam == 4 ? 4 : 16) == 0)
					r = nh_edge(b, cc, ctx, cust, links[l], fam, &nh);
			}
			if (r < 0 && pf_prefix_contains(fam == 4 ? &ci->pc->addr4 : &ci->pc->addr6,
							&rc->via_addr))
				r = nh_core(b, ci, fam, rc->via_addr.addr, &nh);
			if (r == -1)
				r = fail(b, -EINVAL, "context '%s': next hop is neither a peer nor on "
					 "a core subnet", cc->name);
			break;
		}
		}
		if (r < 0)
			return r;
		if ((r = route_add(b, ctx, fam, rc->prefix.addr, rc->prefix.len, nh)) < 0)
			return r;
		/* A public prefix of the customer: the cloud reaches it through the core context. */
		if (cc->kind != PF_CTX_PRIVATE && b->t->nh[nh].type == PF_NH_EDGE &&
		    (r = route_add(b, PF_CTX_CORE, fam, rc->prefix.addr, rc->prefix.len, nh)) < 0)
			return r;
	}
	return 0;
}

int
pf_tables_build(struct pf_build *b, const struct pf_config *cfg, struct pf_tables *t,
		struct rte_rcu_qsbr *qsbr)
{
	struct pf_core_info *ci = &b->ci;
	struct fib_conf fc = {.qsbr = qsbr};
	uint32_t nh_local, nh_drop, n_ctx = 1;
	uint16_t ctx = 1;
	int r;

	memset(b, 0, sizeof(*b));
	memset(t, 0, sizeof(*t));
	b->t = t;
	b->cfg = cfg;
	t->icmp_rate_pps = cfg->icmp_rate_pps;
	for (size_t i = 0; i < cfg->n_customers; i++)
		n_ctx += cfg->customers[i].n_contexts;
	if (n_ctx >= PF_CTX_NONE)
		return fail(b, -ERANGE, "too many contexts (%u)", n_ctx);
	t->n_ctx = n_ctx;
	t->n_cust = cfg->n_customers;
	t->ctx = calloc(n_ctx, sizeof(*t->ctx));
	t->cust = calloc(RTE_MAX(t->n_cust, 1u), sizeof(*t->cust));
	t->qinq_mask = pow2_for(n_ctx * 2) - 1;
	t->qinq = calloc(t->qinq_mask + 1, sizeof(*t->qinq));
	t->gre_mask = pow2_for(t->n_cust) - 1;
	t->gre = malloc((t->gre_mask + 1) * sizeof(*t->gre));
	b->ctx_conf = calloc(n_ctx, sizeof(*b->ctx_conf));
	b->ctx_cust = calloc(n_ctx, sizeof(*b->ctx_cust));
	t->nh = reserve(PF_MAX_NH * sizeof(*t->nh));
	t->neigh = reserve(PF_MAX_NEIGH * sizeof(*t->neigh));
	t->neigh_mac = reserve(PF_MAX_NEIGH * sizeof(*t->neigh_mac));
	if (!t->ctx || !t->cust || !t->qinq || !t->gre || !b->ctx_conf || !b->ctx_cust ||
	    !t->nh || !t->neigh || !t->neigh_mac)
		return fail(b, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i <= t->gre_mask; i++)
		t->gre[i].customer = 0xffff;
	fc.max_contexts = n_ctx;
	_Static_assert(PF_FIB_PLY4_BITS_DEFAULT == FIB_PLY4_BITS_DEFAULT, "same default width");
	fc.ply4_bits = cfg->fib_ipv4_ply_bits;   /* 0 (a config built in code): the default */
	t->fib = fib_create(&fc);
	if (t->fib == NULL)
		return fail(b, -errno, "creating the FIB: %s", strerror(errno));

	/* next hop 0 is "no route"; local and blackhole are shared by every context */
	if ((r = nh_get(b, &(struct pf_nexthop){.type = PF_NH_NONE}, &nh_local)) < 0)
		return r;
	t->n_nh = 1;
	if ((r = nh_get(b, &(struct pf_nexthop){.type = PF_NH_LOCAL}, &nh_local)) < 0 ||
	    (r = nh_get(b, &(struct pf_nexthop){.type = PF_NH_DROP}, &nh_drop)) < 0)
		return r;
	if ((r = build_ports(b, cfg, ci)) < 0 || (r = install_core(b, ci, nh_local)) < 0)
		return r;

	for (size_t c = 0; c < cfg->n_customers; c++) {
		const struct pf_customer_conf *cu = &cfg->customers[c];
		struct pf_customer *tc = &t->cust[c];

		snprintf(tc->name, sizeof(tc->name), "%s", cu->name);
		tc->ctx = PF_CTX_NONE;
		for (size_t k = 0; k < cu->n_contexts; k++, ctx++) {
			const struct pf_context_conf *cc = &cu->contexts[k];
			struct pf_context *cx = &t->ctx[ctx];
			uint8_t a[16];

			cx->kind = cc->kind == PF_CTX_PRIVATE ? PF_KIND_PRIVATE
				 : cc->kind == PF_CTX_MICROSOFT ? PF_KIND_MICROSOFT : PF_KIND_PUBLIC;
			cx->customer = c;
			snprintf(cx->name, sizeof(cx->name), "%s", cc->name);
			subnet_addr(&cc->primary.subnet4, 2, a);
			memcpy(&cx->addr4, a, 4);
			if (cc->primary.subnet6.family == 6)
				subnet_addr(&cc->primary.subnet6, 2, cx->addr6);
			if (cc->kind == PF_CTX_PRIVATE)
				tc->ctx = ctx;
			b->ctx_conf[ctx] = cc;
			b->ctx_cust[ctx] = cu;
			if ((r = install_links(b, cc, ctx, c, nh_local)) < 0 ||
			    (r = install_routes(b, ci, cu, cc, ctx, c, nh_drop)) < 0)
				return r;
		}
		if (cu->has_gre && tc->ctx != PF_CTX_NONE) {
			uint32_t i = pf_hash32(cu->gre_key) & t->gre_mask;

			tc->gre_key = rte_cpu_to_be_32(cu->gre_key);
			tc->ipsec = cu->has_ipsec;
			memcpy(&tc->tun_src, cu->gre_src.addr, 4);
			memcpy(&tc->tun_dst, cu->gre_dst.addr, 4);
			while (t->gre[i].customer != 0xffff)
				i = (i + 1) & t->gre_mask;
			t->gre[i].key = cu->gre_key;
			t->gre[i].customer = c;
		}
	}
	/* static neighbors: resolved from the start */
	for (size_t i = 0; i < cfg->n_neighbors; i++) {
		const struct pf_neighbor_conf *nc = &cfg->neighbors[i];
		uint16_t pid;
		struct rte_ether_addr mac;

		if ((r = port_id(b, nc->port, &pid)) < 0)
			return r;
		memcpy(mac.addr_bytes, nc->mac, 6);
		for (uint32_t k = 0; k < t->n_neigh; k++) {
			const struct pf_neigh *n = &t->neigh[k];

			if (n->port == pid && n->family == nc->ip.family &&
			    memcmp(n->ip, nc->ip.addr, n->family == 4 ? 4 : 16) == 0)
			{
				t->neigh_mac[k] = pf_mac_to_u64(&mac) | PF_NEIGH_VALID;
				t->neigh[k].is_static = 1;
			}
		}
	}
	return 0;
}

void
pf_tables_free(struct pf_tables *t)
{
	if (t->fib)
		fib_destroy(t->fib);
	for (unsigned p = 0; p < PF_MAX_PORTS; p++)
		free(t->port[p].vlan_ctx);
	unreserve(t->nh, PF_MAX_NH * sizeof(*t->nh));
	unreserve(t->neigh, PF_MAX_NEIGH * sizeof(*t->neigh));
	unreserve(t->neigh_mac, PF_MAX_NEIGH * sizeof(*t->neigh_mac));
	free(t->ctx);
	free(t->cust);
	free(t->qinq);
	free(t->gre);
	memset(t, 0, sizeof(*t));
}

void
pf_build_free(struct pf_build *b)
{
	free(b->ctx_conf);
	free(b->ctx_cust);
	b->ctx_conf = NULL;
	b->ctx_cust = NULL;
}

int
pf_build_nh(struct pf_build *b, const struct pf_nexthop *want, uint32_t *out)
{
	return nh_get(b, want, out);
}

int
pf_build_resolve(struct pf_build *b, uint16_t ctx, const struct pf_addr *a, uint32_t *nh)
{
	const struct pf_context_conf *cc = ctx < b->t->n_ctx ? b->ctx_conf[ctx] : NULL;
	const struct pf_customer_conf *cu = ctx < b->t->n_ctx ? b->ctx_cust[ctx] : NULL;
	const struct pf_core_info *ci = &b->ci;
	unsigned alen = a->family == 4 ? 4 : 16;

	if (cc != NULL) {
		const struct pf_link_conf *links[2] = {&cc->primary, &cc->secondary};
		uint16_t cust = (uint16_t)(cu - b->cfg->customers);

		for (unsigned l = 0; l < 2; l++) {
			const struct pf_prefix *sn = a->family == 4 ? &links[l]->subnet4
								    : &links[l]->subnet6;
			uint8_t peer[16];

			if (!links[l]->present || sn->family != a->family)
				continue;
			subnet_addr(sn, 1, peer);
			if (memcmp(peer, a->addr, alen) == 0)
				return nh_edge(b, cc, ctx, cust, links[l], a->family, nh);
		}
		if (cc->kind == PF_CTX_PRIVATE && cu->has_gre && a->family == 4 &&
		    memcmp(cu->gre_dst.addr, a->addr, 4) == 0)
			return nh_gre(b, ci, cu, ctx, cust, nh);
	}
	if (pf_prefix_contains(a->family == 4 ? &ci->pc->addr4 : &ci->pc->addr6, a)) {
		uint8_t ours[16] = {0};

		memcpy(ours, a->family == 4 ? ci->pc->addr4.addr : ci->pc->addr6.addr, alen);
		if (memcmp(ours, a->addr, alen) == 0)
			return -ENOENT; /* our own address is no next hop */
		return nh_core(b, ci, a->family, a->addr, nh);
	}
	return -ENOENT;
}

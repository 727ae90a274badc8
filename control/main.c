/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * peerfwd: EAL and configuration first, then the tables, then one worker per worker
 * lcore; the main lcore stays the control thread (the only table writer) until the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "common/config.h"
#include "control/applier.h"
#include "control/applier_priv.h"
#include "control/control.h"
#include "control/feed.h"
#include "control/feed_exabgp.h"
#include "control/feed_fpm.h"
#include "control/ipsec.h"
#include "dataplane/esp.h"
#include "control/mgmt.h"

#define PF_NB_MBUF_FLOOR 16383 /* smallest computed pool (the size before it was computed) */
#define PF_MBUF_CACHE 256
#define PF_ROUTE_RING 16384 /* route messages in flight from the feeds (bounded) */

struct opts {
	const char *config;
	const char *stats_json;
	bool check;
	bool quiet;
	unsigned idle_exit_ms;
	unsigned duration_s;
	unsigned stats_interval_s;
	unsigned stats_json_interval_s;
	const char *socket;
	const char *crypto_dev;
};

static volatile bool quit;

/* CPUs the process may use before EAL pins the main thread to the main lcore. */
static cpu_set_t start_cpus;

/* Feed threads parse while the control thread applies: give them the CPUs no worker
 * polls on (as rte_ctrl_thread_create does), not the control thread's single CPU they
 * would inherit. With no CPU left over they share the main lcore's. */
static void
feed_thread_cpus(pthread_t th)
{
	cpu_set_t set = start_cpus;
	unsigned lcore;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_cpuset_t ws = rte_lcore_cpuset(lcore);

		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &ws))
				CPU_CLR(c, &set);
	}
	if (CPU_COUNT(&set) == 0)
		set = rte_lcore_cpuset(rte_get_main_lcore());
	pthread_setaffinity_np(th, sizeof(set), &set);
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [EAL options] -- --config FILE [options]\n"
		"       %s --config FILE --check\n"
		"\n"
		"peerfwd forwards customer peering traffic between 802.1Q/QinQ edge ports and a\n"
		"core port, GRE-encapsulating private peering traffic per customer.\n"
		"The main lcore runs the control thread; every other lcore (-l) is a worker.\n"
		"\n"
		"Options (after the EAL options and --):\n"
		"  -c, --config FILE         JSON configuration (see docs/config.md); required\n"
		"      --check               validate the configuration and exit: 0 valid, 2 invalid;\n"
		"                            needs no EAL options\n"
		"      --idle-exit MS        offline mode (pcap replay): exit once no RX queue has\n"
		"                            received anything for MS milliseconds\n"
		"      --duration S          exit after S seconds\n"
		"      --stats-json FILE     write the final counters as JSON to FILE\n"
		"      --stats-json-interval S\n"
		"                            also write FILE every S seconds while running (each\n"
		"                            time atomically: FILE.tmp, then renamed)\n"
		"      --stats-interval S    print the counters every S seconds (default: only at exit)\n"
		"      --socket PATH         management socket for peerctl (overrides the config's\n"
		"                            management.socket)\n"
		"      --crypto-dev NAME     crypto device for IPsec (e.g. crypto_aesni_gcm0,\n"
		"                            crypto_aesni_mb0, crypto_openssl0): created unless it\n"
		"                            exists; default: a cryptodev given with --vdev, else\n"
		"                            the first of crypto_aesni_gcm0, crypto_aesni_mb0,\n"
		"                            crypto_openssl0 that starts (docs/ipsec.md)\n"
		"  -q, --quiet               do not print the counters at exit\n"
		"  -h, --help                this text\n"
		"\n"
		"While running, the counters are also served through DPDK telemetry (the EAL's\n"
		"dpdk_telemetry.v2 socket): /peerfwd/stats (as --stats-json), /peerfwd/drops,\n"
		"/peerfwd/context,ID, /peerfwd/customer,ID, /peerfwd/applier (docs/management.md).\n"
		"\n"
		"Exit status: 0 normal end, 1 runtime error (EAL, ports, memory), 2 bad usage or\n"
		"configuration.\n",
		prog, prog);
}

static int
parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'C'},
		{"idle-exit", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, 'd'},
		{"stats-json", required_argument, NULL, 'j'},
		{"stats-interval", required_argument, NULL, 's'},
		{"stats-json-interval", required_argument, NULL, 'J'},
		{"socket", required_argument, NULL, 'S'},
		{"crypto-dev", required_argument, NULL, 'K'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'C': o->check = true; break;
		case 'j': o->stats_json = optarg; break;
		case 'q': o->quiet = true; break;
		case 'S': o->socket = optarg; break;
		case 'K': o->crypto_dev = optarg; break;
		case 'i':
			if (parse_uint(optarg, 86400000, &o->idle_exit_ms) < 0 || o->idle_exit_ms == 0) {
				fprintf(stderr, "peerfwd: --idle-exit: '%s' is not 1..86400000 ms\n", optarg);
				return -1;
			}
			break;
		case 'd':
			if (parse_uint(optarg, 31536000, &o->duration_s) < 0 || o->duration_s == 0) {
				fprintf(stderr, "peerfwd: --duration: '%s' is not a number of seconds\n", optarg);
				return -1;
			}
			break;
		case 's':
			if (parse_uint(optarg, 86400, &o->stats_interval_s) < 0) {
				fprintf(stderr, "peerfwd: --stats-interval: '%s' is not 0..86400\n", optarg);
				return -1;
			}
			break;
		case 'J':
			if (parse_uint(optarg, 86400, &o->stats_json_interval_s) < 0 ||
			    o->stats_json_interval_s == 0) {
				fprintf(stderr, "peerfwd: --stats-json-interval: '%s' is not 1..86400\n",
					optarg);
				return -1;
			}
			break;
		case 'h': usage(stdout, argv[0]); exit(0);
		default: return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "peerfwd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->config == NULL) {
		fprintf(stderr, "peerfwd: --config FILE is required (see --help)\n");
		return -1;
	}
	if (o->stats_json_interval_s && o->stats_json == NULL) {
		fprintf(stderr, "peerfwd: --stats-json-interval needs --stats-json FILE\n");
		return -1;
	}
	return 0;
}

/*
 * Packet buffers the pool needs when the configuration does not say ("mbufs"), as DPDK's
 * l3fwd sizes its pool: every RX and TX ring full (descriptor counts as the device will
 * round them, rte_eth_dev_adjust_nb_rx_tx_desc), a burst per worker and port in flight
 * (TX buffers), and every lcore's mempool cache (the default never goes below the
 * historic 16383). Ports that cannot be found are skipped here (the table build reports them).
 */
static uint64_t
pool_need(const struct pf_config *cfg, unsigned n_workers)
{
	uint64_t n = 0;

	for (size_t i = 0; i < cfg->n_ports; i++) {
		struct rte_eth_dev_info info;
		uint16_t pid, rxd = cfg->rx_desc, txd = cfg->tx_desc;

		if (rte_eth_dev_get_port_by_name(cfg->ports[i].name, &pid) != 0 ||
		    rte_eth_dev_info_get(pid, &info) != 0)
			continue;
		rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rxd, &txd);
		n += (uint64_t)RTE_MIN(n_workers, info.max_rx_queues) * rxd; /* RX rings */
		n += (uint64_t)n_workers * txd;                              /* TX rings */
		n += (uint64_t)n_workers * cfg->burst;                       /* TX buffers */
	}
	n += (uint64_t)(n_workers + 1) * PF_MBUF_CACHE; /* + the control lcore's cache */
	return n;
}

static int
port_setup(uint16_t pid, unsigned n_workers, struct rte_mempool *pool,
	   const struct pf_port_conf *pc, const struct pf_config *cfg, uint16_t *nb_rxq)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t nrx, ntx, rxd = cfg->rx_desc, txd = cfg->tx_desc;
	int r;

	memset(&conf, 0, sizeof(conf));
	if ((r = rte_eth_dev_info_get(pid, &info)) < 0)
		return r;
	nrx = RTE_MIN(n_workers, info.max_rx_queues);
	ntx = n_workers;
	if (info.max_tx_queues < ntx) {
		fprintf(stderr, "peerfwd: port '%s' has %u TX queues, %u workers need one each\n",
			pc->name, info.max_tx_queues, n_workers);
		return -ENOTSUP;
	}
	if (nrx > 1) {
		/* spread flows over the workers; one flow stays on one worker (no reordering) */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	/* room for QinQ tags on top of the L3 MTU */
	conf.rxmode.mtu = pc->mtu + (pc->role == PF_ROLE_EDGE ? 8 : 0);
	if (conf.rxmode.mtu > info.max_mtu || conf.rxmode.mtu < info.min_mtu)
		conf.rxmode.mtu = 0;
	if ((r = rte_eth_dev_configure(pid, nrx, ntx, &conf)) < 0)
		return r;
	if ((r = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rxd, &txd)) < 0)
		return r;
	for (uint16_t q = 0; q < nrx; q++)
		if ((r = rte_eth_rx_queue_setup(pid, q, rxd, rte_eth_dev_socket_id(pid), NULL, pool)) < 0)
			return r;
	for (uint16_t q = 0; q < ntx; q++)
		if ((r = rte_eth_tx_queue_setup(pid, q, txd, rte_eth_dev_socket_id(pid), NULL)) < 0)
			return r;
	if (pc->has_mac) {
		struct rte_ether_addr mac;

		memcpy(mac.addr_bytes, pc->mac, 6);
		/* a device that cannot take our MAC must hear everything instead */
		if (rte_eth_dev_default_mac_addr_set(pid, &mac) < 0)
			rte_eth_promiscuous_enable(pid);
	}
	rte_eth_allmulticast_enable(pid); /* IPv6 neighbor discovery is multicast */
	if ((r = rte_eth_dev_start(pid)) < 0)
		return r;
	*nb_rxq = nrx;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	struct pf_config *cfg = NULL;
	char err[1024];
	int sep = -1, r, rc = 0;
	unsigned n_workers, wi = 0, pool_size = 0;
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct rte_ring *learn, *routes = NULL;
	struct pf_applier *applier = NULL;
	struct pf_ctxmap *ctxmap = NULL;
	static struct pf_feed exabgp = {.name = "exabgp", .source = PF_SRC_EXABGP};
	static struct pf_feed fpm = {.name = "fpm", .source = PF_SRC_FPM};
	pthread_t fpm_th;
	bool fpm_on = false;
	struct pf_feed *feeds[2];
	unsigned n_feeds = 0;
	pthread_t exabgp_th;
	bool exabgp_on = false;
	struct pf_mgmt_ctx mc;
	struct pf_mgmt *mgmt = NULL;
	struct pf_ipsec *ipsec = NULL;
	const char *sock;
	struct pf_tables t;
	struct pf_build b;
	struct pf_worker **workers;
	uint16_t nb_rxq[PF_MAX_PORTS] = {0};
	bool port_started[PF_MAX_PORTS] = {0};
	struct pf_stats_src ss;
	unsigned lcore;
	uint64_t start, hz, next_stats, next_json;

	/* DPDK convention: EAL options, then "--", then ours. Without "--" all are ours. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	{
		int app_argc = sep < 0 ? argc : argc - sep;
		char **app_argv = sep < 0 ? argv : argv + sep;
		char *saved = app_argv[0];

		app_argv[0] = argv[0];
		r = parse_opts(app_argc, app_argv, &o);
		app_argv[0] = saved;
		if (r < 0)
			return 2;
	}
	if (sched_getaffinity(0, sizeof(start_cpus), &start_cpus) != 0)
		CPU_ZERO(&start_cpus);
	/* The configuration is checked before anything starts, so a bad one changes nothing. */
	r = pf_config_load(o.config, &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "peerfwd: %s\n", err);
		return 2;
	}
	if (o.check) {
		printf("%s: configuration valid (%zu ports, %zu customers)\n", o.config, cfg->n_ports,
		       cfg->n_customers);
		pf_config_free(cfg);
		return 0;
	}
	if (sep < 0) {
		/* no EAL options given: let EAL use its defaults */
		char *eal_argv[] = {argv[0], NULL};
		r = rte_eal_init(1, eal_argv);
	} else {
		r = rte_eal_init(sep, argv);
	}
	if (r < 0) {
		fprintf(stderr, "peerfwd: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		pf_config_free(cfg);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	n_workers = rte_lcore_count() - 1;
	if (n_workers == 0 || n_workers > RTE_MAX_LCORE) {
		fprintf(stderr, "peerfwd: need at least 2 lcores (-l): one control, one or more workers\n");
		rc = 2;
		goto out_eal;
	}
	{
		uint64_t need = pool_need(cfg, n_workers);

		if (cfg->mbufs == 0)
			pool_size = (unsigned)RTE_MIN(RTE_MAX(need, (uint64_t)PF_NB_MBUF_FLOOR),
						      (uint64_t)PF_MBUFS_MAX);
		else if ((pool_size = cfg->mbufs) < need)
			fprintf(stderr, "peerfwd: warning: \"mbufs\": %u is less than the %" PRIu64
				" that full RX/TX rings, bursts and caches can hold\n", pool_size, need);
	}
	pool = rte_pktmbuf_pool_create("pf_mbuf", pool_size, PF_MBUF_CACHE, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	qsbr = rte_zmalloc("pf_qsbr", rte_rcu_qsbr_get_memsize(n_workers), RTE_CACHE_LINE_SIZE);
	learn = rte_ring_create_elem("pf_learn", sizeof(struct pf_learn_msg), 4096, rte_socket_id(),
				     RING_F_SC_DEQ);
	workers = calloc(n_workers, sizeof(*workers));
	if (pool == NULL || qsbr == NULL || learn == NULL || workers == NULL ||
	    rte_rcu_qsbr_init(qsbr, n_workers) != 0) {
		fprintf(stderr, "peerfwd: out of memory at start-up (%u mbufs, QSBR, ring)\n",
			pool_size);
		rc = 1;
		goto out_eal;
	}
	r = pf_tables_build(&b, cfg, &t, qsbr);
	if (r < 0) {
		fprintf(stderr, "peerfwd: %s: %s\n", o.config, b.err);
		rc = 2;
		goto out_tables;
	}
	/* IPsec: crypto device and SAs (only when a customer has "ipsec") */
	r = pf_ipsec_create(&ipsec, cfg, &t, qsbr, n_workers, o.crypto_dev, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "peerfwd: ipsec: %s\n", err);
		rc = 1;
		goto out_tables;
	}
	/* feeds are producers on their own threads (HTS: safe if one is preempted), the
	 * control thread is the only consumer */
	routes = rte_ring_create_elem("pf_routes", sizeof(struct pf_route_msg), PF_ROUTE_RING,
				      rte_socket_id(), RING_F_MP_HTS_ENQ | RING_F_SC_DEQ);
	applier = routes ? pf_applier_create(&b, routes) : NULL;
	if (applier == NULL) {
		fprintf(stderr, "peerfwd: out of memory at start-up (route ring, RIB)\n");
		rc = 1;
		goto out_tables;
	}
	for (size_t i = 0; i < cfg->n_ports; i++) {
		uint16_t pid;

		rte_eth_dev_get_port_by_name(cfg->ports[i].name, &pid);
		r = port_setup(pid, n_workers, pool, &cfg->ports[i], cfg, &nb_rxq[pid]);
		if (r < 0) {
			fprintf(stderr, "peerfwd: port '%s': %s\n", cfg->ports[i].name, strerror(-r));
			rc = 1;
			goto out_ports;
		}
		port_started[pid] = true;
	}

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct pf_worker *w = rte_zmalloc_socket("pf_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
							 rte_lcore_to_socket_id(lcore));
		if (w == NULL) {
			rc = 1;
			goto out_workers;
		}
		w->id = wi;
		w->lcore = lcore;
		w->pool = pool;
		w->qsbr = qsbr;
		w->learn = learn;
		w->burst = cfg->burst;
		w->quit = &quit;
		for (uint16_t p = 0; p < PF_MAX_PORTS; p++) {
			w->txq[p] = wi;
			/* queue q of every port goes to worker q mod n */
			for (uint16_t q = wi; q < nb_rxq[p] && w->n_rxq < PF_MAX_RXQ; q += n_workers) {
				w->rxq[w->n_rxq].port = p;
				w->rxq[w->n_rxq].queue = q;
				w->n_rxq++;
			}
		}
		if (pf_worker_init(w, &t) < 0) {
			rte_free(w);
			rc = 1;
			goto out_workers;
		}
		if (pf_ipsec_worker_init(ipsec, w) < 0) {
			pf_worker_fini(w);
			rte_free(w);
			rc = 1;
			goto out_workers;
		}
		workers[wi++] = w;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct pf_worker *w = NULL;

		for (unsigned i = 0; i < n_workers; i++)
			if (workers[i]->lcore == lcore)
				w = workers[i];
		rte_eal_remote_launch(pf_worker_main, w, lcore);
	}

	hz = rte_get_tsc_hz();
	start = rte_rdtsc();
	next_stats = start + o.stats_interval_s * hz;
	next_json = start + o.stats_json_interval_s * hz;
	ss = (struct pf_stats_src){.t = &t, .cfg = cfg, .workers = workers, .n_workers = n_workers,
				   .pool = pool, .pool_size = pool_size, .applier = applier,
				   .ipsec = ipsec};

	/* route feeds: producer threads in front of the ring the loop below drains */
	ctxmap = pf_ctxmap_create(cfg);
	if (ctxmap == NULL) {
		rc = 1;
		goto out_workers;
	}
	if (cfg->exabgp_socket[0]) {
		exabgp.ring = routes;
		exabgp.quit = &quit;
		r = pf_exabgp_start(&exabgp, cfg->exabgp_socket, ctxmap, &exabgp_th);
		if (r < 0) {
			fprintf(stderr, "peerfwd: ExaBGP feed on %s: %s\n", cfg->exabgp_socket,
				strerror(-r));
			rc = 1;
			goto out_workers;
		}
		exabgp_on = true;
		feed_thread_cpus(exabgp_th);
		feeds[n_feeds++] = &exabgp;
	}
	if (cfg->fpm_listen[0]) {
		fpm.ring = routes;
		fpm.quit = &quit;
		r = pf_fpm_start(&fpm, cfg->fpm_listen, ctxmap, &fpm_th);
		if (r < 0) {
			fprintf(stderr, "peerfwd: FPM feed on %s: %s\n", cfg->fpm_listen,
				strerror(-r));
			rc = 1;
			goto out_workers;
		}
		fpm_on = true;
		feed_thread_cpus(fpm_th);
		feeds[n_feeds++] = &fpm;
	}
	pf_telemetry_publish(applier);
	if (pf_telemetry_attach(&ss) < 0)
		fprintf(stderr, "peerfwd: warning: cannot register the telemetry commands\n");
	sock = o.socket ? o.socket : cfg->mgmt_socket[0] ? cfg->mgmt_socket : NULL;
	if (sock) {
		mc = (struct pf_mgmt_ctx){.cfg = cfg, .t = &t, .stats = &ss, .applier = applier,
					  .feeds = feeds, .n_feeds = n_feeds, .ipsec = ipsec};
		mgmt = pf_mgmt_open(sock, &mc, err, sizeof(err));
		if (mgmt == NULL) {
			fprintf(stderr, "peerfwd: management socket %s: %s\n", sock, err);
			rc = 1;
			goto out_workers;
		}
	}
	while (!quit) {
		struct pf_learn_msg msgs[32];
		unsigned n = rte_ring_dequeue_burst_elem(learn, msgs, sizeof(msgs[0]), 32, NULL);
		unsigned nr = pf_applier_poll(applier, 8192);
		uint64_t now;

		for (unsigned i = 0; i < n; i++)
			if (msgs[i].neigh < t.n_neigh && !t.neigh[msgs[i].neigh].is_static)
				__atomic_store_n(&t.neigh_mac[msgs[i].neigh], msgs[i].mac, __ATOMIC_RELEASE);
		fib_reclaim(t.fib);
		pf_ipsec_poll(ipsec);
		pf_mgmt_poll(mgmt);
		pf_telemetry_publish(applier);
		now = rte_rdtsc();
		if (o.duration_s && now - start >= o.duration_s * hz)
			break;
		if (o.idle_exit_ms) {
			uint64_t last = 0;

			for (unsigned i = 0; i < n_workers; i++)
				last = RTE_MAX(last, __atomic_load_n(&workers[i]->last_rx_tsc,
								     __ATOMIC_RELAXED));
			if (now > last && now - last >= o.idle_exit_ms * hz / 1000)
				break;
		}
		if (o.stats_interval_s && now >= next_stats) {
			pf_stats_print(stdout, &ss);
			fflush(stdout);
			next_stats = now + o.stats_interval_s * hz;
		}
		if (o.stats_json_interval_s && now >= next_json) {
			if (pf_stats_write_json(o.stats_json, &ss) < 0)
				fprintf(stderr, "peerfwd: cannot write %s\n", o.stats_json);
			next_json = now + o.stats_json_interval_s * hz;
		}
		if (n == 0 && nr == 0)
			usleep(1000);
	}
	quit = true;

out_workers:
	quit = true;
	pf_telemetry_detach(); /* before the workers (their counters) are freed */
	if (exabgp_on)
		pf_exabgp_stop(&exabgp, exabgp_th);
	if (fpm_on)
		pf_fpm_stop(&fpm, fpm_th);
	pf_mgmt_close(mgmt);
	pf_ctxmap_free(ctxmap);
	rte_eal_mp_wait_lcore();
	pf_ipsec_poll(ipsec); /* alarms of the last packets, before the counters are written */
out_ports:
	for (uint16_t p = 0; p < PF_MAX_PORTS; p++)
		if (port_started[p]) {
			rte_eth_dev_stop(p);
			rte_eth_dev_close(p);
		}
	if (rc == 0) {
		if (!o.quiet)
			pf_stats_print(stdout, &ss);
		if (o.stats_json && pf_stats_write_json(o.stats_json, &ss) < 0) {
			fprintf(stderr, "peerfwd: cannot write %s\n", o.stats_json);
			rc = 1;
		}
	}
	for (unsigned i = 0; i < n_workers; i++)
		if (workers[i]) {
			pf_esp_worker_fini(workers[i]);
			pf_worker_fini(workers[i]);
			rte_free(workers[i]);
		}
out_tables:
	pf_ipsec_free(ipsec);
	pf_applier_free(applier);
	rte_ring_free(routes);
	pf_build_free(&b);
	pf_tables_free(&t);
	free(workers);
	rte_ring_free(learn);
	rte_free(qsbr);
	rte_mempool_free(pool);
out_eal:
	pf_config_free(cfg);
	rte_eal_cleanup();
	return rc;
}

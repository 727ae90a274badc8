/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * peerfwd-exabgp: the program ExaBGP runs as its API process. It copies ExaBGP's JSON lines
 * (stdin) to peerfwd's ExaBGP feed socket, whole lines only.
 *
 *   process peerfwd {
 *       run /usr/local/bin/peerfwd-exabgp --socket /run/peerfwd/exabgp.sock;
 *       encoder json;
 *   }
 *   neighbor 172.16.1.1 {
 *       ...
 *       capability { route-refresh; }      # else ExaBGP never sends ROUTE-REFRESH
 *       api { processes [ peerfwd ]; neighbor-changes; receive { parsed; update; } }
 *   }
 *
 * Connected: lines are forwarded as they come; when peerfwd is slow the queue fills to
 * --buffer bytes and stdin is no longer read, so ExaBGP waits (nothing is lost).
 * Not connected (peerfwd not started yet, or restarting): it reconnects with backoff
 * (100 ms doubling to 5 s) and queues lines up to --buffer bytes; past that, new lines are
 * dropped with a note on stderr. A line cut by a disconnection is sent again whole.
 * peerfwd withdraws everything a connection reported when it closes, so after a
 * reconnection (and after any drop) this program asks ExaBGP to send ROUTE-REFRESH for
 * IPv4 and IPv6 unicast to every established neighbor ("announce route-refresh ..." on
 * stdout): the customer routers resend their routes (RFC 2918). A neighbor without
 * route-refresh support resends only on session reset. ExaBGP's command answers ("done",
 * "error") are not forwarded. Exits 0 when stdin closes (after up to 2 s to deliver what is
 * queued), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE (1u << 20) /* as peerfwd's PF_EXABGP_MAX_LINE */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define EOF_FLUSH_MS 2000

static const char *sock_path;
static size_t buf_max = 16u << 20;
static bool refresh = true;
static bool verbose;

/* queue of whole lines toward peerfwd: q[0..q_len); q[0..q_sent) already written */
static char *q;
static size_t q_len, q_cap, q_sent;
/* partial line from stdin */
static char *in;
static size_t in_len, in_cap;
static bool in_skipping;

static uint64_t dropped_lines, dropped_total;
static bool need_refresh;

static void
usage(FILE *o)
{
	fprintf(o,
		"usage: peerfwd-exabgp --socket PATH [options]\n"
		"Run by ExaBGP as an API process (encoder json): copies its JSON lines from stdin\n"
		"to peerfwd's ExaBGP feed socket (\"feeds\": {\"exabgp\": {\"socket\": PATH}}).\n"
		"  -s, --socket PATH    peerfwd's Unix socket (required)\n"
		"  -b, --buffer BYTES   queue bound (default 16777216): while connected a full\n"
		"                       queue stops reading stdin (ExaBGP waits); while peerfwd\n"
		"                       is unreachable, lines beyond it are dropped (noted on\n"
		"                       stderr) and a route refresh is asked for on reconnection\n"
		"      --no-refresh     do not ask ExaBGP for ROUTE-REFRESH after a reconnection\n"
		"  -v, --verbose        log every (re)connection attempt\n"
		"  -h, --help           this help\n"
		"Exits when stdin closes.\n");
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
grow(char **b, size_t *cap, size_t need)
{
	size_t nc = *cap ? *cap : 65536;
	char *nb;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	nb = realloc(*b, nc);
	if (nb == NULL)
		return -1;
	*b = nb;
	*cap = nc;
	return 0;
}

static int
try_connect(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* one complete line from stdin (without '\n') */
static void
queue_line(const char *l, size_t n, bool connected)
{
	if (n > 0 && l[n - 1] == '\r')
		n--;
	/* ExaBGP's answers to our commands */
	if ((n == 4 && memcmp(l, "done", 4) == 0) || (n == 5 && memcmp(l, "error", 5) == 0) ||
	    (n == 8 && memcmp(l, "shutdown", 8) == 0)) {
		if (n == 5)
			fprintf(stderr, "peerfwd-exabgp: ExaBGP answered 'error' to a route-refresh "
				"request (no established neighbor?)\n");
		return;
	}
	if (n == 0)
		return;
	/* connected, a full queue stops the reading of stdin instead (at most one read and
	 * one line past the bound) */
	if ((!connected && q_len + n + 1 > buf_max) || grow(&q, &q_cap, q_len + n + 1) < 0) {
		if (dropped_lines++ == 0)
			fprintf(stderr, "peerfwd-exabgp: %s and %zu bytes queued: dropping lines "
				"until it is back (a route refresh will be asked for then)\n",
				connected ? "out of memory" : "peerfwd unreachable", q_len);
		dropped_total++;
		need_refresh = true;
		return;
	}
	memcpy(q + q_len, l, n);
	q[q_len + n] = '\n';
	q_len += n + 1;
}

static void
consume_stdin(const char *d, size_t n, bool connected)
{
	while (n > 0) {
		const char *nl = memchr(d, '\n', n);
		size_t seg = nl ? (size_t)(nl - d) : n, adv = seg + (nl ? 1 : 0);

		if (in_skipping) {
			if (nl)
				in_skipping = false;
		} else if (in_len + seg > MAX_LINE) {
			fprintf(stderr, "peerfwd-exabgp: dropping a line longer than %u bytes\n",
				MAX_LINE);
			in_len = 0;
			in_skipping = nl == NULL;
		} else if (nl && in_len == 0) {
			queue_line(d, seg, connected);
		} else if (grow(&in, &in_cap, in_len + seg) < 0) {
			fprintf(stderr, "peerfwd-exabgp: out of memory, dropping a line\n");
			in_len = 0;
			in_skipping = nl == NULL;
		} else {
			memcpy(in + in_len, d, seg);
			in_len += seg;
			if (nl) {
				queue_line(in, in_len, connected);
				in_len = 0;
			}
		}
		d += adv;
		n -= adv;
	}
}

/* Drop the lines written completely; keep a partly written one whole. */
static void
trim_sent(void)
{
	size_t done = 0;

	for (size_t i = q_sent; i > 0; i--)
		if (q[i - 1] == '\n') {
			done = i;
			break;
		}
	if (done == 0)
		return;
	memmove(q, q + done, q_len - done);
	q_len -= done;
	q_sent -= done;
}

/* 0 ok (maybe partly), -1 the connection is gone */
static int
send_some(int fd)
{
	while (q_sent < q_len) {
		ssize_t w = send(fd, q + q_sent, q_len - q_sent, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		q_sent += (size_t)w;
	}
	trim_sent();
	return 0;
}

static void
ask_refresh(void)
{
	static const char cmd[] = "announce route-refresh ipv4 unicast\n"
				  "announce route-refresh ipv6 unicast\n";
	size_t off = 0;

	while (off < sizeof(cmd) - 1) {
		ssize_t w = write(STDOUT_FILENO, cmd + off, sizeof(cmd) - 1 - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "peerfwd-exabgp: cannot write to ExaBGP: %s\n",
				strerror(errno));
			return;
		}
		off += (size_t)w;
	}
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"socket", required_argument, NULL, 's'},
		{"buffer", required_argument, NULL, 'b'},
		{"no-refresh", no_argument, NULL, 'R'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, fd = -1;
	bool stdin_open = true, ever_connected = false, logged_down = false;
	uint64_t next_try = 0, eof_deadline = 0;
	unsigned backoff = BACKOFF_MIN_MS;
	static char rbuf[65536];

	while ((c = getopt_long(argc, argv, "s:b:vh", lo, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			sock_path = optarg;
			break;
		case 'b':
			errno = 0;
			buf_max = strtoull(optarg, &end, 10);
			if (errno || *end || buf_max < 4096) {
				fprintf(stderr, "peerfwd-exabgp: --buffer: a byte count >= 4096\n");
				return 2;
			}
			break;
		case 'R':
			refresh = false;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (sock_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (strlen(sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "peerfwd-exabgp: socket path too long\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	for (;;) {
		struct pollfd pfd[2];
		int n = 0, timeout = 1000, si = -1, fi = -1;
		uint64_t t = now_ms();

		if (fd < 0 && t >= next_try) {
			fd = try_connect();
			if (fd >= 0) {
				fprintf(stderr, "peerfwd-exabgp: connected to %s (%llu line(s) "
					"dropped meanwhile, %llu in all)\n", sock_path,
					(unsigned long long)dropped_lines,
					(unsigned long long)dropped_total);
				if (refresh && (ever_connected || need_refresh))
					ask_refresh();
				ever_connected = true;
				logged_down = false;
				need_refresh = false;
				dropped_lines = 0;
				backoff = BACKOFF_MIN_MS;
			} else {
				if (!logged_down || verbose)
					fprintf(stderr, "peerfwd-exabgp: cannot connect to %s: %s; "
						"retrying\n", sock_path, strerror(errno));
				logged_down = true;
				next_try = t + backoff;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			}
		}
		if (!stdin_open) {
			if (q_len == 0 || fd < 0 || t >= eof_deadline)
				break;
		}
		/* read stdin unless the queue is full (connected: backpressure) */
		if (stdin_open && (fd < 0 || q_len < buf_max)) {
			pfd[n] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
			si = n++;
		}
		if (fd >= 0) {
			pfd[n] = (struct pollfd){.fd = fd, .events = POLLIN};
			if (q_sent < q_len)
				pfd[n].events |= POLLOUT;
			fi = n++;
		} else {
			timeout = (int)(next_try > t ? next_try - t : 0);
		}
		if (!stdin_open && timeout > 100)
			timeout = 100;
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			perror("peerfwd-exabgp: poll");
			return 1;
		}
		if (si >= 0 && (pfd[si].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(STDIN_FILENO, rbuf, sizeof(rbuf));

			if (r > 0) {
				consume_stdin(rbuf, (size_t)r, fd >= 0);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				stdin_open = false;
				eof_deadline = now_ms() + EOF_FLUSH_MS;
			}
		}
		if (fi >= 0) {
			bool gone = false;

			if (pfd[fi].revents & (POLLIN | POLLHUP | POLLERR)) {
				/* peerfwd never writes: readable means closed */
				ssize_t r = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);

				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
					gone = true;
			}
			if (!gone && q_sent < q_len && send_some(fd) < 0)
				gone = true;
			if (gone) {
				fprintf(stderr, "peerfwd-exabgp: peerfwd closed the connection; "
					"reconnecting\n");
				close(fd);
				fd = -1;
				q_sent = 0; /* a partly written line goes again, whole */
				next_try = now_ms() + BACKOFF_MIN_MS;
			}
		}
		if (fd >= 0 && q_sent < q_len && send_some(fd) < 0) {
			close(fd);
			fd = -1;
			q_sent = 0;
			next_try = now_ms() + BACKOFF_MIN_MS;
		}
	}
	if (q_len > 0)
		fprintf(stderr, "peerfwd-exabgp: stdin closed; %zu bytes not delivered\n", q_len);
	if (fd >= 0)
		close(fd);
	free(q);
	free(in);
	return 0;
}

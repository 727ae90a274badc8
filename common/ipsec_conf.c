/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec security associations in the configuration (a customer's "ipsec.sas[]") and in
 * the management command sa-add: one parser for both, and the key files. Key bytes never
 * reach a message: errors name the file, its mode or the kind of problem only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/config.h"

const char *
pf_esp_alg_name(enum pf_esp_alg a)
{
	return a == PF_ESP_AES_GCM_256 ? "aes-gcm-256" : "aes-gcm-128";
}

unsigned
pf_esp_alg_keylen(enum pf_esp_alg a)
{
	return a == PF_ESP_AES_GCM_256 ? 32 + 4 : 16 + 4;
}

void
pf_dirname(const char *path, char *out, size_t len)
{
	const char *sl = strrchr(path, '/');

	if (sl == NULL)
		snprintf(out, len, ".");
	else if (sl == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(sl - path), path);
}

int
pf_sa_key_load(const char *path, struct pf_sa_conf *sa, char *msg, size_t msglen)
{
	unsigned need = pf_esp_alg_keylen(sa->alg), nib = 0, n = 0;
	uint8_t key[PF_SA_KEY_MAX];
	char buf[4096];
	struct stat st;
	bool comment = false, bol = true, toolong = false;
	ssize_t r;
	int fd, hi = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		snprintf(msg, msglen, "cannot open %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(msg, msglen, "%s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		close(fd);
		snprintf(msg, msglen, "%s must not be readable by group or others (mode %04o); "
			 "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		return -EINVAL;
	}
	if (st.st_size > (off_t)sizeof(buf)) {
		close(fd);
		snprintf(msg, msglen, "%s is too large for a key file (%lld bytes)", path,
			 (long long)st.st_size);
		return -EINVAL;
	}
	r = read(fd, buf, sizeof(buf));
	close(fd);
	if (r < 0) {
		snprintf(msg, msglen, "cannot read %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	for (ssize_t i = 0; i < r; i++) {
		int c = (unsigned char)buf[i], v;

		if (c == '\n') {
			comment = false;
			bol = true;
			continue;
		}
		if (comment)
			continue;
		if (bol && c == '#') {
			comment = true;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			continue; /* whitespace; a line starting with blanks then '#' is no comment */
		}
		bol = false;
		v = pf_hex_digit(c);
		if (v < 0) {
			explicit_bzero(key, sizeof(key));
			explicit_bzero(buf, sizeof(buf));
			snprintf(msg, msglen, "%s: not a hex key (a character that is no hex digit, "
				 "at byte %zd)", path, i + 1);
			return -EINVAL;
		}
		if (nib & 1) {
			if (n < sizeof(key))
				key[n] = (uint8_t)(hi << 4 | v);
			else
				toolong = true;
			n++;
		} else {
			hi = v;
		}
		nib++;
	}
	explicit_bzero(buf, sizeof(buf));
	if ((nib & 1) || toolong || n != need) {
		explicit_bzero(key, sizeof(key));
		if (nib & 1)
			snprintf(msg, msglen, "%s: odd number of hex digits", path);
		else
			snprintf(msg, msglen, "%s holds %u bytes of keying material; %s needs %u "
				 "(%u-byte key + 4-byte salt, RFC 4106)", path, n,
				 pf_esp_alg_name(sa->alg), need, need - 4);
		return -EINVAL;
	}
	memcpy(sa->key, key, need);
	sa->key_len = (uint8_t)need;
	explicit_bzero(key, sizeof(key));
	return 0;
}

static const char *const sa_fields[] = {
	"spi", "direction", "algorithm", "key_file", "esn", "replay_window", "lifetime_bytes",
	"lifetime_packets", NULL,
};

#define BAD(f, ...)                                                                        \
	do {                                                                               \
		*field = (f);                                                              \
		snprintf(msg, msglen, __VA_ARGS__);                                        \
		return -EINVAL;                                                            \
	} while (0)

int
pf_sa_parse(const void *obj, const char *basedir, struct pf_sa_conf *sa, const char **field,
	    bool *field_is_key, char *msg, size_t msglen)
{
	const json_t *j = obj, *v;
	const char *key, *s;
	json_t *vv;
	long long x;

	*field_is_key = false;
	memset(sa, 0, sizeof(*sa));
	if (!json_is_object(j))
		BAD("", "expected an object, got %s", pf_json_type_name(j));
	json_object_foreach((json_t *)j, key, vv) {
		bool ok = false;

		for (const char *const *a = sa_fields; *a; a++)
			ok |= strcmp(*a, key) == 0;
		if (!ok) {
			*field_is_key = true;
			*field = key;
			snprintf(msg, msglen, "unknown field '%.60s'", key);
			return -EINVAL;
		}
	}
	/* spi */
	v = json_object_get(j, "spi");
	if (v == NULL)
		BAD("", "missing required field 'spi'");
	if (json_is_integer(v)) {
		x = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;

		s = json_string_value(v);
		if (strncmp(s, "0x", 2) != 0 && strncmp(s, "0X", 2) != 0)
			BAD("spi", "'%.40s' is not an integer nor a \"0x...\" hex string", s);
		errno = 0;
		x = strtoll(s + 2, &end, 16);
		if (s[2] == '\0' || *end != '\0' || errno || strlen(s) > 10 || s[2] == '-' ||
		    s[2] == '+' || s[2] == ' ')
			BAD("spi", "'%.40s' is not an integer nor a \"0x...\" hex string", s);
	} else {
		BAD("spi", "expected an integer or a \"0x...\" string, got %s", pf_json_type_name(v));
	}
	if (x < 256 || x > 4294967295LL)
		BAD("spi", "%lld is out of range 256..4294967295 (0 and 1..255 are reserved, "
		    "RFC 4303 2.1)", x);
	sa->spi = (uint32_t)x;
	/* direction */
	v = json_object_get(j, "direction");
	if (v == NULL)
		BAD("", "missing required field 'direction'");
	if (!json_is_string(v))
		BAD("direction", "expected a string, got %s", pf_json_type_name(v));
	s = json_string_value(v);
	if (strcmp(s, "in") == 0)
		sa->out = false;
	else if (strcmp(s, "out") == 0)
		sa->out = true;
	else
		BAD("direction", "'%.40s' is not \"in\" or \"out\"", s);
	/* algorithm */
	v = json_object_get(j, "algorithm");
	if (v == NULL)
		BAD("", "missing required field 'algorithm'");
	if (!json_is_string(v))
		BAD("algorithm", "expected a string, got %s", pf_json_type_name(v));
	s = json_string_value(v);
	if (strcmp(s, "aes-gcm-128") == 0)
		sa->alg = PF_ESP_AES_GCM_128;
	else if (strcmp(s, "aes-gcm-256") == 0)
		sa->alg = PF_ESP_AES_GCM_256;
	else if (strcmp(s, "aes-cbc-128-hmac-sha256") == 0 ||
		 strcmp(s, "aes-cbc-256-hmac-sha256") == 0)
		BAD("algorithm", "'%s' is not implemented (only AES-GCM, RFC 4106): use "
		    "\"aes-gcm-128\" or \"aes-gcm-256\"", s);
	else
		BAD("algorithm", "'%.40s' is not \"aes-gcm-128\" or \"aes-gcm-256\"", s);
	/* key_file: checked last (its length depends on the algorithm) */
	v = json_object_get(j, "key_file");
	if (v == NULL)
		BAD("", "missing required field 'key_file'");
	if (!json_is_string(v))
		BAD("key_file", "expected a string, got %s", pf_json_type_name(v));
	s = json_string_value(v);
	if (s[0] == '\0')
		BAD("key_file", "must not be empty");
	if (s[0] == '/' || basedir == NULL)
		snprintf(sa->key_file, sizeof(sa->key_file), "%s", s);
	else if ((size_t)snprintf(sa->key_file, sizeof(sa->key_file), "%s/%s", basedir, s) >=
		 sizeof(sa->key_file))
		BAD("key_file", "path too long");
	/* esn */
	v = json_object_get(j, "esn");
	if (v != NULL) {
		if (!json_is_boolean(v))
			BAD("esn", "expected a boolean, got %s", pf_json_type_name(v));
		sa->esn = json_is_true(v);
	}
	/* replay_window */
	v = json_object_get(j, "replay_window");
	sa->replay_window = sa->out ? 0 : PF_SA_WINDOW_DEFAULT;
	if (v != NULL) {
		if (!json_is_integer(v))
			BAD("replay_window", "expected an integer, got %s", pf_json_type_name(v));
		if (sa->out)
			BAD("replay_window", "only valid for an inbound SA (direction \"in\")");
		x = json_integer_value(v);
		if (x == 0)
			BAD("replay_window", "0 (anti-replay off) is not allowed: inbound SAs always "
			    "check replay (RFC 4303 3.4.3); use 32..4096");
		if (x < 32 || x > PF_SA_WINDOW_MAX || x % 32)
			BAD("replay_window", "%lld is not a multiple of 32 in 32..4096", x);
		sa->replay_window = (uint32_t)x;
	}
	v = json_object_get(j, "lifetime_bytes");
	if (v != NULL) {
		if (!json_is_integer(v))
			BAD("lifetime_bytes", "expected an integer, got %s", pf_json_type_name(v));
		if (json_integer_value(v) < 0)
			BAD("lifetime_bytes", "%lld is negative (0 = unlimited)",
			    (long long)json_integer_value(v));
		sa->lifetime_bytes = (uint64_t)json_integer_value(v);
	}
	v = json_object_get(j, "lifetime_packets");
	if (v != NULL) {
		if (!json_is_integer(v))
			BAD("lifetime_packets", "expected an integer, got %s", pf_json_type_name(v));
		if (json_integer_value(v) < 0)
			BAD("lifetime_packets", "%lld is negative (0 = unlimited)",
			    (long long)json_integer_value(v));
		sa->lifetime_packets = (uint64_t)json_integer_value(v);
	}
	if (pf_sa_key_load(sa->key_file, sa, msg, msglen) < 0) {
		*field = "key_file";
		return -EINVAL;
	}
	return 0;
}

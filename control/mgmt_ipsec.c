/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Management commands for IPsec SAs (docs/management.md): sa-list, sa-add, sa-del. They
 * run on the control thread like every management command; the SA work is control/ipsec.c.
 * Replies and errors never contain key material (only the key file's path).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/config.h"
#include "control/ipsec.h"
#include "control/mgmt.h"

static int
customer_of(const struct pf_mgmt_ctx *mc, const json_t *req, bool required, char *err,
	    size_t errlen)
{
	const json_t *v = json_object_get(req, "customer");
	const char *name;

	if (v == NULL) {
		if (required)
			snprintf(err, errlen, "missing \"customer\" (a customer name)");
		return required ? -EINVAL : -ENOENT;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"customer\" must be a string");
		return -EINVAL;
	}
	name = json_string_value(v);
	for (size_t c = 0; c < mc->cfg->n_customers; c++)
		if (strcmp(mc->cfg->customers[c].name, name) == 0)
			return (int)c;
	snprintf(err, errlen, "no customer '%.80s'", name);
	return -EINVAL;
}

json_t *
pf_mgmt_sa_list(struct pf_mgmt_ctx *mc, const json_t *req, char *err, size_t errlen)
{
	int c = customer_of(mc, req, false, err, errlen);

	if (c == -EINVAL)
		return NULL;
	return pf_ipsec_sa_list(mc->ipsec, c < 0 ? -1 : c);
}

json_t *
pf_mgmt_sa_add(struct pf_mgmt_ctx *mc, const json_t *req, char *err, size_t errlen)
{
	int c = customer_of(mc, req, true, err, errlen);
	const json_t *sa = json_object_get(req, "sa");
	struct pf_sa_conf sc;
	const char *field = "";
	bool is_key;
	char dir[4096], msg[600];
	json_t *res;
	int r;

	if (c < 0)
		return NULL;
	if (mc->ipsec == NULL) {
		snprintf(err, errlen, "IPsec is not running (no customer has an \"ipsec\" section)");
		return NULL;
	}
	if (sa == NULL) {
		snprintf(err, errlen, "missing \"sa\": an SA object as in the configuration "
			 "(spi, direction, algorithm, key_file, ...)");
		return NULL;
	}
	/* relative key files: from the configuration file's directory, as in the file */
	pf_dirname(mc->cfg->path, dir, sizeof(dir));
	if (pf_sa_parse(sa, dir, &sc, &field, &is_key, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "sa%s%s: %s", field[0] ? "." : "", field, msg);
		return NULL;
	}
	r = pf_ipsec_sa_add(mc->ipsec, (uint16_t)c, &sc, msg, sizeof(msg));
	explicit_bzero(sc.key, sizeof(sc.key));
	if (r < 0) {
		snprintf(err, errlen, "%s", msg);
		return NULL;
	}
	res = pf_ipsec_sa_list(mc->ipsec, c);
	/* the one just added */
	for (size_t i = 0; i < json_array_size(res); i++) {
		json_t *o = json_array_get(res, i);

		if (json_integer_value(json_object_get(o, "spi")) == sc.spi &&
		    strcmp(json_string_value(json_object_get(o, "direction")),
			   sc.out ? "out" : "in") == 0) {
			json_incref(o);
			json_decref(res);
			return o;
		}
	}
	return res;
}

json_t *
pf_mgmt_sa_del(struct pf_mgmt_ctx *mc, const json_t *req, char *err, size_t errlen)
{
	int c = customer_of(mc, req, true, err, errlen);
	const json_t *v = json_object_get(req, "spi"), *d = json_object_get(req, "direction");
	int dir = -1;
	json_int_t spi;
	char msg[300];

	if (c < 0)
		return NULL;
	if (v == NULL || !json_is_integer(v) || (spi = json_integer_value(v)) < 0 ||
	    spi > 4294967295LL) {
		snprintf(err, errlen, "\"spi\" must be an integer 0..4294967295");
		return NULL;
	}
	if (d != NULL) {
		if (!json_is_string(d) || (strcmp(json_string_value(d), "in") != 0 &&
					   strcmp(json_string_value(d), "out") != 0)) {
			snprintf(err, errlen, "\"direction\" must be \"in\" or \"out\"");
			return NULL;
		}
		dir = strcmp(json_string_value(d), "out") == 0;
	}
	if (pf_ipsec_sa_del(mc->ipsec, (uint16_t)c, (uint32_t)spi, dir, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s", msg);
		return NULL;
	}
	return json_pack("{sssI}", "customer", mc->cfg->customers[c].name, "deleted",
			 (json_int_t)spi);
}

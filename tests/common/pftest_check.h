/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CUnit assertions with a readable message, for the unit tests (tests/unit/); the
 * functions are in pftest_cunit.c.
 *
 *   CHECK(cond, fmt, ...)  passes when cond holds, else fails with the printf message;
 *   CHECK_EQ(a, b)         compares as long long, the message shows both (decimal, hex).
 *
 * Every check is one CUnit assertion, passed or failed. A failure message starts with
 * pft_case (when a test set it: "label: ") and ends with " (called from line N)" when
 * pft_line is not 0, i.e. when a helper's checks failed on behalf of test line N.
 */
#ifndef PF_TESTS_COMMON_PFTEST_CHECK_H
#define PF_TESTS_COMMON_PFTEST_CHECK_H

#include <CUnit/CUnit.h>

extern const char *pft_case; /* "" unless a test labels its current case */
extern int pft_line;         /* the test line a helper was called from, or 0 */

/* A failed assertion at file:line. */
void pft_failf(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (cond) {                                                                \
			CU_PASS(#cond);                                                    \
		} else {                                                                   \
			pft_failf(__FILE__, __LINE__, __VA_ARGS__);                        \
		}                                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                                     \
	do {                                                                               \
		long long _a = (long long)(a), _b = (long long)(b);                        \
		if (_a == _b) {                                                            \
			CU_PASS(#a " == " #b);                                             \
		} else                                                                     \
			pft_failf(__FILE__, __LINE__,                                      \
				  "%s = %lld (0x%llx), expected %s = %lld (0x%llx)", #a, _a, _a, \
				  #b, _b, _b);                                             \
	} while (0)

#endif

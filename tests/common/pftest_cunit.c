/* SPDX-License-Identifier: BSD-3-Clause */
/* The CUnit part of the test helper (see pftest.h). */
#include <stdarg.h>
#include <stdio.h>

#include <CUnit/Basic.h>

#include "tests/common/pftest.h"
#include "tests/common/pftest_check.h"

int
pft_cunit_suite(const char *name, int (*init)(void), int (*clean)(void), void (*setup)(void),
		void (*teardown)(void), const struct CU_TestInfo *tests, size_t n)
{
	CU_pSuite s = CU_add_suite_with_setup_and_teardown(name, init, clean, setup, teardown);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (CU_add_test(s, tests[i].pName, tests[i].pTestFunc) == NULL)
			return -1;
	return 0;
}

int
pft_cunit_run(void)
{
	unsigned fails;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		return pft_cunit_fail();
	fails = CU_get_number_of_failures() + CU_get_number_of_suites_failed() +
		CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}

int
pft_cunit_fail(void)
{
	fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
	CU_cleanup_registry();
	return 1;
}

const char *pft_case = "";
int pft_line;

void
pft_failf(const char *file, int line, const char *fmt, ...)
{
	char buf[768], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (pft_line)
		snprintf(msg, sizeof(msg), "%s%s%s (called from line %d)", pft_case,
			 *pft_case ? ": " : "", buf, pft_line);
	else
		snprintf(msg, sizeof(msg), "%s%s%s", pft_case, *pft_case ? ": " : "", buf);
	CU_assertImplementation(CU_FALSE, line, msg, file, "", CU_FALSE);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The reporting half of libringvm's __op()/op() pairs.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int ringvm_report(int err, const char *what, const char *detail)
{
	if (err >= 0)
		return err;
	if (detail && detail[0])
		fprintf(stderr, "libringvm: %s: %s: %s\n", what,
			strerror(-err), detail);
	else
		fprintf(stderr, "libringvm: %s: %s\n", what, strerror(-err));
	return err;
}

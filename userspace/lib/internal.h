/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libringvm internals shared by its files; not installed.
 */
#ifndef _LIBRINGVM_INTERNAL_H
#define _LIBRINGVM_INTERNAL_H

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Report a failed operation on stderr as "libringvm: WHAT: strerror" (and
 * ": DETAIL" when @detail is a non-empty string), then return @err.  @err
 * is a negative errno; non-negative values pass through silently, so a
 * plain wrapper is one line: return ringvm_report(__op(), "op", NULL);
 */
int ringvm_report(int err, const char *what, const char *detail);

#endif /* _LIBRINGVM_INTERNAL_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest helpers: a strict JSON checker (RFC 8259) and a lookup of a
 * top-level member or array element, enough to test "vmctl info --json"
 * and "vmctl doctor --json" without a JSON library in the initramfs.  Recursive descent over a NUL-terminated
 * string; each parse function advances *p past what it accepted.
 */
#include <errno.h>
#include <string.h>

#include "test_util.h"

#define JSON_MAX_DEPTH	32

static bool json_value(const char **p, int depth);

static void json_ws(const char **p)
{
	*p += strspn(*p, " \t\r\n");
}

static bool json_hex4(const char *s)
{
	return strspn(s, "0123456789abcdefABCDEF") >= 4;
}

static bool json_string(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;

	if (*s++ != '"')
		return false;
	for (; *s != '"'; s++) {
		if (*s < 0x20)		/* also the terminating NUL */
			return false;
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			if (!json_hex4((const char *)s + 1))
				return false;
			s += 4;
		} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
			return false;
		}
	}
	*p = (const char *)s + 1;
	return true;
}

static bool json_digits(const char **p)
{
	size_t n = strspn(*p, "0123456789");

	*p += n;
	return n > 0;
}

static bool json_number(const char **p)
{
	if (**p == '-')
		(*p)++;
	if (**p == '0')
		(*p)++;
	else if (!json_digits(p))
		return false;
	if (**p == '.') {
		(*p)++;
		if (!json_digits(p))
			return false;
	}
	if (**p == 'e' || **p == 'E') {
		(*p)++;
		if (**p == '+' || **p == '-')
			(*p)++;
		if (!json_digits(p))
			return false;
	}
	return true;
}

static bool json_literal(const char **p, const char *word)
{
	size_t len = strlen(word);

	if (strncmp(*p, word, len))
		return false;
	*p += len;
	return true;
}

/* "[ v, v ]" or "{ "k": v, "k": v }", after the opening bracket. */
static bool json_members(const char **p, int depth, bool object)
{
	char close = object ? '}' : ']';

	json_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		json_ws(p);
		if (object) {
			if (!json_string(p))
				return false;
			json_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!json_value(p, depth + 1))
			return false;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

static bool json_value(const char **p, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return false;
	json_ws(p);
	switch (**p) {
	case '{':
	case '[':
		return json_members(p, depth, *(*p)++ == '{');
	case '"':
		return json_string(p);
	case 't':
		return json_literal(p, "true");
	case 'f':
		return json_literal(p, "false");
	case 'n':
		return json_literal(p, "null");
	default:
		return json_number(p);
	}
}

bool json_valid(const char *doc)
{
	const char *p = doc;

	if (!json_value(&p, 0))
		return false;
	json_ws(&p);
	return *p == '\0';
}

/* The value from @v to @end into @buf: 0, or -ENOSPC. */
static int json_copy(const char *v, const char *end, char *buf, size_t len)
{
	if ((size_t)(end - v) >= len)
		return -ENOSPC;
	memcpy(buf, v, end - v);
	buf[end - v] = '\0';
	return 0;
}

int json_get(const char *doc, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = doc, *k, *v;
	size_t seen;

	if (!json_valid(doc))
		return -EINVAL;
	json_ws(&p);
	if (*p++ != '{')
		return -EINVAL;
	for (;;) {
		json_ws(&p);
		if (*p != '"')
			return -ENOENT;		/* '}': no such member */
		k = p + 1;
		json_string(&p);
		seen = p - k - 1;		/* the key without its quotes */
		json_ws(&p);
		p++;				/* ':' */
		json_ws(&p);
		v = p;
		json_value(&p, 1);
		if (seen == klen && !strncmp(k, key, klen))
			return json_copy(v, p, buf, len);
		json_ws(&p);
		if (*p++ != ',')
			return -ENOENT;
	}
}

int json_index(const char *doc, unsigned int index, char *buf, size_t len)
{
	const char *p = doc, *v;
	unsigned int i;

	if (!json_valid(doc))
		return -EINVAL;
	json_ws(&p);
	if (*p++ != '[')
		return -EINVAL;
	for (i = 0; ; i++) {
		json_ws(&p);
		if (*p == ']')
			return -ENOENT;
		v = p;
		json_value(&p, 1);
		if (i == index)
			return json_copy(v, p, buf, len);
		json_ws(&p);
		if (*p++ != ',')
			return -ENOENT;
	}
}

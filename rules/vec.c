/*
 * Growable arrays with a hard maximum (vec.h). Capacity doubles, starting
 * from a few elements; every size product is checked before it is used.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

/* Fault injection for tests: fail the Nth growth from now (0: never). */
static __thread unsigned long fail_countdown;

void lg_vec_fail_after(unsigned long n);
void lg_vec_fail_after(unsigned long n)
{
	fail_countdown = n;
}

void lg_vec_init(struct lg_vec *v, size_t size, size_t max)
{
	v->v = NULL;
	v->n = v->cap = 0;
	v->size = size ? size : 1;
	v->max = max;
}

void lg_vec_release(struct lg_vec *v)
{
	if (!v)
		return;
	free(v->v);
	v->v = NULL;
	v->n = v->cap = 0;
}

int lg_array_reserve(void **arr, size_t *cap, size_t need, size_t size, size_t max)
{
	size_t ncap;
	void *nv;

	if (need > max)
		return LG_ETOOLARGE;
	if (need <= *cap)
		return LG_OK;
	ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > max)
		ncap = max;
	if (!size || ncap > SIZE_MAX / size)
		return LG_ETOOLARGE;
	if (fail_countdown && --fail_countdown == 0)
		return LG_ENOMEM;
	nv = realloc(*arr, ncap * size);
	if (!nv)
		return LG_ENOMEM;
	*arr = nv;
	*cap = ncap;
	return LG_OK;
}

int lg_vec_reserve(struct lg_vec *v, size_t more)
{
	if (more > SIZE_MAX - v->n)
		return LG_ETOOLARGE;
	return lg_array_reserve(&v->v, &v->cap, v->n + more, v->size, v->max);
}

int lg_vec_grow(struct lg_vec *v, size_t count, void **out)
{
	int err = lg_vec_reserve(v, count);
	char *p;

	if (err)
		return err;
	p = (char *)v->v + v->n * v->size;
	memset(p, 0, count * v->size);
	v->n += count;
	if (out)
		*out = p;
	return LG_OK;
}

int lg_vec_append(struct lg_vec *v, const void *elems, size_t count)
{
	int err;

	if (count == 0)
		return LG_OK;
	if ((err = lg_vec_reserve(v, count)))
		return err;
	memcpy((char *)v->v + v->n * v->size, elems, count * v->size);
	v->n += count;
	return LG_OK;
}

int lg_vec_push(struct lg_vec *v, const void *elem)
{
	return lg_vec_append(v, elem, 1);
}

int lg_vec_putn(struct lg_vec *v, const char *s, size_t len)
{
	int err;

	if (len == SIZE_MAX)
		return LG_ETOOLARGE;
	if ((err = lg_vec_reserve(v, len + 1)))
		return err;
	memcpy((char *)v->v + v->n, s, len);
	v->n += len;
	((char *)v->v)[v->n] = '\0';
	return LG_OK;
}

int lg_vec_puts(struct lg_vec *v, const char *s)
{
	return lg_vec_putn(v, s, strlen(s));
}

int lg_vec_vprintf(struct lg_vec *v, const char *fmt, va_list ap)
{
	va_list ap2;
	int len, err;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		return LG_EINVALID;
	if ((err = lg_vec_reserve(v, (size_t)len + 1)))
		return err;
	vsnprintf((char *)v->v + v->n, (size_t)len + 1, fmt, ap);
	v->n += (size_t)len;
	return LG_OK;
}

int lg_vec_printf(struct lg_vec *v, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = lg_vec_vprintf(v, fmt, ap);
	va_end(ap);
	return err;
}

const char *lg_vec_str(const struct lg_vec *v)
{
	return v->n ? (const char *)v->v : "";
}

void *lg_vec_steal(struct lg_vec *v)
{
	void *p = v->v;

	v->v = NULL;
	v->n = v->cap = 0;
	return p;
}

/*
 * The one growable buffer of leakgate: an array of fixed-size elements
 * (bytes, for text) with a hard maximum. Growth is overflow-checked and
 * either succeeds or leaves the vector exactly as it was, so a caller
 * never loses what it already holds: it gets LG_ENOMEM (the allocator
 * said no) or LG_ETOOLARGE (the maximum, a bound chosen for a reason,
 * would be passed) and decides what that means. Nothing is ever dropped
 * quietly.
 */
#ifndef LG_VEC_H
#define LG_VEC_H

#include <stdarg.h>
#include <stddef.h>

#include "lg.h"

struct lg_vec {
	void *v;     /* the elements; NULL until the first growth */
	size_t n;    /* elements in use */
	size_t cap;  /* elements allocated */
	size_t size; /* bytes per element */
	size_t max;  /* at most this many elements, ever */
};

/* An empty vector of elements of size bytes, holding at most max of them. */
#define LG_VEC_INIT(size, max) {NULL, 0, 0, (size), (max)}
void lg_vec_init(struct lg_vec *v, size_t size, size_t max);
/* Free the elements; the vector is empty again (same size and max). */
void lg_vec_release(struct lg_vec *v);

/*
 * The growth itself, for arrays kept in a struct of their own: room for
 * need elements of size bytes in *arr (capacity *cap), never more than
 * max. LG_OK, LG_ENOMEM or LG_ETOOLARGE; *arr and *cap are unchanged on
 * failure.
 */
int lg_array_reserve(void **arr, size_t *cap, size_t need, size_t size, size_t max);

/* Room for more elements beyond n: LG_OK, LG_ENOMEM or LG_ETOOLARGE. */
int lg_vec_reserve(struct lg_vec *v, size_t more);
/* Append count elements (copied), or one; results as lg_vec_reserve. */
int lg_vec_append(struct lg_vec *v, const void *elems, size_t count);
int lg_vec_push(struct lg_vec *v, const void *elem);
/*
 * Append count zeroed elements and return the first of them in *out, for
 * callers that fill them in place.
 */
int lg_vec_grow(struct lg_vec *v, size_t count, void **out);

/* Element i (i < n); typed: LG_VEC_AT(v, struct x, i). */
#define LG_VEC_AT(vec, type, i) (((type *)(vec)->v)[i])

/*
 * Text: a vector of bytes (size 1) kept NUL-terminated after every
 * successful append (the terminator is not counted in n, but it counts
 * against max).
 */
int lg_vec_puts(struct lg_vec *v, const char *s);
int lg_vec_putn(struct lg_vec *v, const char *s, size_t len);
int lg_vec_printf(struct lg_vec *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lg_vec_vprintf(struct lg_vec *v, const char *fmt, va_list ap);
/* The text so far ("" when empty); it belongs to the vector. */
const char *lg_vec_str(const struct lg_vec *v);
/* Hand the elements over: the caller frees the result; the vector is empty. */
void *lg_vec_steal(struct lg_vec *v);

#endif

/*
 * Shared vocabulary of the leakgate internal library: result codes and the
 * caller-supplied diagnostics list that carries error detail (file, rule id,
 * field, message) up to whoever talks to a person.
 */
#ifndef LG_H
#define LG_H

#include <stddef.h>

/* Every function that can fail returns one of these; 0 is success. */
enum {
	LG_OK = 0,
	LG_ERROR = -1,     /* failure described in the lg_diag given */
	LG_ENOMEM = -2,    /* out of memory */
	LG_EINVALID = -3,  /* malformed input */
	LG_ENOTFOUND = -4, /* no such file, rule or object */
	LG_ETOOLARGE = -5, /* input over a hard limit */
	LG_EIO = -6,       /* a read or write failed */
	LG_EEXISTS = -7,   /* something that must be unique already exists */
	LG_EBUSY = -8,     /* the database stayed locked */
	LG_ELIMIT = -9,    /* a match, depth or time limit was reached: the result is incomplete */
	LG_ECANCELED = -10, /* stopped from outside (a time budget) before it was done */
	LG_ETIMEDOUT = -11, /* a deadline passed while waiting */
};

/* A static string for a result code. */
const char *lg_strerror(int code);

struct lg_diag_entry {
	char *file;    /* pack file or source; may be NULL */
	char *rule_id; /* may be NULL */
	char *field;   /* JSON field; may be NULL */
	char *message;
};

/*
 * An append-only list of problems. A function that fails adds at least one
 * entry when it is given a list; it never prints.
 */
struct lg_diag {
	struct lg_diag_entry *v;
	size_t n, cap;
	size_t dropped; /* entries not kept because of LG_DIAG_MAX */
};

/* A broken pack can hold thousands of errors; keep the first ones. */
#define LG_DIAG_MAX 1000

void lg_diag_init(struct lg_diag *d);
void lg_diag_release(struct lg_diag *d);
/* d may be NULL (the detail is then lost). */
void lg_diag_add(struct lg_diag *d, const char *file, const char *rule_id,
		 const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* One entry as a single line "file: rule 'id', field 'f': message" into buf. */
void lg_diag_format(const struct lg_diag_entry *e, char *buf, size_t len);

#endif

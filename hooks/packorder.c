/*
 * Pack order (packorder.h): each .idx is mapped and searched directly
 * (fan-out table, sorted names, 32-bit offsets with a 64-bit table), which
 * costs a binary search per object and no libgit2 pack state.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg.h"
#include "packorder.h"
#include "vec.h"

struct pack_idx {
	const unsigned char *map;
	size_t len;
	uint32_t n;
	const unsigned char *names, *offs, *offs64;
};

struct lg_packorder {
	struct pack_idx *idx;
	size_t n, cap;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Map a version 2 pack index; 0 on success. Anything unexpected: not used. */
static int idx_open(struct pack_idx *x, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *m;

	memset(x, 0, sizeof(*x));
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < 8 + 1024 || (uint64_t)st.st_size > (1ull << 40)) {
		close(fd);
		return -1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	x->map = m;
	x->len = (size_t)st.st_size;
	if (memcmp(x->map, "\377tOc", 4) || be32(x->map + 4) != 2)
		goto bad;
	x->n = be32(x->map + 8 + 255 * 4);
	if ((uint64_t)8 + 1024 + (uint64_t)x->n * 28 > x->len)
		goto bad;
	x->names = x->map + 8 + 1024;
	x->offs = x->names + (size_t)x->n * 24; /* names, then CRCs */
	x->offs64 = x->offs + (size_t)x->n * 4;
	return 0;
bad:
	munmap((void *)x->map, x->len);
	memset(x, 0, sizeof(*x));
	return -1;
}

static uint64_t idx_find(const struct pack_idx *x, const git_oid *id)
{
	uint32_t lo = 0, hi = x->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(x->names + (size_t)mid * 20, id->id, 20);
		if (c == 0) {
			uint32_t o = be32(x->offs + (size_t)mid * 4);
			if (o & 0x80000000u) {
				size_t k = o & 0x7fffffffu;
				const unsigned char *p = x->offs64 + k * 8;
				if (p + 8 > x->map + x->len)
					return UINT64_MAX;
				return (uint64_t)be32(p) << 32 | be32(p + 4);
			}
			return o;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return UINT64_MAX;
}

int lg_packorder_open(struct lg_packorder **out, const char *objects_dir, size_t max_packs)
{
	struct lg_packorder *po = calloc(1, sizeof(*po));
	char *dir = NULL;
	DIR *d = NULL;
	struct dirent *de;
	int err = LG_ENOMEM;

	*out = NULL;
	if (!po || asprintf(&dir, "%s/pack", objects_dir) < 0) {
		dir = NULL;
		goto out;
	}
	d = opendir(dir);
	while (d && (de = readdir(d)) && po->n < max_packs) {
		size_t l = strlen(de->d_name);
		char *path = NULL;
		if (l < 5 || strcmp(de->d_name + l - 4, ".idx"))
			continue;
		if (lg_array_reserve((void **)&po->idx, &po->cap, po->n + 1, sizeof(*po->idx), max_packs))
			goto out;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			goto out;
		if (idx_open(&po->idx[po->n], path) == 0)
			po->n++;
		free(path);
	}
	*out = po;
	po = NULL;
	err = LG_OK;
out:
	if (d)
		closedir(d);
	free(dir);
	lg_packorder_free(po);
	return err;
}

void lg_packorder_free(struct lg_packorder *po)
{
	if (!po)
		return;
	for (size_t k = 0; k < po->n; k++)
		munmap((void *)po->idx[k].map, po->idx[k].len);
	free(po->idx);
	free(po);
}

uint64_t lg_packorder_key(const struct lg_packorder *po, const git_oid *id)
{
	for (size_t k = 0; po && k < po->n && k < (1u << 23); k++) {
		uint64_t off = idx_find(&po->idx[k], id);
		if (off != UINT64_MAX && off < (1ull << 40))
			return (uint64_t)k << 40 | off;
	}
	return UINT64_MAX;
}

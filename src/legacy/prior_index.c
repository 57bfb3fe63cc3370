/* prior_index.c - reading chromadb 0.3.x's per-collection hnswlib index
 * (prior_index.h) for index/hnsw_reuse.c: the files are read whole, the
 * graph parsed by index/hnsw_files.c, the pickles by format/pickle.c.
 *
 * What is checked here is what only the legacy files can say (the steps of
 * hnsw_reuse.c's comment that belong to the store):
 *  - the graph step: index_<uuid>.bin can be read and parses;
 *  - the labels step: the three pickles load as dicts, index_metadata agrees
 *    with the file on the dimension and on the elements ever added (its
 *    curr_elements is not a live count: see check_metadata), and the id maps
 *    become label <-> uuid pairs (entries that are neither are counted as
 *    bad, for hnsw_reuse.c to refuse in its turn). */
#include "prior_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../format/pickle.h"
#include "../util/fsutil.h"
#include "../util/mem.h"

#define MAX_PICKLE_BYTES ((size_t)1 << 30)

typedef struct legacy_prior {
    cm_prior_index base;
    char *dir, *uuid;
    /* loaded */
    unsigned char *file;
    size_t file_len;
    int parsed;
    hnswlib_file x;
    cm_prior_pair *fwd, *rev;
    size_t nfwd, nrev, bad;
} legacy_prior;

/* A collection uuid goes into file names: hex digits and hyphens only. */
static int safe_uuid(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-'))
            return 0;
        if (n > 64)
            return 0;
    }
    return 1;
}

static char *index_path(const char *dir, const char *prefix, const char *uuid, const char *ext)
{
    size_t n = strlen(prefix) + strlen(uuid) + strlen(ext) + 1;
    char *name = xmalloc(n);
    snprintf(name, n, "%s%s%s", prefix, uuid, ext);
    char *p = fs_join(dir, name);
    free(name);
    return p;
}

/* Reads a whole regular file of at most max bytes. */
static int read_whole(const char *path, size_t max, unsigned char **out, size_t *len, cm_err *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cm_err_set(err, "%s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return cm_err_set(err, "%s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cm_err_set(err, "not a regular file");
    }
    if ((uint64_t)st.st_size > (uint64_t)max) {
        close(fd);
        return cm_err_set(err, "%llu bytes is too large", (unsigned long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = xmalloc(n ? n : 1);
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got > (1u << 24) ? (1u << 24) : n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            free(buf);
            close(fd);
            return cm_err_set(err, "%s", r < 0 ? strerror(e) : "the file shrank while being read");
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = n;
    return 0;
}

static int load_graph(cm_prior_index *base, const hnswlib_file **g, char *why, size_t why_cap)
{
    legacy_prior *p = (legacy_prior *)base;
    if (!p->parsed) {
        char *path = index_path(p->dir, "index_", p->uuid, ".bin");
        cm_err e = {0};
        int ok = read_whole(path, SIZE_MAX / 4, &p->file, &p->file_len, &e) == 0;
        if (!ok) {
            cm_reason(why, why_cap, "cannot read %s: %s", path, e.msg);
            free(path);
            return 0;
        }
        free(path);
        if (hnswlib_file_parse(&p->x, p->file, p->file_len, &e) < 0)
            return cm_reason(why, why_cap, "index file damaged: %s", e.msg);
        p->parsed = 1;
    }
    *g = &p->x;
    return 1;
}

/* Loads one pickle; 0 with the reason in why when it cannot be used. */
static int load_pickle(const legacy_prior *p, const char *prefix, pk_value **out, char *why, size_t why_cap)
{
    char *path = index_path(p->dir, prefix, p->uuid, ".pkl");
    unsigned char *buf = NULL;
    size_t len = 0;
    cm_err e = {0};
    int ok = read_whole(path, MAX_PICKLE_BYTES, &buf, &len, &e) == 0;
    if (!ok) { /* the whole path: "Permission denied" must say where */
        cm_reason(why, why_cap, "cannot read %s: %s", path, e.msg);
        free(path);
        return 0;
    }
    free(path);
    *out = pk_load(buf, len, &e);
    free(buf);
    if (!*out)
        return cm_reason(why, why_cap, "%s%s.pkl: %s", prefix, p->uuid, e.msg);
    if ((*out)->type != PK_DICT)
        return cm_reason(why, why_cap, "%s%s.pkl is a %s, not a dict", prefix, p->uuid, pk_type_name((*out)->type));
    return 1;
}

static int meta_int(const pk_value *meta, const char *key, int64_t *v)
{
    const pk_value *p = pk_dict_get(meta, key);
    return p && pk_get_int64(p, v);
}

/* index_metadata agrees with the file on the dimension and on the
 * number of elements ever added: 0.3.15-0.3.22 'elements', 0.3.26+
 * 'total_elements_added' (labels handed out = hnswlib's cur_element_count;
 * only add() changes it).
 * 'curr_elements' is not consulted: chromadb 0.3.29's Hnswlib._load(
 * curr_elements) overwrites it on every load with the collection's row count
 * its caller passes in (already holding the batch being added, and duplicate
 * rows), and add() then counts that batch again, so real stores with a
 * matching index show it above the live count. Which elements are live is
 * read from the file's deleted flags and the id maps. */
static int check_metadata(const legacy_prior *p, const pk_value *meta, char *why, size_t why_cap)
{
    int64_t dim, total;
    if (!meta_int(meta, "dimensionality", &dim))
        return cm_reason(why, why_cap, "index metadata has no dimensionality");
    if ((uint64_t)dim != p->x.dim)
        return cm_reason(why, why_cap, "index metadata says dimension %lld, the index file %zu", (long long)dim, p->x.dim);
    if (!meta_int(meta, "total_elements_added", &total) && !meta_int(meta, "elements", &total))
        return cm_reason(why, why_cap, "index metadata has no element count (total_elements_added or elements)");
    if ((uint64_t)total != p->x.hd.count)
        return cm_reason(why, why_cap, "index metadata counts %lld elements added, the index file holds %llu",
                   (long long)total, (unsigned long long)p->x.hd.count);
    return 1;
}

/* A uuid value of an id map: a uuid.UUID object, or a uuid string. */
static int value_uuid(const pk_value *v, cm_uuid *out)
{
    if (v && (v->type == PK_STR))
        return cm_uuid_parse(v->u.str.s, v->u.str.len, out);
    char hex[33];
    if (pk_uuid_hex(v, hex, NULL) < 0)
        return -1;
    return cm_uuid_parse(hex, 32, out);
}

/* One id map as pairs. label_first: id_to_uuid (label -> uuid); else
 * uuid_to_id. Entries that are not label <-> uuid are counted in p->bad. */
static cm_prior_pair *map_pairs(legacy_prior *p, const pk_value *map, int label_first, size_t *n)
{
    cm_prior_pair *out = xmalloc((map->u.dict.n ? map->u.dict.n : 1) * sizeof *out);
    *n = 0;
    for (size_t k = 0; k < map->u.dict.n; k++) {
        const pk_value *lv = label_first ? map->u.dict.pairs[k].key : map->u.dict.pairs[k].value;
        const pk_value *uv = label_first ? map->u.dict.pairs[k].value : map->u.dict.pairs[k].key;
        int64_t label;
        cm_prior_pair *e = &out[*n];
        if (!pk_get_int64(lv, &label) || label < 0 || value_uuid(uv, &e->key) < 0) {
            p->bad++;
            continue;
        }
        e->label = (uint64_t)label;
        (*n)++;
    }
    return out;
}

static int load_labels(cm_prior_index *base, cm_prior_labels *out, char *why, size_t why_cap)
{
    legacy_prior *p = (legacy_prior *)base;
    pk_value *meta = NULL, *i2u = NULL, *u2i = NULL;
    int ok = load_pickle(p, "index_metadata_", &meta, why, why_cap) &&
             load_pickle(p, "id_to_uuid_", &i2u, why, why_cap) && load_pickle(p, "uuid_to_id_", &u2i, why, why_cap) &&
             check_metadata(p, meta, why, why_cap);
    if (ok && !p->fwd) {
        p->bad = 0;
        p->fwd = map_pairs(p, i2u, 1, &p->nfwd);
        p->rev = map_pairs(p, u2i, 0, &p->nrev);
    }
    pk_free(meta);
    pk_free(i2u);
    pk_free(u2i);
    if (!ok)
        return 0;
    out->fwd = p->fwd;
    out->nfwd = p->nfwd;
    out->rev = p->rev;
    out->nrev = p->nrev;
    out->bad = p->bad;
    return 1;
}

static void release(cm_prior_index *base)
{
    legacy_prior *p = (legacy_prior *)base;
    if (p->parsed)
        hnswlib_file_free(&p->x);
    p->parsed = 0;
    free(p->file);
    free(p->fwd);
    free(p->rev);
    p->file = NULL;
    p->fwd = p->rev = NULL;
}

static const cm_prior_index_ops legacy_prior_ops = {.graph = load_graph, .labels = load_labels, .release = release};

cm_prior_index *legacy_prior_index_open(const char *index_dir, const char *collection_uuid)
{
    if (!index_dir || !safe_uuid(collection_uuid))
        return NULL;
    char *path = index_path(index_dir, "index_", collection_uuid, ".bin");
    struct stat st;
    int ok = stat(path, &st) == 0 ? S_ISREG(st.st_mode) : errno == EACCES;
    free(path);
    if (!ok)
        return NULL;
    legacy_prior *p = xcalloc(1, sizeof *p);
    p->base.ops = &legacy_prior_ops;
    p->dir = xstrdup(index_dir);
    p->uuid = xstrdup(collection_uuid);
    return &p->base;
}

void legacy_prior_index_free(cm_prior_index *base)
{
    if (!base)
        return;
    legacy_prior *p = (legacy_prior *)base;
    release(base);
    free(p->dir);
    free(p->uuid);
    free(p);
}

/*
 * Small Arrow builders for the test plugins in C (tests/cplugins). Every
 * array, schema and stream they make is counted in au_live, and the count
 * drops when the host releases it: a test reads idp_test_live() to see that
 * everything was released exactly once.
 */
#ifndef AU_ARROW_UTIL_H
#define AU_ARROW_UTIL_H

#include "iterabledata_plugin.h"

static int64_t au_live = 0;
static int64_t au_double_release = 0;

typedef struct {
  const void *buffers[3];
  void *owned[3];
} AuPrivate;

static void au_release_array(struct ArrowArray *a) {
  AuPrivate *p = (AuPrivate *)a->private_data;
  int64_t i;
  if (a->release == NULL) {
    au_double_release++;
    return;
  }
  for (i = 0; i < a->n_children; i++) {
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
    free(a->children[i]);
  }
  free(a->children);
  if (p) {
    for (i = 0; i < 3; i++) free(p->owned[i]);
    free(p);
  }
  a->release = NULL;
  au_live--;
}

/* An array of `length` rows with room for `n_buffers` buffers (owned). */
static void au_array(struct ArrowArray *a, int64_t length, int64_t n_buffers, int64_t n_children) {
  AuPrivate *p = (AuPrivate *)calloc(1, sizeof *p);
  memset(a, 0, sizeof *a);
  a->length = length;
  a->n_buffers = n_buffers;
  a->buffers = p->buffers;
  a->n_children = n_children;
  a->children = n_children ? (struct ArrowArray **)calloc((size_t)n_children, sizeof(void *)) : NULL;
  a->private_data = p;
  a->release = au_release_array;
  au_live++;
}

static void au_own(struct ArrowArray *a, int i, void *buf) {
  AuPrivate *p = (AuPrivate *)a->private_data;
  p->owned[i] = buf;
  p->buffers[i] = buf;
}

/* A UTF-8 column; NULL entries are nulls. */
static struct ArrowArray *au_utf8(const char *const *vals, int64_t n) {
  struct ArrowArray *a = (struct ArrowArray *)malloc(sizeof *a);
  int32_t *off = (int32_t *)malloc((size_t)(n + 1) * sizeof(int32_t));
  uint8_t *valid = (uint8_t *)calloc((size_t)(n + 8) / 8, 1);
  size_t total = 0;
  char *data;
  int64_t i, nulls = 0;
  for (i = 0; i < n; i++) total += vals[i] ? strlen(vals[i]) : 0;
  data = (char *)malloc(total + 1);
  off[0] = 0;
  for (i = 0; i < n; i++) {
    size_t l = vals[i] ? strlen(vals[i]) : 0;
    if (vals[i]) {
      valid[i / 8] |= (uint8_t)(1u << (i % 8));
      memcpy(data + off[i], vals[i], l);
    } else {
      nulls++;
    }
    off[i + 1] = off[i] + (int32_t)l;
  }
  au_array(a, n, 3, 0);
  a->null_count = nulls;
  au_own(a, 0, valid);
  au_own(a, 1, off);
  au_own(a, 2, data);
  return a;
}

static struct ArrowArray *au_int64(const int64_t *vals, int64_t n) {
  struct ArrowArray *a = (struct ArrowArray *)malloc(sizeof *a);
  int64_t *v = (int64_t *)malloc((size_t)(n ? n : 1) * sizeof(int64_t));
  memcpy(v, vals, (size_t)n * sizeof(int64_t));
  au_array(a, n, 2, 0);
  au_own(a, 1, v);
  return a;
}

/* A struct batch of `n` rows over `k` children (taken). */
static void au_struct(struct ArrowArray *out, int64_t n, struct ArrowArray **children, int64_t k) {
  int64_t i;
  au_array(out, n, 1, k);
  for (i = 0; i < k; i++) out->children[i] = children[i];
}

static void au_release_schema(struct ArrowSchema *s) {
  int64_t i;
  if (s->release == NULL) {
    au_double_release++;
    return;
  }
  for (i = 0; i < s->n_children; i++) {
    if (s->children[i]->release) s->children[i]->release(s->children[i]);
    free(s->children[i]);
  }
  free(s->children);
  s->release = NULL;
  au_live--;
}

/* A struct schema of `k` nullable fields; names and formats are static. */
static void au_schema(struct ArrowSchema *out, const char *const *names, const char *const *formats,
                      int64_t k) {
  int64_t i;
  memset(out, 0, sizeof *out);
  out->format = "+s";
  out->name = "";
  out->n_children = k;
  out->children = (struct ArrowSchema **)calloc((size_t)(k ? k : 1), sizeof(void *));
  out->release = au_release_schema;
  au_live++;
  for (i = 0; i < k; i++) {
    struct ArrowSchema *c = (struct ArrowSchema *)calloc(1, sizeof *c);
    c->format = formats[i];
    c->name = names[i];
    c->flags = ARROW_FLAG_NULLABLE;
    c->release = au_release_schema;
    au_live++;
    out->children[i] = c;
  }
}

#if defined(_WIN32)
#define AU_EXPORT __declspec(dllexport)
#else
#define AU_EXPORT __attribute__((visibility("default")))
#endif

/* How many arrays, schemas and streams of this plugin are not released. */
AU_EXPORT int64_t idp_test_live(void) { return au_live; }
/* How many times a release callback was called on a released struct. */
AU_EXPORT int64_t idp_test_double_release(void) { return au_double_release; }

#endif

/*
 * ccsv: a CSV reader in C that hands over its rows as Arrow (every field a
 * UTF-8 string, like the built-in reader), for the C ABI benchmark
 * (scripts/bench.sh, "count rows.ccsv"). RFC 4180: quoted fields, doubled
 * quotes, line breaks inside quotes, CRLF. The first record is the header.
 */
#include "iterabledata_plugin.h"

#include <errno.h>

#define BATCH_ROWS 8192
#define CHUNK (1 << 20)

typedef struct {
  int32_t *offsets;
  char *data;
  size_t len, cap;
} Col;

typedef struct {
  IdpByteSource *input;
  char *buf;
  size_t pos, len, cap;
  int eof;
  char **names;
  size_t ncols;
  int64_t line;
  char error[256];
} Reader;

typedef struct {
  const void *buffers[3];
} Priv;

static void release_array(struct ArrowArray *a) {
  int64_t i;
  for (i = 0; i < a->n_children; i++) {
    a->children[i]->release(a->children[i]);
    free(a->children[i]);
  }
  free(a->children);
  if (a->n_buffers == 3) {
    Priv *p = (Priv *)a->private_data;
    free((void *)p->buffers[1]);
    free((void *)p->buffers[2]);
  }
  free(a->private_data);
  a->release = NULL;
}

static void release_schema(struct ArrowSchema *s) {
  int64_t i;
  for (i = 0; i < s->n_children; i++) {
    s->children[i]->release(s->children[i]);
    free(s->children[i]);
  }
  free(s->children);
  s->release = NULL;
}

/* Reads more input after buf[pos..len); 0 at the end, -1 on error. */
static int refill(Reader *r) {
  IdpError e;
  int64_t n;
  if (r->eof) return 0;
  if (r->pos > 0) {
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
  }
  if (r->cap - r->len < CHUNK / 2) {
    char *b = (char *)realloc(r->buf, r->cap * 2);
    if (b == NULL) return -1;
    r->buf = b;
    r->cap *= 2;
  }
  memset(&e, 0, sizeof e);
  n = r->input->read(r->input, (uint8_t *)r->buf + r->len, r->cap - r->len, &e);
  if (n < 0) {
    snprintf(r->error, sizeof r->error, "%s", e.message ? e.message : "read failed");
    if (e.release) e.release(&e);
    return -1;
  }
  if (n == 0) r->eof = 1;
  r->len += (size_t)n;
  return n > 0 ? 1 : 0;
}

static int col_push(Col *c, const char *s, size_t n) {
  if (c->len + n > c->cap) {
    size_t cap = c->cap * 2;
    char *d;
    while (cap < c->len + n) cap *= 2;
    d = (char *)realloc(c->data, cap);
    if (d == NULL) return 0;
    c->data = d;
    c->cap = cap;
  }
  memcpy(c->data + c->len, s, n);
  c->len += n;
  return 1;
}

/* Parses one record at buf[pos..len) into `cols` (or, with cols NULL, the
 * header into r->names). Returns 1 for a record, 0 when the buffer ends
 * first (nothing consumed), -1 at the end of the input, -2 on error. */
static int parse_record(Reader *r, Col *cols, int64_t row) {
  size_t p = r->pos, field = 0;
  const char *b = r->buf;
  if (p >= r->len) return r->eof ? -1 : 0;
  for (;;) {
    /* One field. */
    size_t start, end;
    int quoted = 0, has_escape = 0;
    if (p < r->len && b[p] == '"') {
      quoted = 1;
      p++;
      start = p;
      for (;;) {
        if (p >= r->len) return r->eof ? (snprintf(r->error, sizeof r->error,
                                                   "line %lld: an unterminated quote",
                                                   (long long)r->line + 1), -2)
                                       : 0;
        if (b[p] == '"') {
          if (p + 1 >= r->len && !r->eof) return 0;
          if (p + 1 < r->len && b[p + 1] == '"') {
            has_escape = 1;
            p += 2;
            continue;
          }
          break;
        }
        p++;
      }
      end = p;
      p++; /* the closing quote */
    } else {
      start = p;
      while (p < r->len && b[p] != ',' && b[p] != '\n' && b[p] != '\r') p++;
      if (p >= r->len && !r->eof) return 0;
      end = p;
    }
    /* Store it. */
    if (cols == NULL) {
      char *name = (char *)malloc(end - start + 1), **names;
      memcpy(name, b + start, end - start);
      name[end - start] = 0;
      names = (char **)realloc(r->names, (field + 1) * sizeof(char *));
      names[field] = name;
      r->names = names;
      r->ncols = field + 1;
    } else if (field < r->ncols) {
      Col *c = &cols[field];
      if (has_escape) {
        size_t i;
        for (i = start; i < end; i++) {
          if (!col_push(c, b + i, 1)) return -2;
          if (b[i] == '"') i++;
        }
      } else if (!col_push(c, b + start, end - start)) {
        return -2;
      }
    } else {
      snprintf(r->error, sizeof r->error, "line %lld: more fields than the header's %zu",
               (long long)r->line + 1, r->ncols);
      return -2;
    }
    (void)quoted;
    field++;
    if (p >= r->len) break; /* end of input */
    if (b[p] == ',') {
      p++;
      continue;
    }
    if (b[p] == '\r') {
      if (p + 1 >= r->len && !r->eof) return 0;
      p++;
    }
    if (p < r->len && b[p] == '\n') p++;
    break;
  }
  if (cols != NULL) {
    size_t i;
    for (i = field; i < r->ncols; i++) (void)0; /* missing fields are empty */
    for (i = 0; i < r->ncols; i++) cols[i].offsets[row + 1] = (int32_t)cols[i].len;
  }
  r->pos = p;
  r->line++;
  return 1;
}

static int read_header(Reader *r) {
  for (;;) {
    int rc = parse_record(r, NULL, 0);
    if (rc == 1 || rc == -1) return 0;
    if (rc == -2) return EINVAL;
    if (refill(r) < 0) return EIO;
  }
}

static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  Reader *r = (Reader *)s->private_data;
  size_t i;
  memset(out, 0, sizeof *out);
  out->format = "+s";
  out->n_children = (int64_t)r->ncols;
  out->children = (struct ArrowSchema **)calloc(r->ncols + 1, sizeof(void *));
  out->release = release_schema;
  for (i = 0; i < r->ncols; i++) {
    struct ArrowSchema *c = (struct ArrowSchema *)calloc(1, sizeof *c);
    c->format = "u";
    c->name = r->names[i];
    c->flags = ARROW_FLAG_NULLABLE;
    c->release = release_schema;
    out->children[i] = c;
  }
  return 0;
}

static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  Reader *r = (Reader *)s->private_data;
  Col *cols = (Col *)calloc(r->ncols + 1, sizeof(Col));
  int64_t rows = 0;
  size_t i;
  memset(out, 0, sizeof *out);
  for (i = 0; i < r->ncols; i++) {
    cols[i].offsets = (int32_t *)malloc((BATCH_ROWS + 1) * sizeof(int32_t));
    cols[i].offsets[0] = 0;
    cols[i].cap = 32 * BATCH_ROWS;
    cols[i].data = (char *)malloc(cols[i].cap);
  }
  while (rows < BATCH_ROWS) {
    size_t saved_pos = r->pos, k;
    int rc;
    for (k = 0; k < r->ncols; k++) cols[k].offsets[rows + 1] = (int32_t)cols[k].len;
    rc = parse_record(r, cols, rows);
    if (rc == 1) {
      rows++;
      continue;
    }
    if (rc == -1) break;
    if (rc == -2) goto fail;
    /* The buffer ended inside the record: undo it, read more, parse again. */
    r->pos = saved_pos;
    for (k = 0; k < r->ncols; k++) cols[k].len = (size_t)cols[k].offsets[rows];
    if (refill(r) < 0) goto fail;
  }
  if (rows == 0) {
    for (i = 0; i < r->ncols; i++) {
      free(cols[i].offsets);
      free(cols[i].data);
    }
    free(cols);
    return 0;
  }
  out->length = rows;
  out->n_buffers = 1;
  out->private_data = calloc(1, sizeof(Priv));
  out->buffers = ((Priv *)out->private_data)->buffers;
  out->n_children = (int64_t)r->ncols;
  out->children = (struct ArrowArray **)calloc(r->ncols + 1, sizeof(void *));
  out->release = release_array;
  for (i = 0; i < r->ncols; i++) {
    struct ArrowArray *c = (struct ArrowArray *)calloc(1, sizeof *c);
    Priv *p = (Priv *)calloc(1, sizeof *p);
    p->buffers[1] = cols[i].offsets;
    p->buffers[2] = cols[i].data;
    c->length = rows;
    c->n_buffers = 3;
    c->buffers = p->buffers;
    c->private_data = p;
    c->release = release_array;
    out->children[i] = c;
  }
  free(cols);
  return 0;
fail:
  for (i = 0; i < r->ncols; i++) {
    free(cols[i].offsets);
    free(cols[i].data);
  }
  free(cols);
  return EINVAL;
}

static const char *last_error(struct ArrowArrayStream *s) {
  return ((Reader *)s->private_data)->error;
}

static void release_stream(struct ArrowArrayStream *s) {
  Reader *r = (Reader *)s->private_data;
  size_t i;
  for (i = 0; i < r->ncols; i++) free(r->names[i]);
  free(r->names);
  free(r->buf);
  free(r);
  s->release = NULL;
}

static IdpStatus open_reader(void *data, IdpByteSource *input, const IdpOptions *options,
                             struct ArrowArrayStream *out, IdpError *error) {
  Reader *r = (Reader *)calloc(1, sizeof *r);
  int rc;
  (void)data;
  (void)options;
  r->input = input;
  r->cap = CHUNK;
  r->buf = (char *)malloc(r->cap);
  if ((rc = read_header(r)) != 0) {
    IdpStatus st = idp_set_error(error, rc == EIO ? IDP_ERR_IO : IDP_ERR_PARSE, "%s", r->error);
    free(r->buf);
    free(r);
    return st;
  }
  out->get_schema = get_schema;
  out->get_next = get_next;
  out->get_last_error = last_error;
  out->release = release_stream;
  out->private_data = r;
  return IDP_OK;
}

static const char DESCRIPTION[] =
    "[plugin]\nname = \"ccsv\"\nversion = \"0.1.0\"\n"
    "description = \"CSV read in C and handed over as Arrow (the C ABI benchmark)\"\n"
    "[[format]]\nid = \"ccsv\"\nextensions = [\"ccsv\"]\n"
    "description = \"CSV (RFC 4180) with a header, every field as text\"\n";

static const IdpFormat CCSV = {sizeof(IdpFormat), "ccsv", NULL, open_reader, NULL, 0};
static const IdpFormat *const FORMATS[] = {&CCSV};
static const IdpPlugin PLUGIN = {sizeof(IdpPlugin), IDP_ABI_MAJOR, IDP_ABI_MINOR, DESCRIPTION,
                                 1, FORMATS, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL};

#if defined(_WIN32)
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
const IdpPlugin *iterabledata_plugin_entry(uint32_t major, uint32_t minor) {
  (void)minor;
  return major == IDP_ABI_MAJOR ? &PLUGIN : NULL;
}

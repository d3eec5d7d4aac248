/*
 * fwf: fixed-width text, an IterableData plugin written in C.
 *
 * Each line is a record; each field sits at a fixed column position.
 * The columns come from the `columns` option (NAME:WIDTH[:TYPE],...) or,
 * without it, from the header line: a column starts at the first character
 * and wherever a character follows a space. Fields are trimmed; an empty
 * field is null. Widths count characters (UTF-8 code points), not bytes.
 *
 * Reading hands over Arrow struct arrays (utf8, int64 or float64 columns);
 * writing takes Arrow batches and pads each value to its column.
 *
 * Built from iterabledata_plugin.h alone:
 *   cc -O2 -shared -fPIC -I iterable-plugin-api/include fwf.c -o libfwf.so
 */
#include "iterabledata_plugin.h"

#include <errno.h>
#include <stdint.h>

#define BATCH_ROWS 4096
#define READ_CHUNK (64 * 1024)
#define MAX_COLUMNS 1024

/* ------------------------------------------------------------------------
 * Column specifications
 * ------------------------------------------------------------------------ */

enum col_type { COL_STRING, COL_INT, COL_FLOAT };

typedef struct {
  char *name;
  size_t start; /* in characters */
  size_t width; /* in characters; SIZE_MAX: to the end of the line */
  enum col_type type;
} Column;

typedef struct {
  Column *cols;
  size_t n;
} Columns;

static void columns_free(Columns *c) {
  size_t i;
  for (i = 0; i < c->n; i++) free(c->cols[i].name);
  free(c->cols);
  c->cols = NULL;
  c->n = 0;
}

static char *dup_range(const char *s, size_t len) {
  char *out = (char *)malloc(len + 1);
  if (out == NULL) return NULL;
  memcpy(out, s, len);
  out[len] = 0;
  return out;
}

/* Parses "name:10,age:3:int,score:8:float". */
static IdpStatus parse_columns(const char *spec, Columns *out, IdpError *error) {
  size_t start = 0;
  const char *p = spec;
  out->cols = (Column *)calloc(MAX_COLUMNS, sizeof(Column));
  out->n = 0;
  if (out->cols == NULL) return idp_set_error(error, IDP_ERR_OTHER, "out of memory");
  while (*p) {
    const char *end = strchr(p, ',');
    const char *colon, *colon2;
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char item[256];
    char *num_end;
    long width;
    Column *c;
    if (len == 0 || len >= sizeof item) {
      columns_free(out);
      return idp_set_error(error, IDP_ERR_INVALID_OPTION,
                           "columns: an empty or overlong item in '%s'", spec);
    }
    if (out->n == MAX_COLUMNS) {
      columns_free(out);
      return idp_set_error(error, IDP_ERR_INVALID_OPTION, "columns: more than %d columns",
                           MAX_COLUMNS);
    }
    memcpy(item, p, len);
    item[len] = 0;
    colon = strchr(item, ':');
    if (colon == NULL || colon == item) {
      columns_free(out);
      return idp_set_error(error, IDP_ERR_INVALID_OPTION,
                           "columns: '%s' is not NAME:WIDTH[:TYPE]", item);
    }
    width = strtol(colon + 1, &num_end, 10);
    if (num_end == colon + 1 || width <= 0 || (*num_end != 0 && *num_end != ':')) {
      columns_free(out);
      return idp_set_error(error, IDP_ERR_INVALID_OPTION,
                           "columns: the width in '%s' is not a positive number", item);
    }
    c = &out->cols[out->n];
    c->name = dup_range(item, (size_t)(colon - item));
    c->start = start;
    c->width = (size_t)width;
    c->type = COL_STRING;
    out->n++;
    colon2 = *num_end == ':' ? num_end + 1 : NULL;
    if (colon2 != NULL) {
      if (strcmp(colon2, "int") == 0) c->type = COL_INT;
      else if (strcmp(colon2, "float") == 0) c->type = COL_FLOAT;
      else if (strcmp(colon2, "string") != 0) {
        columns_free(out);
        return idp_set_error(error, IDP_ERR_INVALID_OPTION,
                             "columns: unknown type '%s' in '%s' (string, int or float)",
                             colon2, item);
      }
    }
    start += (size_t)width;
    p = end ? end + 1 : p + len;
  }
  if (out->n == 0) {
    columns_free(out);
    return idp_set_error(error, IDP_ERR_INVALID_OPTION, "columns: no columns given");
  }
  return IDP_OK;
}

/* The number of characters in the first `len` bytes of s. */
static size_t count_chars(const char *s, size_t len) {
  size_t i, n = 0;
  for (i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
  return n;
}

/* The byte offset of character `chars` in s[0..len) (len if past the end). */
static size_t byte_at(const char *s, size_t len, size_t chars, int ascii) {
  size_t i, n = 0;
  if (ascii) return chars < len ? chars : len;
  for (i = 0; i < len; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (n == chars) return i;
      n++;
    }
  }
  return len;
}

static int is_ascii(const char *s, size_t len) {
  size_t i;
  for (i = 0; i < len; i++)
    if ((unsigned char)s[i] >= 0x80) return 0;
  return 1;
}

/* Columns from a header line: one starts at character 0 and at each
 * non-space character that follows a space. */
static IdpStatus header_columns(const char *line, size_t len, Columns *out, IdpError *error) {
  size_t i = 0, chars = 0;
  out->cols = (Column *)calloc(MAX_COLUMNS, sizeof(Column));
  out->n = 0;
  if (out->cols == NULL) return idp_set_error(error, IDP_ERR_OTHER, "out of memory");
  while (i < len) {
    size_t name_start, name_end, col_start = chars;
    while (i < len && line[i] == ' ') { i++; chars++; }
    if (i == len) break;
    if (out->n > 0 && col_start != chars) {
      /* the previous column ends where this one starts */
    }
    name_start = i;
    col_start = chars;
    while (i < len && line[i] != ' ') {
      if (((unsigned char)line[i] & 0xC0) != 0x80) chars++;
      i++;
    }
    name_end = i;
    if (out->n == MAX_COLUMNS) {
      columns_free(out);
      return idp_set_error(error, IDP_ERR_PARSE, "line 1: more than %d columns", MAX_COLUMNS);
    }
    if (out->n > 0) out->cols[out->n - 1].width = col_start - out->cols[out->n - 1].start;
    out->cols[out->n].name = dup_range(line + name_start, name_end - name_start);
    out->cols[out->n].start = out->n == 0 ? 0 : col_start;
    out->cols[out->n].width = SIZE_MAX;
    out->cols[out->n].type = COL_STRING;
    out->n++;
  }
  if (out->n == 0) {
    columns_free(out);
    return idp_set_error(error, IDP_ERR_PARSE,
                         "line 1: the header is empty; give the columns with --option columns=NAME:WIDTH,...");
  }
  return IDP_OK;
}

/* ------------------------------------------------------------------------
 * Arrow arrays owned by this plugin
 * ------------------------------------------------------------------------ */

typedef struct {
  const void *buffers[3];
  void *owned[3];
} ArrayPrivate;

static void release_array(struct ArrowArray *a) {
  ArrayPrivate *p = (ArrayPrivate *)a->private_data;
  int64_t i;
  for (i = 0; i < a->n_children; i++) {
    struct ArrowArray *c = a->children[i];
    if (c->release != NULL) c->release(c);
    free(c);
  }
  free(a->children);
  if (p != NULL) {
    for (i = 0; i < 3; i++) free(p->owned[i]);
    free(p);
  }
  a->release = NULL;
}

static void release_schema(struct ArrowSchema *s) {
  int64_t i;
  for (i = 0; i < s->n_children; i++) {
    struct ArrowSchema *c = s->children[i];
    if (c->release != NULL) c->release(c);
    free(c);
  }
  free(s->children);
  free((void *)s->name);
  s->release = NULL;
}

static int make_schema(const Columns *cols, struct ArrowSchema *out) {
  size_t i;
  memset(out, 0, sizeof *out);
  out->format = "+s";
  out->n_children = (int64_t)cols->n;
  out->children = (struct ArrowSchema **)calloc(cols->n, sizeof(struct ArrowSchema *));
  out->release = release_schema;
  if (out->children == NULL) return ENOMEM;
  for (i = 0; i < cols->n; i++) {
    struct ArrowSchema *c = (struct ArrowSchema *)calloc(1, sizeof *c);
    if (c == NULL) return ENOMEM;
    out->children[i] = c;
    c->format = cols->cols[i].type == COL_INT ? "l" : cols->cols[i].type == COL_FLOAT ? "g" : "u";
    c->name = dup_range(cols->cols[i].name, strlen(cols->cols[i].name));
    c->flags = ARROW_FLAG_NULLABLE;
    c->release = release_schema;
  }
  return 0;
}

/* One column being filled. */
typedef struct {
  uint8_t *validity;
  int32_t *offsets; /* strings */
  char *data;       /* strings: the text; numbers: the values */
  size_t data_len, data_cap;
  int64_t nulls;
} Builder;

static int builder_init(Builder *b, enum col_type type) {
  memset(b, 0, sizeof *b);
  b->validity = (uint8_t *)calloc((BATCH_ROWS + 7) / 8, 1);
  if (type == COL_STRING) {
    b->offsets = (int32_t *)malloc((BATCH_ROWS + 1) * sizeof(int32_t));
    b->data_cap = 16 * BATCH_ROWS;
    if (b->offsets != NULL) b->offsets[0] = 0;
  } else {
    b->data_cap = 8 * BATCH_ROWS;
  }
  b->data = (char *)malloc(b->data_cap);
  return b->validity != NULL && b->data != NULL && (type != COL_STRING || b->offsets != NULL);
}

/* Hands the builder's buffers to a new child array of `rows` rows. */
static struct ArrowArray *builder_finish(Builder *b, enum col_type type, int64_t rows) {
  struct ArrowArray *a = (struct ArrowArray *)calloc(1, sizeof *a);
  ArrayPrivate *p = (ArrayPrivate *)calloc(1, sizeof *p);
  if (a == NULL || p == NULL) {
    free(a);
    free(p);
    return NULL;
  }
  a->length = rows;
  a->null_count = b->nulls;
  p->buffers[0] = b->nulls ? b->validity : NULL;
  p->owned[0] = b->validity;
  if (type == COL_STRING) {
    a->n_buffers = 3;
    p->buffers[1] = b->offsets;
    p->owned[1] = b->offsets;
    p->buffers[2] = b->data;
    p->owned[2] = b->data;
  } else {
    a->n_buffers = 2;
    p->buffers[1] = b->data;
    p->owned[1] = b->data;
  }
  a->buffers = p->buffers;
  a->private_data = p;
  a->release = release_array;
  memset(b, 0, sizeof *b);
  return a;
}

static void builder_free(Builder *b) {
  free(b->validity);
  free(b->offsets);
  free(b->data);
  memset(b, 0, sizeof *b);
}

static int builder_reserve(Builder *b, size_t more) {
  if (b->data_len + more > b->data_cap) {
    size_t cap = b->data_cap * 2;
    char *d;
    while (cap < b->data_len + more) cap *= 2;
    d = (char *)realloc(b->data, cap);
    if (d == NULL) return 0;
    b->data = d;
    b->data_cap = cap;
  }
  return 1;
}

/* ------------------------------------------------------------------------
 * The reader: an ArrowArrayStream over an IdpByteSource
 * ------------------------------------------------------------------------ */

typedef struct {
  IdpByteSource *input;
  Columns cols;
  int has_columns; /* known yet */
  int header;      /* the first line is a header */
  char *buf;       /* unread bytes are buf[pos..len) */
  size_t pos, len, cap;
  int eof;
  int64_t line; /* lines read so far */
  char *error;  /* the last error, for get_last_error */
} Reader;

static int reader_fail(Reader *r, int code, const char *fmt, ...) {
  va_list ap;
  char tmp[512];
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  free(r->error);
  r->error = dup_range(tmp, strlen(tmp));
  return code;
}

/* The next line (without its end), or NULL at the end of the input. */
static const char *next_line(Reader *r, size_t *len, int *err) {
  *err = 0;
  for (;;) {
    char *nl = (char *)memchr(r->buf + r->pos, '\n', r->len - r->pos);
    if (nl != NULL || (r->eof && r->pos < r->len)) {
      const char *line = r->buf + r->pos;
      size_t l = nl ? (size_t)(nl - line) : r->len - r->pos;
      r->pos += nl ? l + 1 : l;
      if (l > 0 && line[l - 1] == '\r') l--;
      *len = l;
      r->line++;
      return line;
    }
    if (r->eof) return NULL;
    /* Keep the partial line and read more. */
    if (r->pos > 0) {
      memmove(r->buf, r->buf + r->pos, r->len - r->pos);
      r->len -= r->pos;
      r->pos = 0;
    }
    if (r->cap - r->len < READ_CHUNK) {
      char *b = (char *)realloc(r->buf, r->cap * 2);
      if (b == NULL) {
        *err = reader_fail(r, ENOMEM, "out of memory");
        return NULL;
      }
      r->buf = b;
      r->cap *= 2;
    }
    {
      IdpError e;
      int64_t n;
      memset(&e, 0, sizeof e);
      n = r->input->read(r->input, (uint8_t *)r->buf + r->len, r->cap - r->len, &e);
      if (n < 0) {
        *err = reader_fail(r, EIO, "reading the input: %s", e.message ? e.message : "failed");
        if (e.release) e.release(&e);
        return NULL;
      }
      if (n == 0) r->eof = 1;
      r->len += (size_t)n;
    }
  }
}

static const char *skip_blank_lines(Reader *r, size_t *len, int *err) {
  const char *line;
  while ((line = next_line(r, len, err)) != NULL) {
    size_t i;
    for (i = 0; i < *len; i++)
      if (line[i] != ' ' && line[i] != '\t') return line;
  }
  return NULL;
}

/* Reads the header when it defines the columns. */
static int ensure_columns(Reader *r) {
  size_t len;
  int err;
  const char *line;
  if (r->has_columns) return 0;
  line = skip_blank_lines(r, &len, &err);
  if (err) return err;
  if (line == NULL) {
    r->cols.n = 0;
  } else {
    IdpError e;
    memset(&e, 0, sizeof e);
    if (header_columns(line, len, &r->cols, &e) != IDP_OK) {
      int code = reader_fail(r, EINVAL, "%s", e.message ? e.message : "bad header");
      if (e.release) e.release(&e);
      return code;
    }
  }
  r->has_columns = 1;
  return 0;
}

static int stream_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  Reader *r = (Reader *)s->private_data;
  int err = ensure_columns(r);
  if (err) return err;
  return make_schema(&r->cols, out);
}

/* Trims spaces around s[0..*len). */
static const char *trim(const char *s, size_t *len) {
  while (*len > 0 && (s[0] == ' ' || s[0] == '\t')) {
    s++;
    (*len)--;
  }
  while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t')) (*len)--;
  return s;
}

static int stream_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  Reader *r = (Reader *)s->private_data;
  Builder b[MAX_COLUMNS];
  size_t c, ncols;
  int64_t rows = 0;
  int err = ensure_columns(r);
  struct ArrowArray *top;
  ArrayPrivate *tp;
  if (err) return err;
  ncols = r->cols.n;
  memset(out, 0, sizeof *out);
  for (c = 0; c < ncols; c++) {
    if (!builder_init(&b[c], r->cols.cols[c].type)) {
      size_t k;
      for (k = 0; k <= c; k++) builder_free(&b[k]);
      return reader_fail(r, ENOMEM, "out of memory");
    }
  }
  while (rows < BATCH_ROWS) {
    size_t len;
    const char *line = next_line(r, &len, &err);
    int ascii;
    if (err) goto fail;
    if (line == NULL) break;
    if (len == 0) continue; /* blank lines separate nothing */
    ascii = is_ascii(line, len);
    for (c = 0; c < ncols; c++) {
      const Column *col = &r->cols.cols[c];
      size_t from = byte_at(line, len, col->start, ascii);
      size_t to = col->width == SIZE_MAX || c + 1 == ncols
                      ? len
                      : byte_at(line, len, col->start + col->width, ascii);
      size_t flen = to - from;
      const char *field = trim(line + from, &flen);
      Builder *bb = &b[c];
      if (flen == 0) {
        bb->nulls++;
        if (col->type == COL_STRING) bb->offsets[rows + 1] = (int32_t)bb->data_len;
        else memset(bb->data + 8 * rows, 0, 8), bb->data_len += 8;
        continue;
      }
      bb->validity[rows / 8] |= (uint8_t)(1u << (rows % 8));
      if (col->type == COL_STRING) {
        if (bb->data_len + flen > INT32_MAX || !builder_reserve(bb, flen)) {
          err = reader_fail(r, ENOMEM, "line %lld: a batch of text over 2 GiB", (long long)r->line);
          goto fail;
        }
        memcpy(bb->data + bb->data_len, field, flen);
        bb->data_len += flen;
        bb->offsets[rows + 1] = (int32_t)bb->data_len;
      } else {
        char tmp[64];
        char *end;
        if (flen >= sizeof tmp) flen = sizeof tmp - 1;
        memcpy(tmp, field, flen);
        tmp[flen] = 0;
        errno = 0;
        if (col->type == COL_INT) {
          long long v = strtoll(tmp, &end, 10);
          if (*end != 0 || errno != 0) {
            err = reader_fail(r, EINVAL, "line %lld: column '%s': '%s' is not an integer",
                              (long long)r->line, col->name, tmp);
            goto fail;
          }
          memcpy(bb->data + 8 * rows, &v, 8);
        } else {
          double v = strtod(tmp, &end);
          if (*end != 0) {
            err = reader_fail(r, EINVAL, "line %lld: column '%s': '%s' is not a number",
                              (long long)r->line, col->name, tmp);
            goto fail;
          }
          memcpy(bb->data + 8 * rows, &v, 8);
        }
        bb->data_len += 8;
      }
    }
    rows++;
  }
  if (rows == 0) {
    /* The end: a released array. */
    for (c = 0; c < ncols; c++) builder_free(&b[c]);
    out->release = NULL;
    return 0;
  }
  top = out;
  tp = (ArrayPrivate *)calloc(1, sizeof *tp);
  top->children = (struct ArrowArray **)calloc(ncols ? ncols : 1, sizeof(struct ArrowArray *));
  if (tp == NULL || top->children == NULL) {
    free(tp);
    free(top->children);
    err = reader_fail(r, ENOMEM, "out of memory");
    goto fail;
  }
  top->length = rows;
  top->n_buffers = 1;
  top->buffers = tp->buffers; /* no validity: every row is there */
  top->private_data = tp;
  top->release = release_array;
  for (c = 0; c < ncols; c++) {
    top->children[c] = builder_finish(&b[c], r->cols.cols[c].type, rows);
    top->n_children = (int64_t)c + 1;
    if (top->children[c] == NULL) {
      size_t k;
      top->n_children = (int64_t)c;
      release_array(top);
      for (k = c; k < ncols; k++) builder_free(&b[k]);
      return reader_fail(r, ENOMEM, "out of memory");
    }
  }
  return 0;
fail:
  for (c = 0; c < ncols; c++) builder_free(&b[c]);
  return err;
}

static const char *stream_last_error(struct ArrowArrayStream *s) {
  return ((Reader *)s->private_data)->error;
}

static void stream_release(struct ArrowArrayStream *s) {
  Reader *r = (Reader *)s->private_data;
  columns_free(&r->cols);
  free(r->buf);
  free(r->error);
  free(r);
  s->release = NULL;
}

static int option_bool(const IdpOptions *options, const char *key, int dflt) {
  const char *v = idp_option(options, key);
  if (v == NULL) return dflt;
  return strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 ||
         strcmp(v, "on") == 0;
}

static IdpStatus open_reader(void *data, IdpByteSource *input, const IdpOptions *options,
                             struct ArrowArrayStream *out, IdpError *error) {
  Reader *r = (Reader *)calloc(1, sizeof *r);
  const char *spec = idp_option(options, "columns");
  (void)data;
  if (r == NULL) return idp_set_error(error, IDP_ERR_OTHER, "out of memory");
  r->input = input;
  r->header = option_bool(options, "header", 1);
  r->cap = 2 * READ_CHUNK;
  r->buf = (char *)malloc(r->cap);
  if (r->buf == NULL) {
    free(r);
    return idp_set_error(error, IDP_ERR_OTHER, "out of memory");
  }
  if (spec != NULL) {
    IdpStatus st = parse_columns(spec, &r->cols, error);
    if (st != IDP_OK) {
      free(r->buf);
      free(r);
      return st;
    }
    r->has_columns = 1;
    if (r->header) {
      /* The header line names columns that `columns` already gives. */
      size_t len;
      int err;
      (void)skip_blank_lines(r, &len, &err);
      if (err) {
        IdpStatus st2 = idp_set_error(error, IDP_ERR_IO, "%s", r->error ? r->error : "read failed");
        columns_free(&r->cols);
        free(r->error);
        free(r->buf);
        free(r);
        return st2;
      }
    }
  } else if (!r->header) {
    free(r->buf);
    free(r);
    return idp_set_error(error, IDP_ERR_INVALID_OPTION,
                         "header=false needs the columns: --option columns=NAME:WIDTH,...");
  }
  memset(out, 0, sizeof *out);
  out->get_schema = stream_get_schema;
  out->get_next = stream_get_next;
  out->get_last_error = stream_last_error;
  out->release = stream_release;
  out->private_data = r;
  return IDP_OK;
}

/* ------------------------------------------------------------------------
 * The writer: Arrow batches to padded lines
 * ------------------------------------------------------------------------ */

typedef struct {
  IdpByteSink *output;
  Columns cols; /* names and widths, fixed by `columns` or the first batch */
  int has_columns;
  int header;
  char *line;
  size_t line_cap;
  int64_t rows;
} Writer;

/* The text of row `i` of `a` (type `format`) into tmp or a pointer into the
 * array; *len its length. Returns 0, 1 for null, -1 for an unknown type. */
static int cell_text(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                     char *tmp, size_t tmp_len, const char **text, size_t *len) {
  const uint8_t *valid = (const uint8_t *)a->buffers[0];
  int64_t j = i + a->offset;
  const char *f = s->format;
  if (strcmp(f, "n") == 0) return 1;
  if (valid != NULL && !(valid[j / 8] & (1u << (j % 8)))) return 1;
  if (strcmp(f, "u") == 0) {
    const int32_t *off = (const int32_t *)a->buffers[1];
    *text = (const char *)a->buffers[2] + off[j];
    *len = (size_t)(off[j + 1] - off[j]);
  } else if (strcmp(f, "U") == 0) {
    const int64_t *off = (const int64_t *)a->buffers[1];
    *text = (const char *)a->buffers[2] + off[j];
    *len = (size_t)(off[j + 1] - off[j]);
  } else if (strcmp(f, "l") == 0) {
    *len = (size_t)snprintf(tmp, tmp_len, "%lld", (long long)((const int64_t *)a->buffers[1])[j]);
    *text = tmp;
  } else if (strcmp(f, "g") == 0) {
    double v = ((const double *)a->buffers[1])[j];
    *len = (size_t)snprintf(tmp, tmp_len, "%.15g", v);
    if (strtod(tmp, NULL) != v) *len = (size_t)snprintf(tmp, tmp_len, "%.17g", v);
    *text = tmp;
  } else if (strcmp(f, "b") == 0) {
    const uint8_t *bits = (const uint8_t *)a->buffers[1];
    int on = (bits[j / 8] >> (j % 8)) & 1;
    *text = on ? "true" : "false";
    *len = on ? 4 : 5;
  } else {
    return -1;
  }
  return 0;
}

static IdpStatus sink_write(Writer *w, const char *s, size_t len, IdpError *error) {
  return w->output->write(w->output, (const uint8_t *)s, len, error);
}

/* Appends `text` padded to `width` characters (no padding when last). */
static int put_cell(Writer *w, size_t *at, const char *text, size_t len, size_t width, int last) {
  size_t chars = count_chars(text, len);
  size_t pad = last || chars >= width ? 0 : width - chars;
  if (*at + len + pad + 2 > w->line_cap) {
    size_t cap = (*at + len + pad + 2) * 2;
    char *l = (char *)realloc(w->line, cap);
    if (l == NULL) return 0;
    w->line = l;
    w->line_cap = cap;
  }
  memcpy(w->line + *at, text, len);
  memset(w->line + *at + len, ' ', pad);
  *at += len + pad;
  return 1;
}

static IdpStatus writer_write(IdpBatchWriter *self, struct ArrowSchema *schema,
                              struct ArrowArray *batch, IdpError *error) {
  Writer *w = (Writer *)self->private_data;
  int64_t c, i;
  char tmp[64];
  IdpStatus st = IDP_OK;
  if (strcmp(schema->format, "+s") != 0 || schema->n_children != batch->n_children) {
    st = idp_set_error(error, IDP_ERR_SCHEMA, "expected a struct batch");
    goto done;
  }
  for (c = 0; c < schema->n_children; c++) {
    const char *f = schema->children[c]->format;
    if (strcmp(f, "u") && strcmp(f, "U") && strcmp(f, "l") && strcmp(f, "g") && strcmp(f, "b") &&
        strcmp(f, "n")) {
      st = idp_set_error(error, IDP_ERR_UNSUPPORTED,
                         "field '%s': fwf writes text, integers, floats and booleans, not "
                         "Arrow type '%s'",
                         schema->children[c]->name, f);
      goto done;
    }
  }
  if (!w->has_columns) {
    /* Widths from this first batch: the widest value or name, plus two. */
    w->cols.n = (size_t)schema->n_children;
    w->cols.cols = (Column *)calloc(w->cols.n ? w->cols.n : 1, sizeof(Column));
    for (c = 0; c < schema->n_children; c++) {
      const char *name = schema->children[c]->name ? schema->children[c]->name : "";
      size_t width = count_chars(name, strlen(name));
      for (i = 0; i < batch->length; i++) {
        const char *text;
        size_t len;
        if (cell_text(schema->children[c], batch->children[c], i, tmp, sizeof tmp, &text, &len) == 0) {
          size_t n = count_chars(text, len);
          if (n > width) width = n;
        }
      }
      w->cols.cols[c].name = dup_range(name, strlen(name));
      w->cols.cols[c].width = width + 2;
    }
    w->has_columns = 1;
  } else if ((size_t)schema->n_children != w->cols.n) {
    st = idp_set_error(error, IDP_ERR_SCHEMA,
                       "a batch with %lld fields after batches with %lld (fixed-width columns "
                       "cannot change)",
                       (long long)schema->n_children, (long long)w->cols.n);
    goto done;
  }
  if (w->header) {
    size_t at = 0;
    for (c = 0; c < (int64_t)w->cols.n; c++) {
      const char *name = w->cols.cols[c].name;
      size_t chars = count_chars(name, strlen(name));
      if (c + 1 < (int64_t)w->cols.n && chars > w->cols.cols[c].width) {
        st = idp_set_error(error, IDP_ERR_SCHEMA,
                           "field '%s': its name (%zu characters) does not fit its column of "
                           "width %zu",
                           name, chars, w->cols.cols[c].width);
        goto done;
      }
      if (!put_cell(w, &at, name, strlen(name), w->cols.cols[c].width, c + 1 == (int64_t)w->cols.n)) {
        st = idp_set_error(error, IDP_ERR_OTHER, "out of memory");
        goto done;
      }
    }
    w->line[at++] = '\n';
    if ((st = sink_write(w, w->line, at, error)) != IDP_OK) goto done;
    w->header = 0;
  }
  for (i = 0; i < batch->length; i++) {
    size_t at = 0;
    for (c = 0; c < (int64_t)w->cols.n; c++) {
      const char *text = "";
      size_t len = 0, width = w->cols.cols[c].width;
      int last = c + 1 == (int64_t)w->cols.n;
      (void)cell_text(schema->children[c], batch->children[c], i, tmp, sizeof tmp, &text, &len);
      if (!last && count_chars(text, len) > width) {
        st = idp_set_error(error, IDP_ERR_SCHEMA,
                           "record %lld: field '%s': a value of %zu characters does not fit its "
                           "column of width %zu; give wider columns with --option "
                           "columns=NAME:WIDTH,...",
                           (long long)(w->rows + i + 1), w->cols.cols[c].name,
                           count_chars(text, len), width);
        goto done;
      }
      if (!put_cell(w, &at, text, len, width, last)) {
        st = idp_set_error(error, IDP_ERR_OTHER, "out of memory");
        goto done;
      }
    }
    while (at > 0 && w->line[at - 1] == ' ') at--;
    w->line[at++] = '\n';
    if ((st = sink_write(w, w->line, at, error)) != IDP_OK) goto done;
  }
  w->rows += batch->length;
done:
  /* Both are ours now: release them (the host would otherwise). */
  if (batch->release) batch->release(batch);
  if (schema->release) schema->release(schema);
  return st;
}

static IdpStatus writer_finish(IdpBatchWriter *self, IdpError *error) {
  (void)self;
  (void)error;
  return IDP_OK;
}

static void writer_release(IdpBatchWriter *self) {
  Writer *w = (Writer *)self->private_data;
  columns_free(&w->cols);
  free(w->line);
  free(w);
  self->release = NULL;
}

static IdpStatus open_writer(void *data, IdpByteSink *output, const IdpOptions *options,
                             IdpBatchWriter *out, IdpError *error) {
  Writer *w = (Writer *)calloc(1, sizeof *w);
  const char *spec = idp_option(options, "columns");
  (void)data;
  if (w == NULL) return idp_set_error(error, IDP_ERR_OTHER, "out of memory");
  w->output = output;
  w->header = option_bool(options, "header", 1);
  if (spec != NULL) {
    IdpStatus st = parse_columns(spec, &w->cols, error);
    if (st != IDP_OK) {
      free(w);
      return st;
    }
    w->has_columns = 1;
  }
  memset(out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  out->write = writer_write;
  out->finish = writer_finish;
  out->release = writer_release;
  out->private_data = w;
  return IDP_OK;
}

/* ------------------------------------------------------------------------
 * The plugin
 * ------------------------------------------------------------------------ */

static const char DESCRIPTION[] =
    "[plugin]\n"
    "name = \"fwf\"\n"
    "version = \"0.1.0\"\n"
    "description = \"Fixed-width text: columns at fixed positions, read and written (a plugin in C)\"\n"
    "author = \"IterableData for Rust contributors\"\n"
    "license = \"MIT OR Apache-2.0\"\n"
    "\n"
    "[[format]]\n"
    "id = \"fwf\"\n"
    "extensions = [\"fwf\"]\n"
    "description = \"Fixed-width text: a header line, then one record per line, fields at fixed columns\"\n"
    "write = true\n"
    "\n"
    "[[format.option]]\n"
    "name = \"columns\"\n"
    "description = \"the columns as NAME:WIDTH[:TYPE],... (TYPE string, int or float); by default "
    "from the header line\"\n"
    "\n"
    "[[format.option]]\n"
    "name = \"header\"\n"
    "description = \"whether the first line is a header (read) or gets one (write)\"\n"
    "type = \"bool\"\n"
    "default = \"true\"\n";

static const IdpFormat FWF = {
    sizeof(IdpFormat), "fwf", NULL, open_reader, open_writer,
#if IDP_ABI_MINOR >= 1
    /* Every column as text, rendered by the host (dates, decimals, nested
     * values). Built against 1.0, the writer reads text, integers, floats
     * and booleans itself and refuses other types. */
    IDP_FORMAT_WRITE_TEXT,
#endif
};

static const IdpFormat *const FORMATS[] = {&FWF};

static const IdpPlugin PLUGIN = {
    sizeof(IdpPlugin), IDP_ABI_MAJOR, IDP_ABI_MINOR, DESCRIPTION, 1, FORMATS,
    0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL,
};

#if defined(_WIN32)
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
const IdpPlugin *iterabledata_plugin_entry(uint32_t host_major, uint32_t host_minor) {
  (void)host_minor;
  return host_major == IDP_ABI_MAJOR ? &PLUGIN : NULL;
}

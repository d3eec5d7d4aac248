/*
 * ckinds: one of each other kind, in C, for the host's tests of the C ABI.
 *   codec  cxor     XORs every byte with 0x5A (extension .cxor)
 *   driver cmem     an in-memory database (scheme cmem://): table `numbers`,
 *                   writes counted and committed only by finish
 *   rule   c.short  text of at most 5 characters
 *   engine c.union  runs the query `union`: its inputs one after the other;
 *                   it says it reads files by their paths (reads_paths), is
 *                   offered those of plain CSV files, and reads the streams
 *                   anyway, so the host opens those files on its first read
 *   hook   c.tally  counts batches and rows; writes them to --hook-option c.tally.out=FILE
 *                   at close, with the run info it was lent at open (still
 *                   valid then, as the header says) and its `count` option
 *                   (rows or batches, default rows: filled in by the host)
 * It has no manifest: the host recognises it by its symbol.
 */
#include "arrow_util.h"

#include <errno.h>

/* ---- codec ------------------------------------------------------------- */

static int64_t xor_read(IdpByteSource *self, uint8_t *buf, size_t cap, IdpError *error) {
  IdpByteSource *in = (IdpByteSource *)self->private_data;
  int64_t n = in->read(in, buf, cap, error), i;
  for (i = 0; i < n; i++) buf[i] ^= 0x5A;
  return n;
}

static void xor_release_source(IdpByteSource *self) { self->release = NULL; }

static IdpStatus xor_decoder(void *data, IdpByteSource *input, IdpByteSource *out, IdpError *error) {
  (void)data;
  (void)error;
  out->struct_size = sizeof *out;
  out->read = xor_read;
  out->release = xor_release_source;
  out->private_data = input;
  return IDP_OK;
}

static IdpStatus xor_write(IdpByteSink *self, const uint8_t *buf, size_t len, IdpError *error) {
  IdpByteSink *o = (IdpByteSink *)self->private_data;
  uint8_t tmp[4096];
  while (len > 0) {
    size_t n = len < sizeof tmp ? len : sizeof tmp, i;
    IdpStatus st;
    for (i = 0; i < n; i++) tmp[i] = buf[i] ^ 0x5A;
    if ((st = o->write(o, tmp, n, error)) != IDP_OK) return st;
    buf += n;
    len -= n;
  }
  return IDP_OK;
}

static IdpStatus xor_finish(IdpByteSink *self, IdpError *error) {
  (void)self;
  (void)error;
  return IDP_OK;
}

static void xor_release_sink(IdpByteSink *self) { self->release = NULL; }

static IdpStatus xor_encoder(void *data, IdpByteSink *output, int32_t level, IdpByteSink *out,
                             IdpError *error) {
  (void)data;
  if (level != IDP_LEVEL_DEFAULT)
    return idp_set_error(error, IDP_ERR_INVALID_OPTION, "cxor has no levels (got %d)", level);
  out->struct_size = sizeof *out;
  out->write = xor_write;
  out->finish = xor_finish;
  out->release = xor_release_sink;
  out->private_data = output;
  return IDP_OK;
}

/* ---- a stream over prepared batches ------------------------------------ */

typedef struct {
  const char *const *names;
  const char *const *formats;
  int64_t k;
  struct ArrowArray batches[4];
  int n, next;
} VecStream;

static int vs_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  VecStream *v = (VecStream *)s->private_data;
  au_schema(out, v->names, v->formats, v->k);
  return 0;
}

static int vs_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  VecStream *v = (VecStream *)s->private_data;
  memset(out, 0, sizeof *out);
  if (v->next < v->n) {
    *out = v->batches[v->next];
    v->batches[v->next].release = NULL; /* moved */
    v->next++;
  }
  return 0;
}

static const char *vs_error(struct ArrowArrayStream *s) {
  (void)s;
  return NULL;
}

static void vs_release(struct ArrowArrayStream *s) {
  VecStream *v = (VecStream *)s->private_data;
  int i;
  for (i = 0; i < v->n; i++)
    if (v->batches[i].release) v->batches[i].release(&v->batches[i]);
  free(v);
  s->release = NULL;
  au_live--;
}

static VecStream *vs_open(struct ArrowArrayStream *out, const char *const *names,
                          const char *const *formats, int64_t k) {
  VecStream *v = (VecStream *)calloc(1, sizeof *v);
  v->names = names;
  v->formats = formats;
  v->k = k;
  out->get_schema = vs_schema;
  out->get_next = vs_next;
  out->get_last_error = vs_error;
  out->release = vs_release;
  out->private_data = v;
  au_live++;
  return v;
}

/* ---- driver ------------------------------------------------------------ */

static int64_t committed = 0;
AU_EXPORT int64_t idp_test_committed(void) { return committed; }

static const char *const TABLE_NAMES[] = {"name"};
static const char *const TABLE_FORMATS[] = {"u"};
static const char *const NUM_NAMES[] = {"id", "name"};
static const char *const NUM_FORMATS[] = {"l", "u"};
static const char *const ROWS_NAMES[] = {"rows"};
static const char *const ROWS_FORMATS[] = {"l"};

static IdpStatus mem_list(IdpConnection *self, struct ArrowArrayStream *out, IdpError *error) {
  static const char *const tables[] = {"numbers", "written"};
  VecStream *v = vs_open(out, TABLE_NAMES, TABLE_FORMATS, 1);
  struct ArrowArray *col = au_utf8(tables, 2);
  (void)self;
  (void)error;
  au_struct(&v->batches[0], 2, &col, 1);
  v->n = 1;
  return IDP_OK;
}

static IdpStatus mem_read(IdpConnection *self, int32_t what, const char *text,
                          const IdpOptions *options, struct ArrowArrayStream *out, IdpError *error) {
  (void)self;
  (void)options;
  if (what == IDP_READ_QUERY)
    return idp_set_error(error, IDP_ERR_DRIVER, "cmem runs no queries: %s", text);
  if (strcmp(text, "numbers") == 0) {
    static const int64_t ids[] = {1, 2, 3};
    static const char *const names[] = {"one", "two", NULL};
    VecStream *v = vs_open(out, NUM_NAMES, NUM_FORMATS, 2);
    struct ArrowArray *cols[2];
    cols[0] = au_int64(ids, 3);
    cols[1] = au_utf8(names, 3);
    au_struct(&v->batches[0], 3, cols, 2);
    v->n = 1;
    return IDP_OK;
  }
  if (strcmp(text, "written") == 0) {
    VecStream *v = vs_open(out, ROWS_NAMES, ROWS_FORMATS, 1);
    struct ArrowArray *col = au_int64(&committed, 1);
    au_struct(&v->batches[0], 1, &col, 1);
    v->n = 1;
    return IDP_OK;
  }
  return idp_set_error(error, IDP_ERR_DRIVER, "no such table: %s", text);
}

static IdpStatus mw_write(IdpBatchWriter *self, struct ArrowSchema *schema, struct ArrowArray *batch,
                          IdpError *error) {
  int64_t *pending = (int64_t *)self->private_data;
  (void)error;
  *pending += batch->length;
  batch->release(batch); /* released here; the schema is left to the host */
  (void)schema;
  return IDP_OK;
}

static IdpStatus mw_finish(IdpBatchWriter *self, IdpError *error) {
  (void)error;
  committed += *(int64_t *)self->private_data;
  *(int64_t *)self->private_data = 0;
  return IDP_OK;
}

static void mw_release(IdpBatchWriter *self) {
  free(self->private_data); /* anything pending is rolled back */
  self->release = NULL;
}

static IdpStatus mem_write(IdpConnection *self, const char *table, const IdpOptions *options,
                           IdpBatchWriter *out, IdpError *error) {
  (void)self;
  (void)options;
  if (strcmp(table, "written") != 0)
    return idp_set_error(error, IDP_ERR_DRIVER, "table %s is read-only", table);
  out->struct_size = sizeof *out;
  out->write = mw_write;
  out->finish = mw_finish;
  out->release = mw_release;
  out->private_data = calloc(1, sizeof(int64_t));
  return IDP_OK;
}

static void mem_release(IdpConnection *self) { self->release = NULL; }

static IdpStatus mem_connect(void *data, const char *uri, const IdpOptions *options,
                             IdpConnection *out, IdpError *error) {
  (void)data;
  (void)options;
  if (strstr(uri, "fail") != NULL)
    return idp_set_error(error, IDP_ERR_DRIVER, "cannot connect to %s: refused", uri);
  out->struct_size = sizeof *out;
  out->list_tables = mem_list;
  out->read = mem_read;
  out->write = mem_write;
  out->release = mem_release;
  return IDP_OK;
}

/* ---- rule -------------------------------------------------------------- */

static IdpStatus short_check(void *data, struct ArrowSchema *schema, struct ArrowArray *values,
                             struct ArrowArray *verdicts, IdpError *error) {
  const char **out = (const char **)calloc((size_t)values->length + 1, sizeof(char *));
  int64_t i;
  struct ArrowArray *v;
  (void)data;
  (void)error;
  if (strcmp(schema->format, "u") == 0) {
    const uint8_t *valid = (const uint8_t *)values->buffers[0];
    const int32_t *off = (const int32_t *)values->buffers[1];
    for (i = 0; i < values->length; i++) {
      int64_t j = i + values->offset;
      if (valid && !(valid[j / 8] & (1u << (j % 8)))) continue;
      const char *t = (const char *)values->buffers[2];
      int32_t k, chars = 0;
      for (k = off[j]; k < off[j + 1]; k++)
        if (((unsigned char)t[k] & 0xC0) != 0x80) chars++;
      if (chars > 5) out[i] = "longer than 5 characters";
    }
  }
  v = au_utf8(out, values->length);
  *verdicts = *v; /* moved */
  free(v);
  free(out);
  values->release(values);
  schema->release(schema);
  return IDP_OK;
}

/* ---- engine ------------------------------------------------------------ */

typedef struct {
  struct ArrowArrayStream *inputs;
  size_t n, at;
  char error[128];
} Union;

static int u_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  Union *u = (Union *)s->private_data;
  return u->inputs[0].get_schema(&u->inputs[0], out);
}

static int u_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  Union *u = (Union *)s->private_data;
  while (u->at < u->n) {
    struct ArrowArrayStream *in = &u->inputs[u->at];
    int rc = in->get_next(in, out);
    if (rc != 0) {
      const char *e = in->get_last_error(in);
      snprintf(u->error, sizeof u->error, "input %zu: %s", u->at + 1, e ? e : "failed");
      return rc;
    }
    if (out->release != NULL) return 0;
    u->at++;
  }
  memset(out, 0, sizeof *out);
  return 0;
}

static const char *u_error(struct ArrowArrayStream *s) { return ((Union *)s->private_data)->error; }

static void u_release(struct ArrowArrayStream *s) {
  free(s->private_data); /* the inputs are left to the host */
  s->release = NULL;
  au_live--;
}

static IdpStatus union_execute(void *data, const char *query, size_t n_inputs,
                               const char *const *names, struct ArrowArrayStream *inputs,
                               const IdpOptions *options, struct ArrowArrayStream *out,
                               IdpError *error) {
  Union *u;
  (void)data;
  (void)names;
  (void)options;
  if (strcmp(query, "union") != 0)
    return idp_set_error(error, IDP_ERR_ENGINE, "c.union only runs 'union', not: %s", query);
  if (n_inputs == 0) return idp_set_error(error, IDP_ERR_INVALID_INPUT, "c.union needs an input");
  u = (Union *)calloc(1, sizeof *u);
  u->inputs = inputs;
  u->n = n_inputs;
  out->get_schema = u_schema;
  out->get_next = u_next;
  out->get_last_error = u_error;
  out->release = u_release;
  out->private_data = u;
  au_live++;
  return IDP_OK;
}

/* ---- hook -------------------------------------------------------------- */

typedef struct {
  char path[512];
  char count[16];
  const IdpRunInfo *run; /* lent until the observer is released */
  int64_t rows, batches, stop_at;
} Tally;

static IdpStatus t_batch(IdpObserver *self, struct ArrowSchema *schema, struct ArrowArray *batch,
                         IdpError *error) {
  Tally *t = (Tally *)self->private_data;
  (void)schema;
  t->rows += batch->length;
  t->batches++;
  if (t->stop_at > 0 && t->rows >= t->stop_at)
    return idp_set_error(error, IDP_ERR_HOOK, "stopped after %lld rows", (long long)t->rows);
  return IDP_OK; /* the batch and schema are left to the host */
}

static IdpStatus t_failed(IdpObserver *self, const char *message, IdpError *error) {
  (void)self;
  (void)message;
  (void)error;
  return IDP_OK;
}

static IdpStatus t_close(IdpObserver *self, const IdpRunSummary *summary, IdpError *error) {
  Tally *t = (Tally *)self->private_data;
  FILE *f;
  /* The run info lent at open is read at close, whatever else happens. */
  if (strlen(t->run->command) == 0 || strlen(t->run->source) == 0)
    return idp_set_error(error, IDP_ERR_OTHER, "the run info is empty at close");
  if (t->path[0] == 0) return IDP_OK;
  f = fopen(t->path, "w");
  if (f == NULL) return idp_set_error(error, IDP_ERR_IO, "cannot write %s", t->path);
  fprintf(f, "command=%s source=%s count=%s rows=%lld batches=%lld records=%llu ok=%d\n",
          t->run->command, t->run->source, t->count, (long long)t->rows, (long long)t->batches,
          (unsigned long long)summary->records, summary->ok);
  fclose(f);
  return IDP_OK;
}

static void t_release(IdpObserver *self) {
  free(self->private_data);
  self->release = NULL;
}

static IdpStatus tally_open(void *data, const IdpRunInfo *run, const IdpOptions *options,
                            IdpObserver *out, IdpError *error) {
  Tally *t = (Tally *)calloc(1, sizeof *t);
  const char *path = idp_option(options, "out");
  const char *stop = idp_option(options, "stop_at");
  const char *count = idp_option(options, "count");
  (void)data;
  if (count == NULL) /* the host fills in declared defaults */
    return idp_set_error(error, IDP_ERR_INVALID_OPTION, "no count option: its default was not filled in");
  if (path) snprintf(t->path, sizeof t->path, "%s", path);
  snprintf(t->count, sizeof t->count, "%s", count);
  t->run = run;
  t->stop_at = stop ? atoll(stop) : 0;
  out->struct_size = sizeof *out;
  out->batch = t_batch;
  out->failed = t_failed;
  out->close = t_close;
  out->release = t_release;
  out->private_data = t;
  return IDP_OK;
}

/* ---- the plugin -------------------------------------------------------- */

static const char DESCRIPTION[] =
    "[plugin]\nname = \"ckinds\"\nversion = \"0.2.0\"\n"
    "description = \"one of each kind but formats, in C\"\n"
    "[[codec]]\nid = \"cxor\"\nextensions = [\"cxor\"]\ndescription = \"XOR with 0x5A\"\n"
    "[[driver]]\nid = \"cmem\"\nschemes = [\"cmem\"]\ndescription = \"an in-memory database\"\n"
    "[[rule]]\nname = \"c.short\"\ndescription = \"text of at most 5 characters\"\n"
    "[[engine]]\nid = \"c.union\"\ndescription = \"its inputs one after the other\"\nreads_paths = true\n"
    "[[hook]]\nid = \"c.tally\"\ndescription = \"counts batches and rows\"\n"
    "[[hook.option]]\nname = \"out\"\ndescription = \"where to write the counts\"\n"
    "[[hook.option]]\nname = \"stop_at\"\ntype = \"int\"\ndescription = \"stop the run after N rows\"\n"
    "[[hook.option]]\nname = \"count\"\nchoices = [\"rows\", \"batches\"]\ndefault = \"rows\"\n"
    "description = \"what to count\"\n";

static const IdpCodec XOR = {sizeof(IdpCodec), "cxor", NULL, xor_decoder, xor_encoder};
static const IdpDriver MEM = {sizeof(IdpDriver), "cmem", NULL, mem_connect};
static const IdpRule SHORT = {sizeof(IdpRule), "c.short", NULL, short_check};
static const IdpEngine UNION = {sizeof(IdpEngine), "c.union", NULL, union_execute};
static const IdpHook TALLY = {sizeof(IdpHook), "c.tally", NULL, tally_open};
static const IdpCodec *const CODECS[] = {&XOR};
static const IdpDriver *const DRIVERS[] = {&MEM};
static const IdpRule *const RULES[] = {&SHORT};
static const IdpEngine *const ENGINES[] = {&UNION};
static const IdpHook *const HOOKS[] = {&TALLY};

static const IdpPlugin PLUGIN = {sizeof(IdpPlugin), IDP_ABI_MAJOR, IDP_ABI_MINOR, DESCRIPTION,
                                 0, NULL, 1, CODECS, 1, DRIVERS, 1, RULES, 1, ENGINES, 1, HOOKS};

AU_EXPORT const IdpPlugin *iterabledata_plugin_entry(uint32_t major, uint32_t minor) {
  (void)minor;
  return major == IDP_ABI_MAJOR ? &PLUGIN : NULL;
}

/*
 * cfaults: formats in C that misbehave on purpose, for the host's fault
 * tests. Each is reached by its own extension:
 *   .ccount  three good batches; counts what the host releases (idp_test_live)
 *            and, as a writer, never releases the batches it is given
 *   .cerror  fails: at the second batch, or when opened (--option at=open)
 *   .cbad    hands over malformed Arrow (--option how=offsets|utf8|children|length)
 *   .cnorel  hands over a batch with data but no release callback
 *   .csegv   segfaults in the third batch of a read (run it isolated)
 *   .csize   one record, {"size_hint": N}: what its byte source said
 */
#include "arrow_util.h"

#include <errno.h>

enum mode { M_COUNT, M_ERROR, M_BAD, M_NOREL, M_SEGV, M_SIZE };

typedef struct {
  enum mode mode;
  const char *how;
  int batch;
  intptr_t batch_zero; /* always 0: a NULL the compiler cannot see */
  int64_t size_hint;
  char error[128];
} Stream;

static const char *const NAMES[] = {"id", "name"};
static const char *const FORMATS[] = {"l", "u"};

static const char *const SIZE_NAMES[] = {"size_hint"};
static const char *const SIZE_FORMATS[] = {"l"};

static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  if (((Stream *)s->private_data)->mode == M_SIZE)
    au_schema(out, SIZE_NAMES, SIZE_FORMATS, 1);
  else
    au_schema(out, NAMES, FORMATS, 2);
  return 0;
}

static void good_batch(struct ArrowArray *out, int batch) {
  int64_t ids[2];
  const char *names[2];
  struct ArrowArray *cols[2];
  ids[0] = batch * 2 + 1;
  ids[1] = batch * 2 + 2;
  names[0] = batch == 1 ? "é" : "a";
  names[1] = NULL;
  cols[0] = au_int64(ids, 2);
  cols[1] = au_utf8(names, 2);
  au_struct(out, 2, cols, 2);
}

static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  Stream *st = (Stream *)s->private_data;
  int b = st->batch++;
  memset(out, 0, sizeof *out);
  switch (st->mode) {
  case M_SIZE:
    if (b == 0) {
      struct ArrowArray *cols[1];
      cols[0] = au_int64(&st->size_hint, 1);
      au_struct(out, 1, cols, 1);
    }
    return 0;
  case M_COUNT:
    if (b < 3) good_batch(out, b);
    return 0;
  case M_ERROR:
    if (b == 0) {
      good_batch(out, b);
      return 0;
    }
    snprintf(st->error, sizeof st->error, "line 3: broken on purpose");
    return EINVAL;
  case M_SEGV:
    if (b == 2) *(volatile int *)(intptr_t)st->batch_zero = 1; /* NULL: the fault */
    if (b < 5) good_batch(out, b);
    return 0;
  case M_NOREL:
    if (b == 0) {
      good_batch(out, b);
      /* The bug: the batch has data but no release callback (its memory
       * leaks; the host must not take the batch for the end). */
      au_live--;
      out->release = NULL;
    }
    return 0;
  case M_BAD:
    if (b > 0) return 0;
    good_batch(out, b);
    if (strcmp(st->how, "offsets") == 0) {
      /* The offsets go backwards: the first name ends 100 bytes into a
       * buffer whose last offset says it holds 1. (An offset past the end
       * of the buffer cannot be seen: the C Data Interface does not carry
       * buffer sizes, the importer takes the last offset for the size.) */
      int32_t *off = (int32_t *)out->children[1]->buffers[1];
      off[1] = 100;
    } else if (strcmp(st->how, "utf8") == 0) {
      char *data = (char *)out->children[1]->buffers[2];
      data[0] = (char)0xff;
    } else if (strcmp(st->how, "children") == 0) {
      out->n_children = 1; /* the schema has two */
      out->children[1]->release(out->children[1]);
      free(out->children[1]);
    } else {
      out->children[0]->length = 1; /* the batch has two rows */
    }
    return 0;
  }
  return 0;
}

static const char *last_error(struct ArrowArrayStream *s) {
  return ((Stream *)s->private_data)->error;
}

static void release_stream(struct ArrowArrayStream *s) {
  if (s->release == NULL) {
    au_double_release++;
    return;
  }
  free(s->private_data);
  s->release = NULL;
  au_live--;
}

static IdpStatus open_reader(void *data, IdpByteSource *input, const IdpOptions *options,
                             struct ArrowArrayStream *out, IdpError *error) {
  Stream *st;
  const char *at = idp_option(options, "at");
  if ((enum mode)(intptr_t)data == M_ERROR && at != NULL && strcmp(at, "open") == 0)
    return idp_set_error(error, IDP_ERR_PARSE, "refused to open: broken on purpose");
  st = (Stream *)calloc(1, sizeof *st);
  st->mode = (enum mode)(intptr_t)data;
  st->how = idp_option(options, "how");
  if (st->how == NULL) st->how = "offsets";
  st->size_hint = input->struct_size >= offsetof(IdpByteSource, size_hint) + sizeof(int64_t)
                      ? input->size_hint
                      : -2;
  out->get_schema = get_schema;
  out->get_next = get_next;
  out->get_last_error = last_error;
  out->release = release_stream;
  out->private_data = st;
  au_live++;
  return IDP_OK;
}

/* The counting writer: keeps nothing it is given (the host releases what
 * is left) and writes how many rows it saw. */
static int64_t rows_written = 0;

static IdpStatus w_write(IdpBatchWriter *self, struct ArrowSchema *schema, struct ArrowArray *batch,
                         IdpError *error) {
  (void)schema;
  (void)error;
  *(int64_t *)self->private_data += batch->length;
  return IDP_OK;
}

static IdpStatus w_finish(IdpBatchWriter *self, IdpError *error) {
  IdpByteSink *sink = (IdpByteSink *)((int64_t *)self->private_data)[1];
  char line[64];
  int n = snprintf(line, sizeof line, "rows=%lld\n", (long long)*(int64_t *)self->private_data);
  rows_written = *(int64_t *)self->private_data;
  return sink->write(sink, (const uint8_t *)line, (size_t)n, error);
}

static void w_release(IdpBatchWriter *self) {
  free(self->private_data);
  self->release = NULL;
}

static IdpStatus open_writer(void *data, IdpByteSink *output, const IdpOptions *options,
                             IdpBatchWriter *out, IdpError *error) {
  int64_t *state = (int64_t *)calloc(2, sizeof(int64_t));
  (void)data;
  (void)options;
  (void)error;
  state[1] = (int64_t)(intptr_t)output;
  out->struct_size = sizeof *out;
  out->write = w_write;
  out->finish = w_finish;
  out->release = w_release;
  out->private_data = state;
  return IDP_OK;
}

static const char DESCRIPTION[] =
    "[plugin]\nname = \"cfaults\"\nversion = \"0.1.0\"\n"
    "description = \"formats in C that misbehave on purpose\"\n"
    "[[format]]\nid = \"ccount\"\nextensions = [\"ccount\"]\nwrite = true\n"
    "[[format]]\nid = \"cerror\"\nextensions = [\"cerror\"]\n"
    "[[format.option]]\nname = \"at\"\nchoices = [\"open\", \"batch\"]\n"
    "[[format]]\nid = \"cbad\"\nextensions = [\"cbad\"]\n"
    "[[format.option]]\nname = \"how\"\nchoices = [\"offsets\", \"utf8\", \"children\", \"length\"]\n"
    "[[format]]\nid = \"cnorel\"\nextensions = [\"cnorel\"]\n"
    "[[format]]\nid = \"csegv\"\nextensions = [\"csegv\"]\n"
    "[[format]]\nid = \"csize\"\nextensions = [\"csize\"]\n";

static const IdpFormat COUNT = {sizeof(IdpFormat), "ccount", (void *)M_COUNT, open_reader, open_writer, 0};
static const IdpFormat ERROR = {sizeof(IdpFormat), "cerror", (void *)M_ERROR, open_reader, NULL, 0};
static const IdpFormat BAD = {sizeof(IdpFormat), "cbad", (void *)M_BAD, open_reader, NULL, 0};
static const IdpFormat NOREL = {sizeof(IdpFormat), "cnorel", (void *)M_NOREL, open_reader, NULL, 0};
static const IdpFormat SEGV = {sizeof(IdpFormat), "csegv", (void *)M_SEGV, open_reader, NULL, 0};
static const IdpFormat SIZE = {sizeof(IdpFormat), "csize", (void *)M_SIZE, open_reader, NULL, 0};
static const IdpFormat *const LIST[] = {&COUNT, &ERROR, &BAD, &NOREL, &SEGV, &SIZE};

static const IdpPlugin PLUGIN = {sizeof(IdpPlugin), IDP_ABI_MAJOR, IDP_ABI_MINOR, DESCRIPTION,
                                 6, LIST, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL};

AU_EXPORT int64_t idp_test_rows_written(void) { return rows_written; }

AU_EXPORT const IdpPlugin *iterabledata_plugin_entry(uint32_t major, uint32_t minor) {
  (void)minor;
  return major == IDP_ABI_MAJOR ? &PLUGIN : NULL;
}

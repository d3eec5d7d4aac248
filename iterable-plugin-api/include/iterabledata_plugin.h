/*
 * iterabledata_plugin.h: the C ABI of IterableData plugins.
 *
 * A plugin is a shared library that exports one function,
 *
 *     const IdpPlugin *iterabledata_plugin_entry(uint32_t host_major,
 *                                                uint32_t host_minor);
 *
 * and, through the IdpPlugin it returns, any number of formats, codecs,
 * drivers, rules, engines and hooks. Records cross the boundary as Arrow
 * (the Arrow C data and stream interfaces); bytes cross it through small
 * callback structs. This header is all a plugin needs: no Rust, no library
 * to link.
 *
 * VERSIONING
 *   IDP_ABI_MAJOR changes only when something is removed or changed; a host
 *   loads plugins of its own major only. IDP_ABI_MINOR grows when fields are
 *   added. Fields are only ever added at the end of a struct, and every
 *   struct that can grow starts with `struct_size`, set by whoever fills it
 *   to sizeof() as it was compiled. A host reads only the fields that fit in
 *   a plugin's struct_size (a field added after the plugin was built reads
 *   as absent), and a plugin reads the host's structs only up to the fields
 *   its header has. Use IDP_HAS_FIELD() to test for a field.
 *   Structs without struct_size (IdpError, IdpOption, IdpOptions and the
 *   Arrow structs) are frozen for the major version.
 *
 * THE DESCRIPTION
 *   IdpPlugin.description is the text of the plugin's manifest (TOML, the
 *   plugin.toml format of docs/manifest.md, without the `library` key):
 *   names, versions, extensions, magic bytes, options. The structs below
 *   carry only what runs: an id and the functions.
 *
 * OWNERSHIP
 *   - A function returns IDP_OK (0) or an error code, and on error fills
 *     *error: a code, a message it owns, and a release callback that the
 *     host calls once (idp_set_error() does all three).
 *   - Structs a call is handed (an IdpByteSource to read from, an
 *     IdpByteSink to write to, IdpOptions, IdpRunInfo) are lent: they stay
 *     valid until what the call returns is released. Never release them.
 *   - Structs a call fills in `out` (streams, writers, connections,
 *     observers, byte sources and sinks) belong to the host, which calls
 *     their release exactly once.
 *   - Arrow structs follow the Arrow C data interface: the receiver owns
 *     what it is given. A plugin handed an ArrowArray or ArrowSchema may
 *     release it, or move it (copy the struct, then set the original's
 *     release to NULL) to keep it; whatever it leaves unreleased, the host
 *     releases when the call returns (or, for an engine's input streams,
 *     when the engine's result is released).
 *   - Every Arrow array a plugin hands over is validated by the host before
 *     it is read; a malformed array is refused with an error that names the
 *     plugin. The C Data Interface carries no buffer sizes: the host derives
 *     them from lengths and offsets, so a buffer shorter than its array says
 *     cannot be seen, and is the plugin's bug.
 *
 * THREADS AND ERRORS
 *   Calls on one object come from one thread at a time, not always the
 *   same. A plugin must not unwind (C++ exceptions, Rust panics) across any
 *   function of this header: catch everything at the boundary.
 */
#ifndef ITERABLEDATA_PLUGIN_H
#define ITERABLEDATA_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IDP_ABI_MAJOR 1
#define IDP_ABI_MINOR 1

/* The one symbol a plugin exports. */
#define IDP_ENTRY_SYMBOL "iterabledata_plugin_entry"

/* Whether the struct at `ptr` (which starts with struct_size) is long
 * enough to hold `field`. */
#define IDP_HAS_FIELD(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ------------------------------------------------------------------------
 * The Arrow C data interface and C stream interface, as the Arrow format
 * specifies them (https://arrow.apache.org/docs/format/CDataInterface.html).
 * The guards are the ones the specification asks for, so that this header
 * and Arrow's own can be included together.
 * ------------------------------------------------------------------------ */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;
  void (*release)(struct ArrowSchema *);
  void *private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  void (*release)(struct ArrowArray *);
  void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
  int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
  const char *(*get_last_error)(struct ArrowArrayStream *);
  void (*release)(struct ArrowArrayStream *);
  void *private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

/* ------------------------------------------------------------------------
 * Status codes and errors (frozen)
 * ------------------------------------------------------------------------ */

typedef int32_t IdpStatus;

#define IDP_OK 0
#define IDP_ERR_IO 1             /* the operating system said no */
#define IDP_ERR_PARSE 2          /* the input is not well-formed */
#define IDP_ERR_INVALID_OPTION 3 /* an option's value is not valid */
#define IDP_ERR_UNSUPPORTED 4    /* the operation is not supported */
#define IDP_ERR_SCHEMA 5         /* a batch does not fit what is written */
#define IDP_ERR_DRIVER 6         /* a database failed */
#define IDP_ERR_ENGINE 7         /* a query failed */
#define IDP_ERR_INVALID_INPUT 8  /* the caller passed something invalid */
#define IDP_ERR_HOOK 9           /* a hook stops the run */
#define IDP_ERR_OTHER 10         /* anything else */

/* An error a function reports. The host passes it zeroed; the plugin sets
 * code and message, and release if the message must be freed. */
typedef struct IdpError {
  int32_t code;
  const char *message; /* UTF-8, NUL-terminated; owned by the plugin */
  void (*release)(struct IdpError *self);
  void *private_data;
} IdpError;

/* ------------------------------------------------------------------------
 * Options (frozen): KEY=VALUE pairs, already checked by the host against
 * the options the description declares.
 * ------------------------------------------------------------------------ */

typedef struct IdpOption {
  const char *key;
  const char *value;
} IdpOption;

typedef struct IdpOptions {
  size_t count;
  const IdpOption *items;
} IdpOptions;

/* ------------------------------------------------------------------------
 * Bytes
 * ------------------------------------------------------------------------ */

/* Bytes to read. `read` fills up to `cap` bytes of `buf` and returns how
 * many (0 at the end), or -1 after filling *error. */
typedef struct IdpByteSource {
  uint32_t struct_size;
  int64_t (*read)(struct IdpByteSource *self, uint8_t *buf, size_t cap,
                  IdpError *error);
  /* NULL in a source the host lends. */
  void (*release)(struct IdpByteSource *self);
  void *private_data;
  /* Since 1.1: the total number of bytes, or -1 when unknown. */
  int64_t size_hint;
} IdpByteSource;

/* Bytes to write. In a sink the host lends, `finish` and `release` are
 * NULL: the host completes its own output. */
typedef struct IdpByteSink {
  uint32_t struct_size;
  IdpStatus (*write)(struct IdpByteSink *self, const uint8_t *buf, size_t len,
                     IdpError *error);
  IdpStatus (*finish)(struct IdpByteSink *self, IdpError *error);
  void (*release)(struct IdpByteSink *self);
  void *private_data;
} IdpByteSink;

/* ------------------------------------------------------------------------
 * Records out: a writer of Arrow batches. Each batch is a struct array
 * (one child per field) with its struct schema. `finish` completes the
 * output (a driver's writer commits); releasing a writer that was not
 * finished abandons the output (a driver's writer rolls back).
 * ------------------------------------------------------------------------ */

typedef struct IdpBatchWriter {
  uint32_t struct_size;
  IdpStatus (*write)(struct IdpBatchWriter *self, struct ArrowSchema *schema,
                     struct ArrowArray *batch, IdpError *error);
  IdpStatus (*finish)(struct IdpBatchWriter *self, IdpError *error);
  void (*release)(struct IdpBatchWriter *self);
  void *private_data;
} IdpBatchWriter;

/* ------------------------------------------------------------------------
 * The six kinds. `id` (a rule's `name`) matches the description; `data` is
 * the plugin's own, passed back to each function.
 * ------------------------------------------------------------------------ */

/* Since 1.1, IdpFormat.flags: the writer wants every column as UTF-8 text
 * (the host renders dates, numbers and nested values in their text form). */
#define IDP_FORMAT_WRITE_TEXT 1u

/* A file format. open_reader returns the records of `input` as a stream of
 * struct arrays; open_writer returns a writer that encodes batches into
 * `output`. Either may be NULL when the format cannot do it. */
typedef struct IdpFormat {
  uint32_t struct_size;
  const char *id;
  void *data;
  IdpStatus (*open_reader)(void *data, IdpByteSource *input,
                           const IdpOptions *options,
                           struct ArrowArrayStream *out, IdpError *error);
  IdpStatus (*open_writer)(void *data, IdpByteSink *output,
                           const IdpOptions *options, IdpBatchWriter *out,
                           IdpError *error);
  /* Since 1.1: IDP_FORMAT_* bits. */
  uint32_t flags;
} IdpFormat;

/* No level given: use the codec's default. */
#define IDP_LEVEL_DEFAULT INT32_MIN

/* A compression codec: bytes to bytes, both ways. */
typedef struct IdpCodec {
  uint32_t struct_size;
  const char *id;
  void *data;
  IdpStatus (*decoder)(void *data, IdpByteSource *input, IdpByteSource *out,
                       IdpError *error);
  IdpStatus (*encoder)(void *data, IdpByteSink *output, int32_t level,
                       IdpByteSink *out, IdpError *error);
} IdpCodec;

#define IDP_READ_TABLE 1
#define IDP_READ_QUERY 2

/* An open database connection. list_tables returns a stream with one
 * UTF-8 column; read returns a table (IDP_READ_TABLE, `text` is its name)
 * or a query's result (IDP_READ_QUERY); write returns a writer into a
 * table, committed by its finish and rolled back otherwise. */
typedef struct IdpConnection {
  uint32_t struct_size;
  IdpStatus (*list_tables)(struct IdpConnection *self,
                           struct ArrowArrayStream *out, IdpError *error);
  IdpStatus (*read)(struct IdpConnection *self, int32_t what, const char *text,
                    const IdpOptions *options, struct ArrowArrayStream *out,
                    IdpError *error);
  IdpStatus (*write)(struct IdpConnection *self, const char *table,
                     const IdpOptions *options, IdpBatchWriter *out,
                     IdpError *error);
  void (*release)(struct IdpConnection *self);
  void *private_data;
} IdpConnection;

/* A database driver, chosen by URI scheme. */
typedef struct IdpDriver {
  uint32_t struct_size;
  const char *id;
  void *data;
  IdpStatus (*connect)(void *data, const char *uri, const IdpOptions *options,
                       IdpConnection *out, IdpError *error);
} IdpDriver;

/* A validation rule. check receives one column of values and fills
 * `verdicts` with a UTF-8 array of the same length: null where a value
 * passes, the reason where it does not. */
typedef struct IdpRule {
  uint32_t struct_size;
  const char *name;
  void *data;
  IdpStatus (*check)(void *data, struct ArrowSchema *schema,
                     struct ArrowArray *values, struct ArrowArray *verdicts,
                     IdpError *error);
} IdpRule;

/* A processing engine: runs `query` over named input streams and returns
 * its result as a stream. The inputs belong to the engine (see OWNERSHIP). */
typedef struct IdpEngine {
  uint32_t struct_size;
  const char *id;
  void *data;
  IdpStatus (*execute)(void *data, const char *query, size_t n_inputs,
                       const char *const *names,
                       struct ArrowArrayStream *inputs,
                       const IdpOptions *options, struct ArrowArrayStream *out,
                       IdpError *error);
} IdpEngine;

/* What a run reads and writes, told to a hook when it opens. */
typedef struct IdpRunInfo {
  uint32_t struct_size;
  const char *command;
  const char *source;
  const char *target; /* NULL when the run writes to stdout */
  const char *format;
} IdpRunInfo;

/* How a run ended, told to a hook when it closes. */
typedef struct IdpRunSummary {
  uint32_t struct_size;
  uint64_t records;
  uint64_t bytes_read; /* before decompression; 0 when unknown */
  int32_t ok;
} IdpRunSummary;

/* One run as a hook observes it: each batch read, an error (at most once),
 * then close. An error returned from batch stops the run. */
typedef struct IdpObserver {
  uint32_t struct_size;
  IdpStatus (*batch)(struct IdpObserver *self, struct ArrowSchema *schema,
                     struct ArrowArray *batch, IdpError *error);
  IdpStatus (*failed)(struct IdpObserver *self, const char *message,
                      IdpError *error);
  IdpStatus (*close)(struct IdpObserver *self, const IdpRunSummary *summary,
                     IdpError *error);
  void (*release)(struct IdpObserver *self);
  void *private_data;
} IdpObserver;

/* A hook: observes the record stream of a run, read-only. Its options are
 * checked against the ones its description declares, and every declared
 * option with a default that was not given comes with its default. The run
 * info stays valid until the observer is released. */
typedef struct IdpHook {
  uint32_t struct_size;
  const char *id;
  void *data;
  IdpStatus (*open)(void *data, const IdpRunInfo *run,
                    const IdpOptions *options, IdpObserver *out,
                    IdpError *error);
} IdpHook;

/* ------------------------------------------------------------------------
 * The plugin
 * ------------------------------------------------------------------------ */

typedef struct IdpPlugin {
  uint32_t struct_size;
  uint32_t abi_major; /* IDP_ABI_MAJOR as the plugin was built */
  uint32_t abi_minor; /* IDP_ABI_MINOR as the plugin was built */
  const char *description; /* the manifest's text, TOML */
  size_t n_formats;
  const IdpFormat *const *formats;
  size_t n_codecs;
  const IdpCodec *const *codecs;
  size_t n_drivers;
  const IdpDriver *const *drivers;
  size_t n_rules;
  const IdpRule *const *rules;
  size_t n_engines;
  const IdpEngine *const *engines;
  size_t n_hooks;
  const IdpHook *const *hooks;
} IdpPlugin;

/* The entry point's type. It returns NULL when the plugin cannot work with
 * this host (say, it needs a later minor). Called once per process. */
typedef const IdpPlugin *(*IdpEntryFn)(uint32_t host_major,
                                       uint32_t host_minor);

/* ------------------------------------------------------------------------
 * Helpers for plugin authors (static inline: nothing to link)
 * ------------------------------------------------------------------------ */

static inline void idp_error_free_(IdpError *self) {
  free((void *)self->message);
  self->message = NULL;
}

/* Fills *error with `code` and a printf-style message; returns `code`. */
static inline IdpStatus idp_set_error(IdpError *error, IdpStatus code,
                                      const char *fmt, ...) {
  va_list ap;
  char *text;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  text = (char *)malloc(n > 0 ? (size_t)n + 1 : 1);
  if (text != NULL) {
    va_start(ap, fmt);
    vsnprintf(text, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
  }
  error->code = code;
  error->message = text;
  error->release = text != NULL ? idp_error_free_ : NULL;
  error->private_data = NULL;
  return code;
}

/* The value of option `key`, or NULL. */
static inline const char *idp_option(const IdpOptions *options,
                                     const char *key) {
  size_t i;
  if (options == NULL) return NULL;
  for (i = 0; i < options->count; i++)
    if (strcmp(options->items[i].key, key) == 0) return options->items[i].value;
  return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* ITERABLEDATA_PLUGIN_H */

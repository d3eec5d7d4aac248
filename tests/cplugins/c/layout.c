/* The size of every struct of iterabledata_plugin.h and the offset of every
 * field, as this C compiler lays them out; compared with the Rust
 * definitions (iterable_plugin_api::c::layout) by tests/layout.rs. */
#include "iterabledata_plugin.h"

typedef struct {
  const char *name;
  size_t value;
} IdpLayoutEntry;

#define SA(T) {#T, sizeof(struct T)}
#define FA(T, f) {#T "." #f, offsetof(struct T, f)}
#define S(T) {#T, sizeof(T)}
#define F(T, f) {#T "." #f, offsetof(T, f)}

static const IdpLayoutEntry ENTRIES[] = {
    SA(ArrowSchema), FA(ArrowSchema, format), FA(ArrowSchema, name), FA(ArrowSchema, metadata),
    FA(ArrowSchema, flags), FA(ArrowSchema, n_children), FA(ArrowSchema, children),
    FA(ArrowSchema, dictionary), FA(ArrowSchema, release), FA(ArrowSchema, private_data),
    SA(ArrowArray), FA(ArrowArray, length), FA(ArrowArray, null_count), FA(ArrowArray, offset),
    FA(ArrowArray, n_buffers), FA(ArrowArray, n_children), FA(ArrowArray, buffers),
    FA(ArrowArray, children), FA(ArrowArray, dictionary), FA(ArrowArray, release),
    FA(ArrowArray, private_data),
    SA(ArrowArrayStream), FA(ArrowArrayStream, get_schema), FA(ArrowArrayStream, get_next),
    FA(ArrowArrayStream, get_last_error), FA(ArrowArrayStream, release),
    FA(ArrowArrayStream, private_data),
    S(IdpError), F(IdpError, code), F(IdpError, message), F(IdpError, release),
    F(IdpError, private_data),
    S(IdpOption), F(IdpOption, key), F(IdpOption, value),
    S(IdpOptions), F(IdpOptions, count), F(IdpOptions, items),
    S(IdpByteSource), F(IdpByteSource, struct_size), F(IdpByteSource, read),
    F(IdpByteSource, release), F(IdpByteSource, private_data), F(IdpByteSource, size_hint),
    S(IdpByteSink), F(IdpByteSink, struct_size), F(IdpByteSink, write), F(IdpByteSink, finish),
    F(IdpByteSink, release), F(IdpByteSink, private_data),
    S(IdpBatchWriter), F(IdpBatchWriter, struct_size), F(IdpBatchWriter, write),
    F(IdpBatchWriter, finish), F(IdpBatchWriter, release), F(IdpBatchWriter, private_data),
    S(IdpFormat), F(IdpFormat, struct_size), F(IdpFormat, id), F(IdpFormat, data),
    F(IdpFormat, open_reader), F(IdpFormat, open_writer), F(IdpFormat, flags),
    S(IdpCodec), F(IdpCodec, struct_size), F(IdpCodec, id), F(IdpCodec, data),
    F(IdpCodec, decoder), F(IdpCodec, encoder),
    S(IdpConnection), F(IdpConnection, struct_size), F(IdpConnection, list_tables),
    F(IdpConnection, read), F(IdpConnection, write), F(IdpConnection, release),
    F(IdpConnection, private_data),
    S(IdpDriver), F(IdpDriver, struct_size), F(IdpDriver, id), F(IdpDriver, data),
    F(IdpDriver, connect),
    S(IdpRule), F(IdpRule, struct_size), F(IdpRule, name), F(IdpRule, data), F(IdpRule, check),
    S(IdpEngine), F(IdpEngine, struct_size), F(IdpEngine, id), F(IdpEngine, data),
    F(IdpEngine, execute),
    S(IdpRunInfo), F(IdpRunInfo, struct_size), F(IdpRunInfo, command), F(IdpRunInfo, source),
    F(IdpRunInfo, target), F(IdpRunInfo, format),
    S(IdpRunSummary), F(IdpRunSummary, struct_size), F(IdpRunSummary, records),
    F(IdpRunSummary, bytes_read), F(IdpRunSummary, ok),
    S(IdpObserver), F(IdpObserver, struct_size), F(IdpObserver, batch), F(IdpObserver, failed),
    F(IdpObserver, close), F(IdpObserver, release), F(IdpObserver, private_data),
    S(IdpHook), F(IdpHook, struct_size), F(IdpHook, id), F(IdpHook, data), F(IdpHook, open),
    S(IdpPlugin), F(IdpPlugin, struct_size), F(IdpPlugin, abi_major), F(IdpPlugin, abi_minor),
    F(IdpPlugin, description), F(IdpPlugin, n_formats), F(IdpPlugin, formats),
    F(IdpPlugin, n_codecs), F(IdpPlugin, codecs), F(IdpPlugin, n_drivers), F(IdpPlugin, drivers),
    F(IdpPlugin, n_rules), F(IdpPlugin, rules), F(IdpPlugin, n_engines), F(IdpPlugin, engines),
    F(IdpPlugin, n_hooks), F(IdpPlugin, hooks),
};

const IdpLayoutEntry *idp_layout(size_t *n) {
  *n = sizeof ENTRIES / sizeof ENTRIES[0];
  return ENTRIES;
}

/* The header's constants, compared too. */
const uint32_t IDP_LAYOUT_ABI[2] = {IDP_ABI_MAJOR, IDP_ABI_MINOR};
const int32_t IDP_LAYOUT_LEVEL_DEFAULT = IDP_LEVEL_DEFAULT;

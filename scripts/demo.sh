#!/usr/bin/env bash
# The main job: build the workspace and the example plugins, install the
# plugins into target/demo/plugins (never the user's home), and show
# `list-plugins` and real conversions through plugins.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building (release)"
cargo build --release --workspace
BIN=target/release/iterable-host
WORK=target/demo
PLUGINS="$WORK/plugins"
rm -rf "$WORK" && mkdir -p "$PLUGINS"
# Keep the demo away from the user's configuration and scan cache.
export ITERABLEDATA_HOME="$PWD/$WORK/home"
export XDG_CACHE_HOME="$PWD/$WORK/cache"
unset ITERABLEDATA_PLUGIN_PATH ITERABLEDATA_NO_PLUGINS

echo "== installing the example plugins into $PLUGINS (each plugin.toml written from its library)"
for name in ltsv lz4 sqlite idrules sqlengine audit parquet xlsx xml; do
  "$BIN" install "target/release/libiterable_plugin_$name.so" --dir "$PLUGINS"
done
echo "== compiling the fwf plugin, written in C, from iterabledata_plugin.h alone (${CC:-cc})"
mkdir -p "$WORK/build"
"${CC:-cc}" -O2 -std=c99 -shared -fPIC -fvisibility=hidden -I iterable-plugin-api/include \
  plugins-examples/fwf/fwf.c -o "$WORK/build/libiterable_fwf.so"
"$BIN" install "$WORK/build/libiterable_fwf.so" --dir "$PLUGINS"
host() { "$BIN" --plugin-dir "$PLUGINS" "$@"; }

echo
echo "== iterable-host list-plugins"
host list-plugins

printf 'id,name,city,iban\n1,Ann,"Oslo, NO",GB82WEST12345698765432\n2,Bo,Riga,GB82WEST12345698765433\n3,Cé,Oslo,DE89370400440532013000\n' \
  | gzip > "$WORK/rows.csv.gz"

echo
echo "== convert rows.csv.gz rows.ltsv.lz4   (plugin format ltsv, plugin codec lz4)"
host convert "$WORK/rows.csv.gz" "$WORK/rows.ltsv.lz4"
echo "== cat rows.ltsv.lz4"
host cat "$WORK/rows.ltsv.lz4"
if command -v lz4 >/dev/null; then
  echo "== lz4 -dc rows.ltsv.lz4   (the standard lz4 tool reads it)"
  lz4 -dc "$WORK/rows.ltsv.lz4"
fi

echo
echo "== convert rows.csv.gz sqlite://.../demo.db --table people   (plugin driver)"
host convert "$WORK/rows.csv.gz" "sqlite://$PWD/$WORK/demo.db" --table people
host cat "sqlite://$PWD/$WORK/demo.db" --query "SELECT name, city FROM people ORDER BY id"

echo
echo "== validate --rule iban=id.iban   (plugin rule)"
host validate "$WORK/rows.csv.gz" --rule iban=id.iban --mode invalid

echo
echo "== query --engine sql   (plugin engine)"
host query --engine sql 'SELECT city, count(*) AS n FROM data GROUP BY city ORDER BY city' "$WORK/rows.csv.gz"

echo
echo "== convert ... --hook audit   (plugin hook: a JSON profile of the run)"
host convert "$WORK/rows.csv.gz" "$WORK/rows.jsonl" --hook audit --hook-option "audit.path=$WORK/profile.json"
cat "$WORK/profile.json"

echo
echo "== CSV -> Parquet -> JSON lines   (plugin format parquet, typed columns)"
printf 'id,name,price,day\n1,Ann,2.50,2024-01-31\n2,Bö,,2024-02-01\n3,Cy,10.00,\n' > "$WORK/prices.csv"
host convert "$WORK/prices.csv" "$WORK/prices.parquet" \
  --out-option 'schema=id: int32, name: string, price: decimal(6, 2), day: date'
host info parquet | grep -E '^(format|  option)'
host convert "$WORK/prices.parquet" "$WORK/prices.jsonl"
cat "$WORK/prices.jsonl"

echo
echo "== a sheet of a workbook   (plugin format xlsx)"
host convert "$WORK/prices.parquet" "$WORK/book.xlsx" --out-option sheet=Prices
host cat "$WORK/book.xlsx" --option sheet=Prices

echo
echo "== XML records   (plugin format xml)"
host convert "$WORK/prices.parquet" "$WORK/prices.xml" --out-option root=prices --out-option tagname=item
cat "$WORK/prices.xml"
host cat "$WORK/prices.xml" --option tagname=item

echo
echo "== fixed-width text   (plugin format fwf, written in C; records cross as Arrow)"
host convert "$WORK/prices.parquet" "$WORK/prices.fwf"
cat "$WORK/prices.fwf"
host cat "$WORK/prices.fwf" --option 'columns=id:4:int,name:6,price:7:float,day:10'

echo
echo "== the same plugins out of process   (--isolate-plugins: each in a sandboxed runner)"
host --isolate-plugins convert "$WORK/rows.csv.gz" "$WORK/rows-isolated.ltsv.lz4"
if cmp -s "$WORK/rows.ltsv.lz4" "$WORK/rows-isolated.ltsv.lz4"; then
  echo "   the same bytes as in process"
else
  echo "   demo: isolated output differs from the in-process one" >&2
  exit 1
fi
host --isolate-plugins list-plugins | head -4

echo
echo "== the datafusion engine plugin builds apart (a workspace of its own; about 7 minutes in debug):"
echo "   scripts/datafusion.sh build   then   iterable-host install <the library it prints>"

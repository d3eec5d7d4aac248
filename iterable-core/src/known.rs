//! Well-known names of formats and codecs, for messages only.
//!
//! A file called `x.csv.br` that no installed codec decompresses must not be
//! read as CSV (it would fail on "invalid UTF-8", or worse, succeed with the
//! wrong records). Detection asks this table, and only when no provider
//! claims an extension, so that it can say "'.br' is Brotli, and no
//! installed codec provides it". Nothing here is ever used to read or write.

/// What a well-known extension names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownKind {
    /// A compression codec or an archive (`br`, `zip`).
    Codec,
    /// A file format (`parquet`, `yaml`).
    Format,
}

/// Extension, kind, and the name people know it by.
const TABLE: &[(&str, KnownKind, &str)] = &[
    // Codecs and archives.
    ("7z", KnownKind::Codec, "a 7-Zip archive"),
    ("br", KnownKind::Codec, "Brotli"),
    ("bz", KnownKind::Codec, "bzip2"),
    ("bz2", KnownKind::Codec, "bzip2"),
    ("gz", KnownKind::Codec, "gzip"),
    ("lz", KnownKind::Codec, "lzip"),
    ("lz4", KnownKind::Codec, "LZ4"),
    ("lzma", KnownKind::Codec, "LZMA"),
    ("lzo", KnownKind::Codec, "LZO"),
    ("rar", KnownKind::Codec, "a RAR archive"),
    ("snappy", KnownKind::Codec, "Snappy"),
    ("sz", KnownKind::Codec, "Snappy (framed)"),
    ("tar", KnownKind::Codec, "a tar archive"),
    ("tgz", KnownKind::Codec, "a gzip-compressed tar archive"),
    ("xz", KnownKind::Codec, "XZ"),
    ("z", KnownKind::Codec, "Unix compress"),
    ("zip", KnownKind::Codec, "a ZIP archive"),
    ("zst", KnownKind::Codec, "Zstandard"),
    ("zstd", KnownKind::Codec, "Zstandard"),
    // Formats.
    ("arrow", KnownKind::Format, "Arrow IPC (file)"),
    ("arrows", KnownKind::Format, "Arrow IPC (stream)"),
    ("avro", KnownKind::Format, "Apache Avro"),
    ("bson", KnownKind::Format, "BSON"),
    ("cbor", KnownKind::Format, "CBOR"),
    ("dbf", KnownKind::Format, "dBASE"),
    ("dta", KnownKind::Format, "Stata"),
    ("feather", KnownKind::Format, "Feather (Arrow IPC)"),
    ("geojson", KnownKind::Format, "GeoJSON"),
    ("gml", KnownKind::Format, "GML"),
    ("h5", KnownKind::Format, "HDF5"),
    ("hdf5", KnownKind::Format, "HDF5"),
    ("ics", KnownKind::Format, "iCalendar"),
    ("jsonld", KnownKind::Format, "JSON-LD"),
    ("kml", KnownKind::Format, "KML"),
    ("ltsv", KnownKind::Format, "LTSV"),
    ("mp", KnownKind::Format, "MessagePack"),
    ("msgpack", KnownKind::Format, "MessagePack"),
    ("nc", KnownKind::Format, "NetCDF"),
    ("ods", KnownKind::Format, "an OpenDocument spreadsheet"),
    ("orc", KnownKind::Format, "Apache ORC"),
    ("parquet", KnownKind::Format, "Apache Parquet"),
    ("pickle", KnownKind::Format, "Python pickle"),
    ("pkl", KnownKind::Format, "Python pickle"),
    ("px", KnownKind::Format, "PC-Axis"),
    ("sas7bdat", KnownKind::Format, "SAS"),
    ("sav", KnownKind::Format, "SPSS"),
    ("shp", KnownKind::Format, "a Shapefile"),
    ("sqlite", KnownKind::Format, "an SQLite database"),
    ("toml", KnownKind::Format, "TOML"),
    ("vcf", KnownKind::Format, "vCard"),
    ("warc", KnownKind::Format, "WARC"),
    ("xls", KnownKind::Format, "an Excel 97-2003 workbook"),
    ("xlsm", KnownKind::Format, "an Excel workbook"),
    ("xlsx", KnownKind::Format, "an Excel workbook"),
    ("xml", KnownKind::Format, "XML"),
    ("yaml", KnownKind::Format, "YAML"),
    ("yml", KnownKind::Format, "YAML"),
];

/// What a well-known extension (without the dot, any case) names, if it is
/// one: its kind and the name people know it by.
///
/// ```
/// use iterable_core::known::{well_known, KnownKind};
/// assert_eq!(well_known("BR"), Some((KnownKind::Codec, "Brotli")));
/// assert_eq!(well_known("csv"), None); // built in: never asked
/// ```
pub fn well_known(ext: &str) -> Option<(KnownKind, &'static str)> {
    let ext = ext.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(e, _, _)| *e == ext)
        .map(|&(_, kind, name)| (kind, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_within_each_kind_and_has_no_duplicates() {
        let mut seen = std::collections::BTreeSet::new();
        for (ext, _, _) in TABLE {
            assert!(seen.insert(*ext), "{ext} twice");
            assert_eq!(*ext, ext.to_ascii_lowercase());
        }
    }
}

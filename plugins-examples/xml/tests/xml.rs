//! The xml plugin through the author test harness.

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::{PluginTest, Record, Value, record};
use iterable_plugin_xml::plugin_exports;

fn t() -> PluginTest {
    PluginTest::new(plugin_exports())
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

const CATALOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- a catalog -->
<c:catalog xmlns:c="urn:catalog" xmlns="urn:default">
  <c:meta updated="2024-01-31"/>
  <c:book id="b1" lang="en">
    <c:title>Dune &amp; more</c:title>
    <author>Frank Herbert</author>
    <tag>sf</tag>
    <tag>classic</tag>
    <price currency="EUR">9.99</price>
    <note/>
  </c:book>
  <c:book id="b2">
    <c:title><![CDATA[<Emma>]]></c:title>
    <tag>novel</tag>
    &#x263A; plain text
  </c:book>
  <c:book id="b3"/>
</c:catalog>
"#;

#[test]
fn elements_attributes_repeats_and_namespaces() {
    let got = t()
        .read("xml", CATALOG.as_bytes(), &[("tagname", "book")])
        .unwrap();
    let expected: Vec<Record> = vec![
        record([
            ("@id", Value::from("b1")),
            ("@lang", Value::from("en")),
            ("title", Value::from("Dune & more")),
            ("author", Value::from("Frank Herbert")),
            (
                "tag",
                Value::List(vec![Value::from("sf"), Value::from("classic")]),
            ),
            (
                "price",
                map(&[
                    ("@currency", Value::from("EUR")),
                    ("#text", Value::from("9.99")),
                ]),
            ),
            ("note", Value::Null),
        ]),
        record([
            ("@id", Value::from("b2")),
            ("title", Value::from("<Emma>")),
            ("tag", Value::from("novel")),
            ("#text", Value::from("☺ plain text")),
        ]),
        record([("@id", Value::from("b3"))]),
    ];
    assert_eq!(got, expected);

    // prefix_strip=false keeps prefixes and the xmlns declarations.
    let kept = t()
        .read(
            "xml",
            CATALOG.as_bytes(),
            &[("tagname", "c:book"), ("prefix_strip", "false")],
        )
        .unwrap();
    assert_eq!(kept.len(), 3);
    assert_eq!(
        kept[0][2],
        ("c:title".to_owned(), Value::from("Dune & more"))
    );
    let root = t()
        .read(
            "xml",
            CATALOG.as_bytes(),
            &[("tagname", "c:catalog"), ("prefix_strip", "false")],
        )
        .unwrap();
    assert_eq!(
        root[0][0],
        ("@xmlns:c".to_owned(), Value::from("urn:catalog"))
    );
}

#[test]
fn without_tagname_the_error_lists_the_candidates() {
    let e = t().read("xml", CATALOG.as_bytes(), &[]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert_eq!(
        e.message,
        "option `tagname`: name the element that is one record, as --option tagname=NAME \
         (found under <catalog>: meta (1), book (3))"
    );
}

#[test]
fn malformed_xml_is_a_parse_error_with_its_byte() {
    let text = "<r><item><a>1</a></item><item><a>2</b></item></r>";
    let (records, e) = t()
        .reader(
            "xml",
            std::io::Cursor::new(text.as_bytes().to_vec()),
            &[("tagname", "item")],
        )
        .unwrap()
        .read_all();
    assert_eq!(records, [record([("a", Value::from("1"))])]);
    let e = e.expect("an error");
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert_eq!(e.record, Some(2));
    assert!(e.message.starts_with("not well-formed XML at byte "), "{e}");
    assert!(
        e.message.contains("expected `</a>`, but `</b>` was found"),
        "{e}"
    );

    let e = t()
        .read("xml", b"<r><item><a>1</a>", &[("tagname", "item")])
        .unwrap_err();
    assert!(
        e.message.contains("the document ends inside an element"),
        "{e}"
    );
}

#[test]
fn writes_what_it_reads() {
    let rows = vec![
        record([
            ("@id", Value::from("b1")),
            ("title", Value::from("Dune & <more>")),
            (
                "tag",
                Value::List(vec![Value::from("sf"), Value::from("classic")]),
            ),
            (
                "price",
                map(&[
                    ("@currency", Value::from("EUR")),
                    ("#text", Value::from("9.99")),
                ]),
            ),
            ("day", Value::Typed(Typed::Date(19_753))),
            ("note", Value::Null),
        ]),
        record([("@id", Value::from("b2")), ("n", Value::Int(3))]),
    ];
    let bytes = t()
        .write("xml", &rows, &[("root", "catalog"), ("tagname", "book")])
        .unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(
        text,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <catalog>\n  \
         <book id=\"b1\">\n    \
         <title>Dune &amp; &lt;more&gt;</title>\n    \
         <tag>sf</tag>\n    <tag>classic</tag>\n    \
         <price currency=\"EUR\">9.99</price>\n    \
         <day>2024-01-31</day>\n    <note/>\n  \
         </book>\n  \
         <book id=\"b2\">\n    <n>3</n>\n  </book>\n\
         </catalog>\n"
    );
    let back = t().read("xml", &bytes, &[("tagname", "book")]).unwrap();
    assert_eq!(
        back[0][1],
        ("title".to_owned(), Value::from("Dune & <more>"))
    );
    assert_eq!(back[0][4], ("day".to_owned(), Value::from("2024-01-31")));
    assert_eq!(
        back[1],
        record([("@id", Value::from("b2")), ("n", Value::from("3"))])
    );

    let e = t()
        .write("xml", &[record([("first name", Value::from("x"))])], &[])
        .unwrap_err();
    assert_eq!(e.kind, RErrorKind::SCHEMA);
    assert_eq!(e.message, "the field `first name` is not a valid XML name");
    assert_eq!(e.record, Some(1));
}

/// Records stream: a large document in small pieces reads with one record
/// at a time in memory (checked here by reading a generated document of
/// 200,000 records through a reader that never holds it whole).
#[test]
fn a_large_document_streams() {
    struct Gen {
        n: usize,
        at: usize,
        pending: Vec<u8>,
    }
    impl std::io::Read for Gen {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.pending.is_empty() {
                self.pending = match self.at {
                    0 => b"<root>".to_vec(),
                    i if i <= self.n => format!("<r id=\"{i}\"><v>{}</v></r>", i * 2).into_bytes(),
                    i if i == self.n + 1 => b"</root>".to_vec(),
                    _ => return Ok(0),
                };
                self.at += 1;
            }
            let k = buf.len().min(self.pending.len());
            buf[..k].copy_from_slice(&self.pending[..k]);
            self.pending.drain(..k);
            Ok(k)
        }
    }
    let mut reader = t()
        .reader(
            "xml",
            Gen {
                n: 200_000,
                at: 0,
                pending: Vec::new(),
            },
            &[("tagname", "r")],
        )
        .unwrap();
    let (mut count, mut last) = (0, None);
    while let Some(b) = reader.next_batch(1024).unwrap() {
        count += b.records.len();
        last = b.records.last().cloned();
    }
    assert_eq!(count, 200_000);
    assert_eq!(
        last,
        Some(record([
            ("@id", Value::from("200000")),
            ("v", Value::from("400000"))
        ]))
    );
}

//! Keeps docs/plugin-guide.md compiled: its first ```rust block must be this
//! crate's src/lib.rs byte for byte, and every later ```rust block must
//! appear verbatim in tests/guide_snippets.rs, which compiles and runs them.

const GUIDE: &str = include_str!("../../../docs/plugin-guide.md");

/// The bodies of the ```` ```rust ```` blocks of `markdown`, in order.
fn rust_blocks(markdown: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find("\n```rust\n") {
        let body = &rest[at + "\n```rust\n".len()..];
        let Some(end) = body.find("\n```\n") else {
            break;
        };
        blocks.push(&body[..end + 1]);
        rest = &body[end + 1..];
    }
    blocks
}

#[test]
fn the_guide_listing_is_src_lib_rs() {
    let blocks = rust_blocks(GUIDE);
    let listing = blocks
        .first()
        .expect("docs/plugin-guide.md has a ```rust block");
    let lib = include_str!("../src/lib.rs");
    assert!(
        *listing == lib,
        "the first ```rust block of docs/plugin-guide.md differs from \
         plugins-examples/template/src/lib.rs; copy src/lib.rs into the guide\n\
         --- guide ---\n{listing}\n--- src/lib.rs ---\n{lib}"
    );
}

/// The code between `// guide: <name>` and `// end` lines of `source`.
fn marked_snippets(source: &str) -> Vec<&str> {
    let mut snippets = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("\n// guide: ") {
        let after = &rest[at + 1..];
        let Some(body_start) = after.find('\n') else {
            break;
        };
        let body = &after[body_start + 1..];
        let Some(end) = body.find("\n// end\n") else {
            break;
        };
        snippets.push(&body[..end + 1]);
        rest = &body[end..];
    }
    snippets
}

#[test]
fn every_other_guide_snippet_is_compiled() {
    let snippets = marked_snippets(include_str!("guide_snippets.rs"));
    let blocks = rust_blocks(GUIDE);
    assert!(
        blocks.len() > 1,
        "the guide has snippets besides the listing"
    );
    for block in &blocks[1..] {
        assert!(
            snippets.contains(block),
            "this ```rust block of docs/plugin-guide.md is not in \
             plugins-examples/template/tests/guide_snippets.rs (copy it there \
             between `// guide: <name>` and `// end`):\n{block}"
        );
    }
    assert_eq!(
        snippets.len(),
        blocks.len() - 1,
        "every marked snippet is shown in the guide"
    );
}

#[test]
fn finds_rust_blocks() {
    let md =
        "# T\n\n```toml\nx\n```\n\n```rust\nfn a() {}\n\nfn b() {}\n```\n\ntext\n```rust\nc\n```\n";
    assert_eq!(rust_blocks(md), ["fn a() {}\n\nfn b() {}\n", "c\n"]);
    assert!(rust_blocks("no code").is_empty());
    assert!(rust_blocks("\n```rust\nnever closed\n").is_empty());
    let src = "use x;\n// guide: a\nstruct A;\n// end\n\n// guide: b\nfn b() {}\n\n// end\n";
    assert_eq!(marked_snippets(src), ["struct A;\n", "fn b() {}\n\n"]);
}

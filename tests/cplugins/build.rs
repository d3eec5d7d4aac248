//! Compiles the C plugins into shared libraries with the system C compiler
//! (found by the cc crate), from `iterabledata_plugin.h` alone: no Rust is
//! linked into them. Their paths reach the crate as `IDP_LIB_*` variables.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let include = root.join("../../iterable-plugin-api/include");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for f in ["c/layout.c", "c/faults.c", "c/kinds.c", "c/arrow_util.h"] {
        println!("cargo:rerun-if-changed={f}");
    }
    let fwf = root.join("../../plugins-examples/fwf/fwf.c");
    println!("cargo:rerun-if-changed={}", fwf.display());
    println!("cargo:rerun-if-changed={}", include.display());

    // The layout table is linked into this crate, beside the Rust one.
    cc::Build::new()
        .file("c/layout.c")
        .include(&include)
        .compile("idp_layout");

    // The 1.0 header, as released, and a future one (1.2) that adds a
    // field to IdpFormat and to IdpPlugin.
    let v10 = out.join("include-1.0");
    fs::create_dir_all(&v10).unwrap();
    fs::copy(
        include.join("history/iterabledata_plugin-1.0.h"),
        v10.join("iterabledata_plugin.h"),
    )
    .unwrap();
    let future = out.join("include-future");
    fs::create_dir_all(&future).unwrap();
    let header = fs::read_to_string(include.join("iterabledata_plugin.h")).unwrap();
    let later = header
        .replace("#define IDP_ABI_MINOR 1", "#define IDP_ABI_MINOR 2")
        .replace(
            "  uint32_t flags;\n} IdpFormat;",
            "  uint32_t flags;\n  /* Since 1.2 (a future version, for the tests). */\n  const char *future_field;\n} IdpFormat;",
        )
        .replace(
            "  const IdpHook *const *hooks;\n} IdpPlugin;",
            "  const IdpHook *const *hooks;\n  /* Since 1.2 (a future version, for the tests). */\n  size_t n_future;\n  const void *future;\n} IdpPlugin;",
        );
    assert!(later.contains("future_field") && later.contains("n_future"));
    fs::write(future.join("iterabledata_plugin.h"), later).unwrap();

    let cc = Compiler::new();
    // IDP_SANITIZE=address builds the plugins with AddressSanitizer
    // (scripts/asan.sh runs the C ABI tests with them), in a folder of their
    // own so that switching back and forth rebuilds nothing else.
    println!("cargo:rerun-if-env-changed=IDP_SANITIZE");
    let (cc, out) = match env::var("IDP_SANITIZE").ok().filter(|s| !s.is_empty()) {
        Some(s) => (cc.sanitized(&s), out.join(format!("sanitize-{s}"))),
        None => (cc, out),
    };
    let c = root.join("c");
    cc.shared(&out, "fwf", &fwf, &include, "FWF");
    cc.shared(&out.join("v10"), "fwf", &fwf, &v10, "FWF_1_0");
    cc.shared(&out.join("future"), "fwf", &fwf, &future, "FWF_FUTURE");
    cc.shared(&out, "cfaults", &c.join("faults.c"), &include, "CFAULTS");
    cc.shared(
        &out,
        "ccsv",
        &root.join("../bench/ccsv/ccsv.c"),
        &include,
        "CCSV",
    );
    // The plugin guide's C example, with stubs for the functions it names,
    // so that the guide keeps compiling.
    let guide_md = root.join("../../docs/plugin-guide.md");
    println!("cargo:rerun-if-changed={}", guide_md.display());
    println!("cargo:rerun-if-changed=../bench/ccsv/ccsv.c");
    let guide = fs::read_to_string(&guide_md).unwrap();
    let after = guide
        .split("### The entry point")
        .nth(1)
        .expect("the guide has \"### The entry point\"");
    let snippet = after
        .split("```c\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a ```c block after \"### The entry point\"");
    let stubs = "#include \"iterabledata_plugin.h\"\n\
        static IdpStatus open_reader(void *d, IdpByteSource *i, const IdpOptions *o,\n\
          struct ArrowArrayStream *out, IdpError *e) {\n\
          (void)d; (void)i; (void)o; (void)out;\n\
          return idp_set_error(e, IDP_ERR_UNSUPPORTED, \"the guide's example reads nothing\");\n\
        }\n\
        static IdpStatus open_writer(void *d, IdpByteSink *s, const IdpOptions *o,\n\
          IdpBatchWriter *out, IdpError *e) {\n\
          (void)d; (void)s; (void)o; (void)out;\n\
          return idp_set_error(e, IDP_ERR_UNSUPPORTED, \"the guide's example writes nothing\");\n\
        }\n";
    let guide_c = out.join("guide.c");
    fs::write(&guide_c, format!("{stubs}{snippet}")).unwrap();
    cc.shared(&out.join("guide"), "guide", &guide_c, &include, "GUIDE");
    cc.shared(&out, "ckinds", &c.join("kinds.c"), &include, "CKINDS");
}

struct Compiler {
    tool: cc::Tool,
    os: String,
    flags: Vec<String>,
}

impl Compiler {
    fn new() -> Compiler {
        Compiler {
            tool: cc::Build::new().opt_level(2).get_compiler(),
            os: env::var("CARGO_CFG_TARGET_OS").unwrap_or_default(),
            flags: Vec::new(),
        }
    }

    /// The same compiler with `-fsanitize=WHAT`.
    fn sanitized(mut self, what: &str) -> Compiler {
        self.flags = vec![
            format!("-fsanitize={what}"),
            "-fno-omit-frame-pointer".into(),
            "-g".into(),
        ];
        self
    }

    /// Compiles `src` into `dir/lib<name>.<so|dylib>` and exports its path as
    /// `IDP_LIB_<var>`.
    fn shared(&self, dir: &Path, name: &str, src: &Path, include: &Path, var: &str) {
        fs::create_dir_all(dir).unwrap();
        let file = match self.os.as_str() {
            "macos" | "ios" => format!("lib{name}.dylib"),
            "windows" => format!("{name}.dll"),
            _ => format!("lib{name}.so"),
        };
        let lib = dir.join(file);
        let mut cmd = self.tool.to_command();
        cmd.args(&self.flags)
            .arg("-std=c99")
            .arg("-shared")
            .arg("-fPIC")
            .arg("-fvisibility=hidden")
            .arg(format!("-I{}", include.display()))
            .arg(src)
            .arg("-o")
            .arg(&lib);
        let status = cmd
            .status()
            .unwrap_or_else(|e| panic!("cannot run the C compiler ({cmd:?}): {e}"));
        assert!(
            status.success(),
            "the C compiler failed on {}",
            src.display()
        );
        println!("cargo:rustc-env=IDP_LIB_{var}={}", lib.display());
    }
}

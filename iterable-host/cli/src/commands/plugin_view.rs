//! How a plugin is shown by `list-plugins`, `info` and `check-plugin`.

use serde_json::{Value as Json, json};

use iterable_host::{Plugin, Provides};
use iterable_host::{PluginErrorExt, PluginErrorKind};

/// What a plugin provides, as JSON.
pub fn provides_json(p: &Provides) -> Json {
    json!({
        "formats": p.formats, "codecs": p.codecs, "drivers": p.drivers,
        "rules": p.rules, "engines": p.engines, "hooks": p.hooks,
    })
}

/// Everything known about a plugin, as JSON.
pub fn plugin_json(p: &Plugin) -> Json {
    let m = p.manifest();
    let meta = m.map(|m| &m.plugin);
    let error = p.error();
    json!({
        "name": p.name(),
        "version": meta.map(|m| m.version.as_str()),
        "api_version": meta.map(|m| m.api_version.as_str()),
        "abi": meta.map(|m| m.abi.as_str()),
        "isolation": p.isolation().as_str(),
        "isolation_detail": isolation_text(p),
        "path": p.path(),
        "library": p.library_path(),
        "source": p.origin().to_string(),
        "dir": p.dir(),
        "manifest": p.has_manifest(),
        "status": p.status(),
        "error": error.as_ref().map(|e| e.message().to_owned()).or_else(|| if p.status() == iterable_host::Status::Failed { p.reason() } else { None }),
        "error_kind": error.as_ref().and_then(|e| e.plugin_kind()).map(PluginErrorKind::as_str),
        "reason": p.reason(),
        "provides": provides_json(&p.provides()),
        "description": meta.map(|m| m.description.as_str()),
        "author": meta.map(|m| m.author.as_str()),
        "license": meta.map(|m| m.license.as_str()),
        "homepage": meta.map(|m| m.homepage.as_str()),
        "dependencies": meta.map(|m| m.dependencies.clone()).unwrap_or_default(),
        "sha256": meta.and_then(|m| m.sha256.clone()),
        "hooks_supported": m.map(|m| m.supports_hooks()),
        "warnings": p.warnings(),
    })
}

/// Where a plugin runs, in words: `none`, or `process (sandboxed, no
/// network, timeout 120 s)`.
pub fn isolation_text(p: &Plugin) -> String {
    use iterable_host::isolate::Isolation;
    if p.isolation() == Isolation::None {
        return "none (in this process)".into();
    }
    let l = p.limits();
    let mut parts = vec![
        if l.sandbox {
            "sandboxed"
        } else {
            "not sandboxed"
        }
        .to_owned(),
        if l.network {
            "network granted"
        } else {
            "no network"
        }
        .to_owned(),
    ];
    parts.push(match l.timeout {
        Some(t) => format!("timeout {} s", t.as_secs_f64()),
        None => "no timeout".into(),
    });
    if let Some(m) = l.memory_limit {
        parts.push(format!("memory limit {} MiB", m >> 20));
    }
    format!("process ({})", parts.join(", "))
}

/// What a plugin provides, on one line.
pub fn provides_text(p: &Provides) -> String {
    let mut parts = Vec::new();
    for (kind, ids) in [
        ("format", &p.formats),
        ("codec", &p.codecs),
        ("driver", &p.drivers),
        ("rule", &p.rules),
        ("engine", &p.engines),
        ("hook", &p.hooks),
    ] {
        if !ids.is_empty() {
            parts.push(format!("{kind} {}", ids.join(",")));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("; ")
    }
}

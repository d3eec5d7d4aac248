//! The runner's sandbox (Linux): applied by the runner to itself before it
//! loads the plugin, so that even the library's initialisers run inside it.
//!
//! - Files (Landlock): read-only access to the system's libraries and a
//!   few files every program reads, to the plugin's own directory and to
//!   the inputs it is handed by path; read and write access to a scratch
//!   directory of its own; nothing else, and no writes anywhere else.
//! - Network (seccomp, and Landlock's TCP rules where the kernel has
//!   them): no IPv4, IPv6 or packet sockets, unless the plugin's
//!   configuration grants the network.
//!
//! What the kernel cannot do is reported, never claimed.

use crate::policy::SandboxReport;
use crate::wire::Spec;

/// Directories and files any program may need to read: the dynamic
/// loader's, the system's libraries, time zones, CPU counts.
#[cfg(target_os = "linux")]
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/opt",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/ld.so.preload",
    "/etc/localtime",
    "/etc/timezone",
    "/proc/self",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

/// What a plugin that is granted the network also reads: names, services
/// and certificates.
#[cfg(target_os = "linux")]
const NETWORK_READ: &[&str] = &[
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/ssl",
    "/etc/pki",
    "/etc/ca-certificates",
];

/// Applies the sandbox the spec asks for, and says what it could do.
#[cfg(target_os = "linux")]
pub(crate) fn apply(spec: &Spec) -> SandboxReport {
    if !spec.sandbox {
        return SandboxReport {
            requested: false,
            files: "off".into(),
            network: "off".into(),
        };
    }
    // The seccomp filter first: Landlock's restriction sets no_new_privs,
    // which seccomp needs too, and either order works; a failure of one
    // does not stop the other.
    let network = if spec.network {
        "granted".to_owned()
    } else {
        match deny_network() {
            Ok(()) => "enforced".to_owned(),
            Err(e) => format!("not enforced: {e}"),
        }
    };
    let files = match restrict_files(spec) {
        Ok(s) => s,
        Err(e) => format!("not enforced: {e}"),
    };
    SandboxReport {
        requested: true,
        files,
        network,
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn apply(spec: &Spec) -> SandboxReport {
    SandboxReport {
        requested: spec.sandbox,
        files: "not enforced: no sandbox on this system".into(),
        network: if spec.network {
            "granted".into()
        } else {
            "not enforced: no sandbox on this system".into()
        },
    }
}

#[cfg(target_os = "linux")]
fn restrict_files(spec: &Spec) -> Result<String, String> {
    use landlock::{
        ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
        path_beneath_rules,
    };
    let abi = ABI::V5;
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let mut ruleset = Ruleset::default()
        .handle_access(all)
        .map_err(|e| e.to_string())?;
    if !spec.network {
        // TCP too, where the kernel has network rules (6.7 and later).
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(|e| e.to_string())?;
    }
    let mut reads: Vec<std::path::PathBuf> = SYSTEM_READ.iter().map(Into::into).collect();
    if spec.network {
        reads.extend(NETWORK_READ.iter().map(Into::into));
    }
    reads.extend(spec.read.iter().cloned());
    // Paths that do not exist here are left out (a rule needs an open file).
    reads.retain(|p| p.exists());
    let mut created = ruleset
        .create()
        .map_err(|e| e.to_string())?
        .add_rules(path_beneath_rules(&reads, read))
        .map_err(|e| e.to_string())?
        .add_rules(path_beneath_rules(
            ["/dev/null"],
            read | AccessFs::WriteFile,
        ))
        .map_err(|e| e.to_string())?;
    let writes: Vec<&std::path::PathBuf> = spec
        .scratch
        .iter()
        .chain(&spec.write)
        .filter(|p| p.exists())
        .collect();
    if !writes.is_empty() {
        created = created
            .add_rules(path_beneath_rules(writes, all))
            .map_err(|e| e.to_string())?;
    }
    let status = created.restrict_self().map_err(|e| e.to_string())?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => "enforced".into(),
        RulesetStatus::PartiallyEnforced => {
            "partial: this kernel's Landlock lacks some rights".into()
        }
        RulesetStatus::NotEnforced => "not enforced: this kernel has no Landlock".into(),
    })
}

#[cfg(target_os = "linux")]
fn deny_network() -> Result<(), String> {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())?;
    let family = |f: i32| -> Result<SeccompRule, String> {
        let c = SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, f as u64)
            .map_err(|e| e.to_string())?;
        SeccompRule::new(vec![c]).map_err(|e| e.to_string())
    };
    let rules = vec![(
        libc::SYS_socket,
        vec![
            family(libc::AF_INET)?,
            family(libc::AF_INET6)?,
            family(libc::AF_PACKET)?,
        ],
    )];
    let filter = SeccompFilter::new(
        rules.into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EACCES as u32),
        arch,
    )
    .map_err(|e| e.to_string())?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    seccompiler::apply_filter(&program).map_err(|e| e.to_string())
}

//! How much memory this process may still allocate: the tightest of
//! - the machine's available memory (`MemAvailable`),
//! - the address-space limit (`ulimit -v`, `RLIMIT_AS`) less the address space in use,
//! - the data-segment limit (`ulimit -d`, `RLIMIT_DATA`) less the data segment in use,
//! - the cgroup's limit less its usage (v2 `memory.max`/`memory.current`, v1
//!   `memory.limit_in_bytes`/`memory.usage_in_bytes`; every ancestor counts),
//! - `--max-memory` (or `NNC_MEMORY_LIMIT`), which caps what one command allocates.
//!
//! Read from `/proc` and `/sys` on Linux; elsewhere only `--max-memory` and a guess of
//! 8 GiB apply. A limit that cannot be read is no limit. The limits are read once per
//! process and the usage at every call: a command asks three or four times, and reading
//! everything each time was 3 % of `nnc run examples/xor.nn` under `perf` (90 of its 217
//! `read` calls).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Address space that threads, the code generator and the allocator take beyond what a
/// plan counts (stacks, the compiled code, allocator arenas): kept free under an
/// address-space or data limit.
const HEADROOM: u64 = 64 << 20;

/// Which limit is the tightest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `--max-memory` or `NNC_MEMORY_LIMIT`.
    Requested,
    AddressSpace,
    DataSegment,
    Cgroup,
    Available,
}

/// Bytes the process may still allocate, and the limit that says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub bytes: u64,
    pub limit: Limit,
}

impl Budget {
    /// "the 2.8 GiB left under the address-space limit (`ulimit -v`)".
    pub fn describe(&self) -> String {
        let size = size(self.bytes);
        match self.limit {
            Limit::Requested => format!("the {size} `--max-memory` allows"),
            Limit::AddressSpace => format!("the {size} left under the address-space limit (`ulimit -v`)"),
            Limit::DataSegment => format!("the {size} left under the data-segment limit (`ulimit -d`)"),
            Limit::Cgroup => format!("the {size} left under the cgroup's memory limit"),
            Limit::Available => format!("the {size} of memory the machine has available"),
        }
    }

    /// The budget as the data loader takes it.
    pub fn room(&self) -> nnc_data::Room {
        nnc_data::Room { bytes: self.bytes, described: self.describe(), remedy: self.remedy().to_string() }
    }

    /// What to do about it, in the diagnostic's help.
    pub fn remedy(&self) -> &'static str {
        match self.limit {
            Limit::Requested => "raise `--max-memory`",
            Limit::AddressSpace => "raise `ulimit -v`",
            Limit::DataSegment => "raise `ulimit -d`",
            Limit::Cgroup => "raise the container's memory limit",
            Limit::Available => "free memory, or run on a larger machine",
        }
    }
}

/// The memory this process may allocate from now on (`requested`: `--max-memory`).
pub fn budget(requested: Option<u64>) -> Budget {
    let limits = Limits::of_this_process();
    // What the process maps counts only against `ulimit -v` and `-d`: most runs have
    // neither and need not read it (each file read here costs tens of microseconds, and
    // a run asks for its budget several times).
    let status =
        (limits.address_space.is_some() || limits.data_segment.is_some()).then(|| read("/proc/self/status")).flatten();
    let in_use = |key: &str| status.as_deref().and_then(|s| kib_field(s, key));
    let under = |limit: Option<u64>, used: Option<u64>| {
        limit.map(|limit| limit.saturating_sub(used.unwrap_or(0)).saturating_sub(HEADROOM))
    };
    let available = available();
    let candidates = [
        (requested, Limit::Requested),
        (under(limits.address_space, in_use("VmSize:")), Limit::AddressSpace),
        (under(limits.data_segment, in_use("VmData:")), Limit::DataSegment),
        (limits.cgroup_room(), Limit::Cgroup),
        (Some(available), Limit::Available),
    ];
    candidates
        .into_iter()
        .filter_map(|(bytes, limit)| bytes.map(|bytes| Budget { bytes, limit }))
        .min_by_key(|b| b.bytes)
        .unwrap_or(Budget { bytes: available, limit: Limit::Available })
}

/// The limits, which do not change while nnc runs.
struct Limits {
    /// `ulimit -v` and `ulimit -d` (soft), in bytes.
    address_space: Option<u64>,
    data_segment: Option<u64>,
    /// Each memory limit of this process's cgroup and its ancestors, and the file that
    /// says how much of it is used.
    cgroups: Vec<(u64, PathBuf)>,
}

impl Limits {
    fn of_this_process() -> &'static Limits {
        static LIMITS: OnceLock<Limits> = OnceLock::new();
        LIMITS.get_or_init(|| {
            let limits = read("/proc/self/limits");
            let soft = |name: &str| limits.as_deref().and_then(|l| soft_limit(l, name));
            Limits {
                address_space: soft("Max address space"),
                data_segment: soft("Max data size"),
                cgroups: cgroup_limits(),
            }
        })
    }

    /// The least room left under the memory limit of this process's cgroup or any ancestor.
    fn cgroup_room(&self) -> Option<u64> {
        self.cgroups.iter().filter_map(|(limit, usage)| Some(limit.saturating_sub(read_number(usage)?))).min()
    }
}

fn read(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The number a file holds (a cgroup's limit or usage); `None` for `max` or no file.
fn read_number(path: impl AsRef<Path>) -> Option<u64> {
    read(path).and_then(|text| text.trim().parse().ok())
}

/// `key:  1234 kB` in bytes.
fn kib_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The soft limit of `name` in `/proc/self/limits`, in bytes (`None` when unlimited).
fn soft_limit(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// The memory the system reports available, or 8 GiB when it cannot say.
fn available() -> u64 {
    read("/proc/meminfo").and_then(|m| kib_field(&m, "MemAvailable:")).unwrap_or(8 << 30)
}

/// The memory limit of this process's cgroup and of each ancestor that has one, with the
/// file of its usage.
fn cgroup_limits() -> Vec<(u64, PathBuf)> {
    let Some(membership) = read("/proc/self/cgroup") else { return Vec::new() };
    let mut limits = Vec::new();
    for line in membership.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let (root, limit, usage) = if id == "0" && controllers.is_empty() {
            ("/sys/fs/cgroup", "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes")
        } else {
            continue;
        };
        for folder in ancestors(Path::new(root), path) {
            // `max` (v2) does not parse: no limit; v1 writes "no limit" as a huge number
            // (2⁶³ less a page), which no usage comes near: its usage is not worth reading.
            if let Some(limit) = read_number(folder.join(limit)).filter(|&limit| binds(limit)) {
                limits.push((limit, folder.join(usage)));
            }
        }
    }
    limits
}

/// Whether a cgroup limit can bind: cgroup v1 writes "no limit" as 2⁶³ less a page.
fn binds(limit: u64) -> bool {
    limit < 1 << 62
}

/// `root/a/b`, `root/a`, `root` for the cgroup path `/a/b`.
fn ancestors(root: &Path, path: &str) -> Vec<PathBuf> {
    let mut folders = vec![root.to_path_buf()];
    let mut folder = root.to_path_buf();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        folder.push(part);
        folders.push(folder.clone());
    }
    folders.reverse();
    folders
}

/// `1.5 GiB`, `512 bytes`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} bytes") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_usage_are_read_from_proc_text() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max data size             unlimited            unlimited            bytes\n\
                      Max address space         3072000000           unlimited            bytes\n";
        assert_eq!(soft_limit(limits, "Max address space"), Some(3_072_000_000));
        assert_eq!(soft_limit(limits, "Max data size"), None);
        let status = "Name:\tnnc\nVmSize:\t  123456 kB\nVmData:\t   4096 kB\n";
        assert_eq!(kib_field(status, "VmSize:"), Some(123_456 * 1024));
        assert_eq!(kib_field(status, "VmData:"), Some(4096 * 1024));
        assert_eq!(kib_field(status, "VmRSS:"), None);
    }

    #[test]
    fn a_requested_cap_is_the_budget_when_it_is_the_tightest() {
        let budget = budget(Some(1 << 20));
        assert_eq!(budget, Budget { bytes: 1 << 20, limit: Limit::Requested });
        assert!(budget.describe().contains("1.0 MiB") && budget.describe().contains("--max-memory"));
    }

    /// The room is the least of each limit less its usage, read now; a usage that cannot
    /// be read leaves its limit out.
    #[test]
    fn the_cgroup_room_reads_each_usage_at_every_call() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (leaf, parent) = (dir.path().join("leaf.usage"), dir.path().join("parent.usage"));
        std::fs::write(&leaf, "300\n").expect("write");
        std::fs::write(&parent, "100").expect("write");
        let limits = Limits {
            address_space: None,
            data_segment: None,
            cgroups: vec![(1000, leaf.clone()), (500, parent.clone()), (50, dir.path().join("missing"))],
        };
        assert_eq!(limits.cgroup_room(), Some(400));
        std::fs::write(&leaf, "900").expect("write");
        assert_eq!(limits.cgroup_room(), Some(100), "usage is read again");
        std::fs::write(&parent, "max").expect("write");
        assert_eq!(limits.cgroup_room(), Some(100));
        assert_eq!(Limits { cgroups: Vec::new(), ..limits }.cgroup_room(), None);
    }

    /// cgroup v1 writes "no limit" as 2⁶³ less a page; a real limit, however large a
    /// machine, is far below the cut-off that leaves it out.
    #[test]
    fn cgroup_v1_no_limit_is_not_a_limit() {
        assert!(!binds(9_223_372_036_854_771_712));
        assert!(binds(64 << 40), "64 TiB is a limit");
        assert!(binds(512 << 20));
    }

    #[test]
    fn cgroup_ancestors_run_from_the_leaf_to_the_root() {
        let folders = ancestors(Path::new("/sys/fs/cgroup"), "/a/b");
        let expected = ["/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a", "/sys/fs/cgroup"];
        assert_eq!(folders, expected.map(PathBuf::from));
    }
}

//! Writing output files. Every file nnc writes goes through [`write_atomically`], so an
//! interrupted or failed write never leaves half a file where a whole one was, nor a
//! temporary file behind (a second Ctrl-C removes them through
//! [`remove_partial_files`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written now, for [`remove_partial_files`].
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn partial() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PARTIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes `bytes` to `path` (creating its folder if needed): into a temporary file of an
/// unpredictable name created exclusively beside it (no symlink is followed), synced, given
/// the permissions of the file it replaces (or the umask's for a new one), renamed over
/// `path`, and the folder synced so that the rename survives a crash. On failure the
/// temporary file is removed and `path` is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => {
            std::fs::create_dir_all(parent)?;
            parent.to_path_buf()
        }
        None => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The kernel applies the umask to this mode, as it does for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut temporary = builder.tempfile_in(&folder)?;
    let temporary_path = temporary.path().to_path_buf();
    partial().push(temporary_path.clone());
    let written = (|| {
        temporary.write_all(bytes)?;
        if let Ok(existing) = std::fs::metadata(path) {
            temporary.as_file().set_permissions(existing.permissions())?;
        }
        temporary.as_file().sync_all()?;
        temporary.persist(path).map_err(|e| e.error)?;
        sync_folder(&folder)
    })();
    partial().retain(|p| p != &temporary_path);
    written
}

/// Makes a rename in `folder` durable (a no-op where folders cannot be opened as files).
fn sync_folder(folder: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(folder)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}

/// Removes every temporary file a write in progress has made: for a process about to exit
/// in the middle of writing (a second Ctrl-C).
pub fn remove_partial_files() {
    for path in partial().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::write_atomically;

    fn names(folder: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .expect("the folder exists")
            .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_leaves_the_file_and_nothing_else() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("sub/out.csv");
        write_atomically(&path, b"a,b\n").expect("written");
        write_atomically(&path, b"c,d\n").expect("rewritten");
        assert_eq!(std::fs::read(&path).expect("readable"), b"c,d\n");
        assert_eq!(names(&dir.path().join("sub")), ["out.csv"]);
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let blocked = dir.path().join("taken");
        std::fs::create_dir(&blocked).expect("a folder where the file should go");
        std::fs::write(blocked.join("inside"), b"x").expect("a file in it");
        assert!(write_atomically(&blocked, b"data").is_err(), "a non-empty folder cannot be replaced");
        assert_eq!(names(dir.path()), ["taken"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_rewritten_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("program.nn");
        std::fs::write(&path, b"old").expect("written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o754)).expect("chmod");
        write_atomically(&path, b"new").expect("rewritten");
        let mode = std::fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o754);
        let fresh = dir.path().join("fresh.csv");
        write_atomically(&fresh, b"x").expect("written");
        let plain = dir.path().join("plain.csv");
        std::fs::write(&plain, b"x").expect("written");
        let mode_of = |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode_of(&fresh), mode_of(&plain), "a new file gets the umask's mode, as any file would");
    }
}

//! Writing output files. Every file nnc writes goes through an [`AtomicFile`], so an
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

/// Writes `bytes` to `path` (creating its folder if needed), as an [`AtomicFile`]: on
/// failure `path` is untouched and no temporary file is left.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file written in pieces that appears at its path only whole: a temporary file of an
/// unpredictable name created exclusively beside `path` (no symlink is followed), which
/// [`AtomicFile::commit`] syncs, gives the permissions of the file it replaces (or the
/// umask's for a new one), renames over `path`, and makes durable by syncing the folder.
/// Dropped uncommitted (an error while writing), it is removed and `path` is untouched.
pub struct AtomicFile {
    /// Taken by `commit`.
    temporary: Option<tempfile::NamedTempFile>,
    path: PathBuf,
    folder: PathBuf,
}

impl AtomicFile {
    /// The temporary file beside `path`, its folder created if needed.
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
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
        let temporary = builder.tempfile_in(&folder)?;
        partial().push(temporary.path().to_path_buf());
        Ok(AtomicFile { temporary: Some(temporary), path: path.to_path_buf(), folder })
    }

    /// Puts the file written so far in place of `path`.
    pub fn commit(mut self) -> std::io::Result<()> {
        let temporary = self.temporary.take().ok_or_else(|| std::io::Error::other("committed twice"))?;
        let temporary_path = temporary.path().to_path_buf();
        let persisted = (|| {
            if let Ok(existing) = std::fs::metadata(&self.path) {
                temporary.as_file().set_permissions(existing.permissions())?;
            }
            temporary.as_file().sync_all()?;
            // On failure the temporary file is dropped, and removed, inside the error.
            temporary.persist(&self.path).map_err(|e| e.error)
        })();
        partial().retain(|p| p != &temporary_path);
        persisted?;
        sync_folder(&self.folder)
    }

    fn temporary(&mut self) -> std::io::Result<&mut tempfile::NamedTempFile> {
        self.temporary.as_mut().ok_or_else(|| std::io::Error::other("written after it was committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.temporary()?.write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.temporary()?.write_all(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.temporary()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Uncommitted: the temporary file removes itself as it is dropped.
        if let Some(temporary) = &self.temporary {
            let temporary_path = temporary.path().to_path_buf();
            partial().retain(|p| p != &temporary_path);
        }
    }
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

    /// A file written in pieces appears only when committed; dropped before, it leaves
    /// the old file as it was and no temporary file.
    #[test]
    fn a_file_written_in_pieces_appears_only_whole() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("out.csv");
        std::fs::write(&path, b"old\n").expect("written");
        let mut file = super::AtomicFile::create(&path).expect("created");
        file.write_all(b"a,b\n").expect("written");
        let temporary = file.temporary.as_ref().map(|t| t.path().to_path_buf()).expect("not committed");
        assert!(super::partial().contains(&temporary));
        drop(file);
        assert_eq!(std::fs::read(&path).expect("readable"), b"old\n");
        assert_eq!(names(dir.path()), ["out.csv"]);
        assert!(!super::partial().contains(&temporary), "nothing left to remove on a second Ctrl-C");
        let mut file = super::AtomicFile::create(&path).expect("created");
        file.write_all(b"a,b\n").expect("written");
        file.write_all(b"1,2\n").expect("written");
        file.commit().expect("committed");
        assert_eq!(std::fs::read(&path).expect("readable"), b"a,b\n1,2\n");
        assert_eq!(names(dir.path()), ["out.csv"]);
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

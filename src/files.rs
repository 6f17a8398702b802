//! Reading a file a user named (a scenario, a profile, a ledger, a certificate, a captured
//! request, a request body): regular files only, and never more than a limit, counted as the
//! bytes are read rather than trusted from the file's metadata (a device or a pipe says 0 and
//! never ends; a pipe blocks whoever opens it). Every reader of outside files goes through here,
//! so that each gets the same bound and the same clear refusal. It must not parse anything.

use std::io::Read;
use std::path::Path;

/// The most of a YAML file, a captured request or a request body read: 8 MiB.
pub const MAX_INPUT_BYTES: u64 = 8 * 1024 * 1024;
/// The most of a PEM file read (a certificate bundle is a few KiB; a trust store under 1 MiB).
pub const MAX_PEM_BYTES: u64 = 4 * 1024 * 1024;
/// The most of a ledger read: a load that left a hundred thousand clients writes about 40 MiB.
pub const MAX_LEDGER_BYTES: u64 = 256 * 1024 * 1024;

/// Reads `path` whole, if it is a regular file of at most `limit` bytes. The error says what is
/// wrong in words (its kind is `InvalidInput` for a file that is not regular or too large).
pub fn read(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(refusal(format!("{} is {}, not a regular file", path.display(), kind_of(&metadata))));
    }
    // Opened only once it is known to be a regular file: opening a pipe waits for a writer.
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(refusal(format!("{} is over the {limit}-byte limit for such a file", path.display())));
    }
    Ok(bytes)
}

/// The `*.yaml` and `*.yml` files of `dir`, sorted: what a loader of a directory reads.
pub fn yaml_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read(path, limit)?).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not UTF-8 text", path.display()))
    })
}

fn refusal(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message)
}

/// What a file that is not regular is, in words.
fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "something else"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ok.txt");
        std::fs::write(&file, b"12345").expect("write");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success());
        /// A file, a limit, and the bytes read or a piece of the refusal.
        type Case<'a> = (&'a Path, u64, Result<&'a [u8], &'a str>);
        let cases: [Case; 6] = [
            (&file, 5, Ok(b"12345")),
            (&file, 4, Err("over the 4-byte limit")),
            (dir.path(), 10, Err("is a directory, not a regular file")),
            (Path::new("/dev/zero"), 10, Err("is a device, not a regular file")),
            (&fifo, 10, Err("is a named pipe, not a regular file")),
            (&dir.path().join("missing"), 10, Err("No such file")),
        ];
        for (path, limit, expected) in cases {
            match (read(path, limit), expected) {
                (Ok(bytes), Ok(want)) => assert_eq!(bytes, want, "{}", path.display()),
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{}: {e}", path.display()),
                (got, want) => panic!("{}: {got:?}, expected {want:?}", path.display()),
            }
        }
    }
}

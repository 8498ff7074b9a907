//! Reading the files a rule set and its cases are made of, unattended (a reload reads
//! them while serving): only regular files, and only so many bytes.

use std::fs;
use std::path::Path;

/// A regular file's bytes, at most `max`; `Ok(Err(why))` for a path that is not a regular
/// file, or a file over `max` bytes (of which at most `max + 1` are read). It is opened without waiting (a FIFO would wait for a
/// writer) and asked what it is once open, so a file swapped meanwhile is caught too.
pub fn read_regular(path: &Path, max: u64) -> std::io::Result<Result<Vec<u8>, String>> {
    use std::io::Read;
    let not_regular = |kind: fs::FileType| {
        let what = if kind.is_dir() {
            "a folder"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        Err(format!("is {what}: only regular files are read"))
    };
    let kind = fs::metadata(path)?.file_type();
    if !kind.is_file() {
        return Ok(not_regular(kind));
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Ok(not_regular(kind));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Ok(Err(format!("is over {max} bytes, the most read")));
    }
    Ok(Ok(bytes))
}

/// A regular file of at most `max` bytes as UTF-8 text (see [`crate::yaml::document_text`]),
/// or why not, naming the file.
pub fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let name = path.display();
    match read_regular(path, max) {
        Err(error) => Err(format!("{name}: {error}")),
        Ok(Err(why)) => Err(format!("{name}: the file {why}")),
        Ok(Ok(bytes)) => crate::yaml::document_text(bytes).map_err(|error| {
            format!(
                "{name}:{}:{}: the file is {error}",
                error.position.line, error.position.column
            )
        }),
    }
}

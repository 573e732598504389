//! Helpers of the hostile-input tests: running the binary under a memory limit, building
//! gzip bombs, and tampering with model and state files.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use flate2::write::GzEncoder;
use flate2::Compression;
use tapegrad_net::tensor_file::TensorFile;

use super::Out;

/// The address-space limit the memory-related cases run under, in KiB (about 1.9 GiB): a
/// regression that allocates by a huge number fails the test instead of the machine.
pub const MEMORY_LIMIT_KIB: u64 = 2_000_000;

/// Runs `tapegrad ARGS` under `ulimit -v` [`MEMORY_LIMIT_KIB`], in the temporary directory.
pub fn tapegrad_limited<I, S>(args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let script = format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\" \"$@\"");
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_tapegrad"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("sh runs the tapegrad binary");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A gzip file that starts with `head` and then inflates to `members` x 64 MiB more zeros:
/// one compressed member of 64 MiB of zeros (about 64 KB), repeated.
pub fn gzip_bomb(head: &[u8], members: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let member = |prefix: &[u8]| {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(prefix).expect("compress");
        for _ in 0..64 {
            gz.write_all(&zeros).expect("compress");
        }
        gz.finish().expect("compress")
    };
    let mut bytes = member(head);
    let zeros_only = member(&[]);
    for _ in 1..members {
        bytes.extend(&zeros_only);
    }
    bytes
}

/// Loads the checkpoint at `path`, lets `change` edit it, and saves it back.
pub fn tamper(path: &Path, change: impl FnOnce(&mut TensorFile)) {
    let mut ck = TensorFile::load(path).expect("load the file to tamper with");
    change(&mut ck);
    ck.save(path).expect("save the tampered file");
}

/// Writes `text` to `path` after a UTF-8 byte-order mark.
pub fn with_bom(path: &Path, text: &str) {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(text.as_bytes());
    fs::write(path, bytes).expect("write the CSV file");
}

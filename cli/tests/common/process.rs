//! The `tapegrad` binary as a child process: in the background, with its standard output
//! already closed, or under a file-size limit.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Out;

/// `tapegrad ARGS` started in the background in `dir`, its output discarded.
pub fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tapegrad binary starts")
}

/// Waits up to a minute for `done`; panics naming `what` if it never is.
#[track_caller]
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` and returns its exit code and stderr.
pub fn finish(mut child: Child) -> (Option<i32>, String) {
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut stderr).unwrap();
    }
    let status = child.wait().unwrap();
    (status.code(), stderr)
}

/// Runs `tapegrad ARGS` with its stdout a pipe whose reading end is already closed, as
/// `tapegrad ... | head` is once `head` has had enough.
pub fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    finish(child)
}

/// `tapegrad ARGS` under `ulimit -f KIB` with SIGXFSZ ignored: writing past `kib` KiB into any
/// one file fails with EFBIG, as on a full disk.
#[cfg(target_os = "linux")]
pub fn tapegrad_with_file_limit(kib: u64, args: &[&str]) -> Out {
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_tapegrad"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("bash runs");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

//! The run folder: where `train` and `tune` put their files, and the small text files in it.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tapegrad_net::train::EpochStats;

use crate::failure::{Failure, Outcome};

/// `dir`, or `runs/<prefix>-<UTC date and time>` when none is given; created if missing.
pub fn prepare(dir: Option<&Path>, prefix: &str) -> Outcome<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => Path::new("runs").join(format!("{}-{}", sanitize(prefix), timestamp())),
    };
    fs::create_dir_all(&dir).map_err(|e| {
        Failure::input(format!(
            "cannot create the run folder {}: {e}",
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// Writes `contents` to `path` through a temporary file and a rename, so readers never see
/// half a file.
pub fn write_atomic(path: &Path, contents: &str) -> Outcome {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, contents)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| Failure::running(format!("cannot write {}: {e}", path.display())))
}

/// metrics.csv: one row per epoch.
pub fn metrics_csv(history: &[EpochStats]) -> String {
    let mut out = String::from("epoch,iteration,loss,train_accuracy,val_accuracy,lr,seconds\n");
    for s in history {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            s.epoch, s.iteration, s.loss, s.train_accuracy, s.val_accuracy, s.lr, s.seconds
        );
    }
    out
}

/// A data spec as a file-name fragment: letters, digits, `-` and `_` only.
fn sanitize(s: &str) -> String {
    let name = s.rsplit(['/', '\\']).find(|p| !p.is_empty()).unwrap_or(s);
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The current UTC time as `YYYYMMDD-HHMMSS`.
fn timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_has_date_and_time_fields() {
        let t = timestamp();
        assert_eq!(t.len(), 15, "{t}");
        assert!(t.starts_with("20"), "{t}");
        assert_eq!(&t[8..9], "-");
    }

    #[test]
    fn data_specs_become_safe_folder_names() {
        assert_eq!(sanitize("digits"), "digits");
        assert_eq!(sanitize("mnist:/data/fashion/"), "fashion");
        assert_eq!(sanitize("csv:my data.csv"), "csv-my-data-csv");
    }
}

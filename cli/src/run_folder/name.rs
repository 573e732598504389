//! Default run-folder names: `runs/<data>-<UTC date and time>`, with `-2`, `-3`, ... when
//! that name is taken, so runs started in the same second get folders of their own.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// How many suffixes are tried before giving up.
const MAX_SUFFIX: u32 = 10_000;

/// Creates and returns a new folder `parent/<prefix>-<time>` (or `...-N`), which no other
/// process can have: `create_dir` fails on a name that exists, so two runs racing for one
/// name get different ones.
pub fn create_unique(parent: &Path, prefix: &str) -> io::Result<PathBuf> {
    let base = format!(
        "{}-{}",
        sanitize(prefix),
        utc_timestamp(SystemTime::now(), false)
    );
    for n in 1..=MAX_SUFFIX {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dir = parent.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{MAX_SUFFIX} folders named {base}-N exist already"
    )))
}

/// A data spec as a file-name fragment: letters, digits, `-` and `_` only.
pub fn sanitize(s: &str) -> String {
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

/// `time` in UTC as `YYYYMMDD-HHMMSS`, or as ISO 8601 `YYYY-MM-DDTHH:MM:SSZ` when `iso`.
pub fn utc_timestamp(time: SystemTime, iso: bool) -> String {
    let secs = time
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
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if iso {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{year:04}{month:02}{day:02}-{h:02}{m:02}{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_have_date_and_time_fields() {
        let t = UNIX_EPOCH + Duration::from_secs(1_764_461_400); // 2025-11-30 00:10:00 UTC
        assert_eq!(utc_timestamp(t, false), "20251130-001000");
        assert_eq!(utc_timestamp(t, true), "2025-11-30T00:10:00Z");
    }

    #[test]
    fn data_specs_become_safe_folder_names() {
        assert_eq!(sanitize("digits"), "digits");
        assert_eq!(sanitize("mnist:/data/fashion/"), "fashion");
        assert_eq!(sanitize("csv:my data.csv"), "csv-my-data-csv");
    }

    #[test]
    fn folders_made_in_the_same_second_get_distinct_names() {
        let parent = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = (0..4)
            .map(|_| create_unique(parent.path(), "digits").unwrap())
            .collect();
        let mut names: Vec<String> = dirs
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(dirs.iter().all(|d| d.is_dir()));
    }
}

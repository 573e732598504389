//! CSV files: `csv` (read, then a seeded 70/15/15% split).
//!
//! Input: a leading byte (bit 0: name the file `data.csv.gz`, else `data.csv`; the whole byte
//! is the split's seed), then the file.

use tapegrad_net::data::csv;

use crate::contract::{bounded, file_budget, no_header};
use crate::framing;
use crate::scratch::Scratch;

/// Replays one input; returns whether the reader accepted it (see the module docs).
pub fn run(data: &[u8]) -> bool {
    let (first, files) = framing::split(data, 1);
    let gz = first & 1 != 0;
    let scratch = Scratch::new("csv");
    let path = scratch.write(if gz { "data.csv.gz" } else { "data.csv" }, files[0]);
    let budget = file_budget(files[0], gz, no_header);
    let result = bounded("csv", budget, || csv(&path, u64::from(first)));
    if !crate::contract::checking_results() {
        return result.is_ok();
    }
    let Ok(splits) = result else {
        return false;
    };
    super::datasets::check("csv", &splits);
    true
}

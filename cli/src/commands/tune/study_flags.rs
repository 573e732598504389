//! The study `tune`'s flags define: the search space (the defaults, under a `--space` file,
//! under the flags), the settings every trial shares, and the search.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use tapegrad_net::data::DataSpec;
use tapegrad_net::train::TrainConfig;
use tapegrad_net::tune::{Distribution, Search, SearchSpace, Study, TuneError, DEFAULT_ETA};

use crate::args::{SearchFlag, TuneArgs};
use crate::failure::{Failure, Outcome};
use crate::settings::MAX_CONFIG_FILE_BYTES;

/// The study the flags define, checked.
pub fn study_of(args: &TuneArgs, spec: &DataSpec) -> Outcome<Study> {
    let mut space = SearchSpace::defaults();
    if let Some(path) = &args.space {
        space = space.overlaid(SearchSpace::from_toml(&read_space_file(path)?, path)?);
    }
    space = space.overlaid(flag_space(args));
    let base = TrainConfig {
        epochs: args.epochs,
        seed: args.seed,
        ..TrainConfig::for_data(spec)
    };
    let search = match args.search {
        SearchFlag::Random => {
            if let Some(flag) =
                (args.min_epochs.map(|_| "--min-epochs")).or(args.eta.map(|_| "--eta"))
            {
                return Err(Failure::input(format!(
                    "{flag}: only successive halving has rungs; add --search halving (or asha)"
                )));
            }
            Search::Random
        }
        SearchFlag::Halving | SearchFlag::Asha => {
            let eta = args.eta.unwrap_or(DEFAULT_ETA);
            let min_epochs = (args.min_epochs)
                .unwrap_or_else(|| Search::default_min_epochs(args.trials, args.epochs, eta));
            match args.search {
                SearchFlag::Asha => Search::Asha { min_epochs, eta },
                _ => Search::Halving { min_epochs, eta },
            }
        }
    };
    Study::new(
        spec.to_string(),
        args.seed,
        args.trials,
        space,
        base,
        search,
    )
    .map_err(|e| match (&e, &args.space) {
        (TuneError::Space { .. }, Some(path)) => Failure::from(e).context(format!(
            "the search space (defaults, --space {}, flags)",
            path.display()
        )),
        _ => Failure::from(e),
    })
}

/// The distributions the flags set (`--lr`, `--reg`, `--hidden`, `--batch-size`,
/// `--optimizer`, `--schedule`), each replacing the default and the file's.
fn flag_space(args: &TuneArgs) -> SearchSpace {
    let mut flags = BTreeMap::new();
    let range = |r: &[f64]| {
        let at = |i: usize| r.get(i).copied().unwrap_or(f64::NAN);
        Distribution::log_uniform(at(0), at(1))
    };
    let mut put = |key: &str, d: Distribution| {
        flags.insert(key.to_owned(), d);
    };
    if let Some(lr) = &args.lr {
        put("lr", range(lr));
    }
    if let Some(reg) = &args.reg {
        put("reg", range(reg));
    }
    if let Some(hidden) = &args.hidden {
        put("hidden", Distribution::choice(hidden.iter().map(|h| &h.0)));
    }
    if let Some(sizes) = &args.batch_size {
        put("batch_size", Distribution::choice(sizes));
    }
    if let Some(rules) = &args.optimizer {
        put(
            "optimizer",
            Distribution::choice(rules.iter().map(|o| o.kind())),
        );
    }
    if let Some(kinds) = &args.schedule {
        put("schedule", Distribution::choice(kinds));
    }
    SearchSpace(flags)
}

/// Reads a `--space` file's text (at most [`MAX_CONFIG_FILE_BYTES`]).
fn read_space_file(path: &Path) -> Outcome<String> {
    let name = path.display();
    let mut text = String::new();
    File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| Failure::input(format!("--space {name}: cannot read it: {e}")))?;
    if text.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(Failure::input(format!(
            "--space {name}: larger than {MAX_CONFIG_FILE_BYTES} bytes; a search space is a \
             few lines"
        )));
    }
    Ok(text)
}

//! A shard of a study: `K/N` runs the trials `i` with `i mod N == K`.

use std::fmt;
use std::str::FromStr;

use super::TuneError;

/// The trials `i` with `i mod count == index`; `0/1` is the whole study.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// `K`, from 0.
    pub index: usize,
    /// `N`, at least 1.
    pub count: usize,
}

impl Shard {
    /// The whole study in one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether trial `trial` is this shard's.
    pub fn contains(self, trial: usize) -> bool {
        trial % self.count == self.index
    }

    /// This shard's trials of a study of `trials` trials, in order.
    ///
    /// ```
    /// use tapegrad_net::tune::Shard;
    /// let shard: Shard = "1/4".parse()?;
    /// assert_eq!(shard.trials(10).collect::<Vec<_>>(), [1, 5, 9]);
    /// # Ok::<(), tapegrad_net::tune::TuneError>(())
    /// ```
    pub fn trials(self, trials: usize) -> impl Iterator<Item = usize> {
        (self.index..trials).step_by(self.count)
    }
}

impl FromStr for Shard {
    type Err = TuneError;

    /// Reads `K/N` with `0 <= K < N`.
    fn from_str(text: &str) -> Result<Shard, TuneError> {
        let bad = |problem: &str| TuneError::Shard {
            text: text.to_owned(),
            problem: problem.to_owned(),
        };
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected K/N, for example 0/4"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| bad("K and N must be whole numbers, as in 0/4"))
        };
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index >= count {
            return Err(bad(
                "K counts from 0 and must be below N (shards 0/N to N-1/N)",
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_of_a_study_cover_every_trial_exactly_once() {
        for count in 1..6 {
            let mut seen = vec![0; 23];
            for index in 0..count {
                for i in (Shard { index, count }).trials(23) {
                    seen[i] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{count} shards: {seen:?}");
        }
    }

    #[test]
    fn bad_shards_are_refused_naming_what_is_wrong() {
        for (text, needle) in [
            ("4/4", "below N"),
            ("1/0", "at least 1"),
            ("3", "K/N"),
            ("a/2", "whole numbers"),
            ("-1/2", "whole numbers"),
        ] {
            let e = text.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains(text), "{text}: {e}");
        }
        assert_eq!(
            "2/5".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 5 }
        );
    }
}

//! The confusion counts of a classifier on labelled examples, and what they give per class:
//! precision, recall and F1, as scikit-learn's `classification_report` computes them.
//!
//! ```
//! use tapegrad_net::confusion::Confusion;
//! let mut m = Confusion::new(3);
//! for (label, predicted) in [(0, 0), (0, 1), (1, 1), (2, 1)] {
//!     m.add(label, predicted);
//! }
//! assert_eq!((m.correct(), m.total()), (2, 4));
//! let one = &m.per_class()[1];
//! assert_eq!((one.precision, one.recall), (Some(1.0 / 3.0), Some(1.0)));
//! assert_eq!(m.per_class()[2].precision, None); // never predicted
//! ```

use std::collections::BTreeMap;

/// Counts of (true class, predicted class) pairs. Only the non-zero cells are kept, so memory
/// grows with the examples, never with classes².
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Confusion {
    classes: usize,
    cells: BTreeMap<(usize, usize), usize>,
}

/// One class's scores. A score whose denominator is 0 is `None` (scikit-learn reports it as 0
/// with a warning).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    /// Examples whose label is the class.
    pub support: usize,
    /// Examples predicted as the class.
    pub predicted: usize,
    /// Examples of the class predicted as it.
    pub correct: usize,
    /// `correct / predicted`: how often a prediction of the class is right.
    pub precision: Option<f64>,
    /// `correct / support`: how much of the class is found.
    pub recall: Option<f64>,
    /// The harmonic mean of precision and recall, `2PR / (P + R)` (0 when both are 0).
    pub f1: Option<f64>,
}

impl Confusion {
    /// No examples yet, for labels and predictions in `0..classes`.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            cells: BTreeMap::new(),
        }
    }

    /// Counts one example. A label or prediction beyond the class count widens it.
    pub fn add(&mut self, label: usize, predicted: usize) {
        self.classes = self.classes.max(label + 1).max(predicted + 1);
        *self.cells.entry((label, predicted)).or_default() += 1;
    }

    /// The number of classes (labels and predictions are below it).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How many examples of class `label` were predicted as `predicted`.
    pub fn count(&self, label: usize, predicted: usize) -> usize {
        self.cells.get(&(label, predicted)).copied().unwrap_or(0)
    }

    /// The non-zero cells, `((label, predicted), count)`, by label then prediction.
    pub fn cells(&self) -> impl Iterator<Item = ((usize, usize), usize)> + '_ {
        self.cells.iter().map(|(&k, &n)| (k, n))
    }

    /// Examples counted.
    pub fn total(&self) -> usize {
        self.cells.values().sum()
    }

    /// Examples predicted right.
    pub fn correct(&self) -> usize {
        self.cells
            .iter()
            .filter(|((y, p), _)| y == p)
            .map(|(_, n)| n)
            .sum()
    }

    /// `correct / total` (0 with no examples).
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total().max(1) as f64
    }

    /// Each class's scores, for classes `0..classes()`.
    pub fn per_class(&self) -> Vec<ClassScores> {
        let mut support = vec![0; self.classes];
        let mut predicted = vec![0; self.classes];
        let mut correct = vec![0; self.classes];
        for (&(y, p), &n) in &self.cells {
            support[y] += n;
            predicted[p] += n;
            if y == p {
                correct[y] += n;
            }
        }
        let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        (0..self.classes)
            .map(|k| {
                let precision = ratio(correct[k], predicted[k]);
                let recall = ratio(correct[k], support[k]);
                let f1 = match (precision, recall) {
                    (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
                    (Some(_), Some(_)) => Some(0.0),
                    _ => None,
                };
                ClassScores {
                    support: support[k],
                    predicted: predicted[k],
                    correct: correct[k],
                    precision,
                    recall,
                    f1,
                }
            })
            .collect()
    }

    /// The unweighted means of precision, recall and F1 over the classes that occur (as a
    /// label or a prediction), an undefined score counting as 0, as scikit-learn's "macro
    /// avg". `None` with no examples.
    pub fn macro_average(&self) -> Option<(f64, f64, f64)> {
        let present: Vec<ClassScores> = (self.per_class().into_iter())
            .filter(|s| s.support > 0 || s.predicted > 0)
            .collect();
        if present.is_empty() {
            return None;
        }
        let mean = |f: fn(&ClassScores) -> Option<f64>| {
            present.iter().map(|s| f(s).unwrap_or(0.0)).sum::<f64>() / present.len() as f64
        };
        Some((mean(|s| s.precision), mean(|s| s.recall), mean(|s| s.f1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_a_hand_counted_three_class_example() {
        // labels  0 0 0 1 1 2
        // predict 0 0 1 1 2 2
        let mut m = Confusion::new(3);
        for (y, p) in [(0, 0), (0, 0), (0, 1), (1, 1), (1, 2), (2, 2)] {
            m.add(y, p);
        }
        let s = m.per_class();
        assert_eq!((s[0].precision, s[0].recall), (Some(1.0), Some(2.0 / 3.0)));
        assert_eq!((s[1].precision, s[1].recall), (Some(0.5), Some(0.5)));
        assert_eq!((s[2].precision, s[2].recall), (Some(0.5), Some(1.0)));
        assert!((s[0].f1.unwrap() - 0.8).abs() < 1e-12);
        assert!((s[2].f1.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        let (p, r, f) = m.macro_average().unwrap();
        assert!((p - 2.0 / 3.0).abs() < 1e-12);
        assert!((r - (2.0 / 3.0 + 0.5 + 1.0) / 3.0).abs() < 1e-12);
        assert!((f - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert_eq!((m.correct(), m.total()), (4, 6));
    }

    #[test]
    fn a_class_with_neither_labels_nor_predictions_is_undefined_and_not_averaged() {
        let mut m = Confusion::new(3);
        m.add(0, 0);
        m.add(1, 0);
        let s = m.per_class();
        assert_eq!((s[2].precision, s[2].recall, s[2].f1), (None, None, None));
        assert_eq!((s[1].precision, s[1].recall), (None, Some(0.0)));
        // class 0: P = 1/2, R = 1, F1 = 2/3; class 1: P undefined (0), R = 0, F1 undefined (0)
        let (p, r, f) = m.macro_average().unwrap();
        assert_eq!((p, r), (0.25, 0.5));
        assert!((f - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(Confusion::new(2).macro_average(), None);
    }
}

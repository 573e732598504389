//! Weight averaging: an exponential moving average of the parameters (`--ema`) or stochastic
//! weight averaging over the last epochs (`--swa-start`), kept beside the net being trained.
//!
//! Training always steps the raw parameters; the average is what validation measures, what
//! the best-model tracking keeps and what the model file holds (see [`Training`]).
//!
//! **EMA.** After every optimizer step, `avg ← d_t · avg + (1 − d_t) · w` with the warm-up
//! decay `d_t = min(DECAY, (1 + t) / (10 + t))`, `t` the EMA updates before this one (the
//! `num_updates` form of TensorFlow's `ExponentialMovingAverage`): the first updates follow
//! the raw weights closely, so the early average is not dragged back to the random
//! initialisation, and from `t ≈ 9 / (1 − DECAY)` on the decay is `DECAY`. The average starts
//! as a copy of the initial net.
//!
//! **SWA.** At the end of each epoch from `swa_start` on, the parameters join an equal-weight
//! average: after `k` snapshots, `avg = (w_1 + ... + w_k) / k`, kept as the running mean
//! `avg ← avg + (w − avg) / k`. Before `swa_start` the raw net is measured. The nets here have
//! no batch norm, so the average needs no recomputed statistics.
//!
//! [`Training`]: super::Training

use ndarray::Zip;
use tapegrad_autograd::Element;

use super::TrainConfig;
use crate::Mlp;

/// The averaging a [`TrainConfig`] asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Averaging {
    /// An exponential moving average after every step, with this decay in (0, 1).
    Ema {
        /// The decay once warmed up.
        decay: f64,
    },
    /// An equal-weight average of the nets at the end of epochs `start, start + 1, ...`.
    Swa {
        /// The first epoch averaged (from 1).
        start: usize,
        /// The constant learning rate of those epochs, if not the schedule's.
        lr: Option<f64>,
    },
}

impl TrainConfig {
    /// The weight averaging of this configuration: EMA with `ema`, SWA with `swa_start`
    /// (`validate` refuses both at once), else none.
    pub fn averaging(&self) -> Option<Averaging> {
        match (self.ema, self.swa_start) {
            (Some(decay), _) => Some(Averaging::Ema { decay }),
            (None, Some(start)) => Some(Averaging::Swa {
                start,
                lr: self.swa_lr,
            }),
            (None, None) => None,
        }
    }

    /// Checks the averaging settings: `ema` in (0, 1); `swa_start` from 1 to `epochs`;
    /// `swa_lr` positive and only with `swa_start`; not `ema` and `swa_start` together. The
    /// error is `(key, value, problem)`.
    pub(crate) fn check_averaging(&self) -> Result<(), (&'static str, String, String)> {
        let bad = |key, value: String, problem: &str| Err((key, value, problem.to_owned()));
        if let Some(decay) = self.ema {
            if !(decay > 0.0 && decay < 1.0) {
                let problem = "the decay must lie strictly between 0 and 1 (e.g. 0.999)";
                return bad("ema", decay.to_string(), problem);
            }
            if let Some(start) = self.swa_start {
                let problem = "the model is averaged one way: choose ema or swa_start";
                return bad("swa_start", start.to_string(), problem);
            }
        }
        if let Some(start) = self.swa_start {
            if start == 0 || start > self.epochs {
                let problem = format!(
                    "the first averaged epoch must be one of the run's epochs, 1 to {}",
                    self.epochs
                );
                return bad("swa_start", start.to_string(), &problem);
            }
        }
        if let Some(lr) = self.swa_lr {
            if !(lr.is_finite() && lr > 0.0) {
                return bad("swa_lr", lr.to_string(), "must be a positive number");
            }
            if self.swa_start.is_none() {
                let problem = "applies from swa_start on: give swa_start too";
                return bad("swa_lr", lr.to_string(), problem);
            }
        }
        Ok(())
    }

    /// The learning rate of a step of epoch `epoch` (from 1) whose schedule gives `scheduled`:
    /// `swa_lr` from `swa_start` on when both are set, else `scheduled`.
    pub fn averaged_lr(&self, epoch: usize, scheduled: f64) -> f64 {
        match self.averaging() {
            Some(Averaging::Swa {
                start,
                lr: Some(lr),
            }) if epoch >= start => lr,
            _ => scheduled,
        }
    }
}

/// The average of a net's parameters over training, and how many updates it holds.
///
/// ```
/// use tapegrad_net::train::WeightAverage;
/// use tapegrad_net::{Init, Mlp};
///
/// let a = Mlp::<f64>::new(&[2, 3, 2], Init { std: 1.0, seed: 1 })?;
/// let b = Mlp::<f64>::new(&[2, 3, 2], Init { std: 1.0, seed: 2 })?;
/// let mut swa = WeightAverage::new(&a);
/// swa.add_snapshot(&a);
/// swa.add_snapshot(&b);
/// let (w_a, w_b) = (a.layers()[0].weight(), b.layers()[0].weight());
/// let mean = (&w_a + &w_b) / 2.0;
/// let gap = (&swa.net.layers()[0].weight() - &mean).mapv(f64::abs);
/// assert!(gap.iter().all(|&g| g < 1e-12));
/// assert_eq!(swa.count, 2);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WeightAverage<T: Element> {
    /// The averaged parameters (a copy of the initial net before the first update).
    pub net: Mlp<T>,
    /// Updates taken in: EMA steps, or SWA snapshots.
    pub count: u64,
}

impl<T: Element> WeightAverage<T> {
    /// An average that starts as a copy of `net` and holds no update yet.
    pub fn new(net: &Mlp<T>) -> Self {
        WeightAverage {
            net: net.clone(),
            count: 0,
        }
    }

    /// The EMA decay of update number `count` (from 0) for a target `decay`:
    /// `min(decay, (1 + count) / (10 + count))`.
    pub fn ema_decay(decay: f64, count: u64) -> f64 {
        let t = count as f64;
        decay.min((1.0 + t) / (10.0 + t))
    }

    /// One EMA update towards `raw` (the net after a step), in place: allocates nothing
    /// unless the average's parameters are shared (a clone of it was taken since the last
    /// update, e.g. as the best net), when they are copied once.
    ///
    /// `raw` must have the average's layer sizes (it is the net the average was made from).
    pub fn ema_update(&mut self, raw: &Mlp<T>, decay: f64) {
        let d = Self::ema_decay(decay, self.count);
        self.blend(raw, T::cast(1.0 - d));
    }

    /// Adds `raw` to the equal-weight (SWA) average.
    pub fn add_snapshot(&mut self, raw: &Mlp<T>) {
        let k = self.count + 1;
        self.blend(raw, T::cast(1.0 / k as f64));
    }

    /// `avg ← avg + weight · (raw − avg)` for every parameter (`weight = 1` copies `raw`
    /// exactly), and one more update counted.
    fn blend(&mut self, raw: &Mlp<T>, weight: T) {
        // Checked layer by layer: `sizes()` would allocate.
        debug_assert!(
            self.net.layers().len() == raw.layers().len()
                && (self.net.layers().iter().zip(raw.layers()))
                    .all(|(a, r)| a.weight().dim() == r.weight().dim()),
            "an average of another net"
        );
        for (avg, raw) in self.net.layers_mut().iter_mut().zip(raw.layers()) {
            let (w, b) = avg.parameters_mut();
            if weight == T::one() {
                w.assign(&raw.weight());
                b.assign(&raw.bias());
            } else {
                let step = |a: &mut T, &r: &T| *a = *a + weight * (r - *a);
                let raw_w = raw.weight();
                match (w.as_slice_mut(), raw_w.as_slice()) {
                    // Both cores on a large weight matrix, once per step.
                    (Some(a), Some(r)) => crate::optim::elementwise([a], r, |[a], r| {
                        a.iter_mut().zip(r).for_each(|(a, r)| step(a, r))
                    }),
                    _ => Zip::from(w).and(raw_w).for_each(step),
                }
                Zip::from(b).and(raw.bias()).for_each(step);
            }
        }
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Init;

    fn net(seed: u64) -> Mlp<f64> {
        Mlp::new(&[3, 4, 2], Init { std: 1.0, seed }).unwrap()
    }

    fn all(net: &Mlp<f64>) -> Vec<f64> {
        net.parameters().flat_map(|(_, p)| p.to_owned()).collect()
    }

    #[test]
    fn bad_averaging_settings_are_refused_naming_their_key() {
        let d = TrainConfig::default();
        let cases = [
            (Some(0.0), None, None, "ema"),
            (Some(1.0), None, None, "ema"),
            (Some(f64::NAN), None, None, "ema"),
            (Some(0.9), Some(1), None, "swa_start"),
            (None, Some(0), None, "swa_start"),
            (None, Some(d.epochs + 1), None, "swa_start"),
            (None, Some(1), Some(-0.1), "swa_lr"),
            (None, None, Some(0.1), "swa_lr"),
        ];
        for (ema, swa_start, swa_lr, key) in cases {
            let config = TrainConfig {
                ema,
                swa_start,
                swa_lr,
                ..d.clone()
            };
            let e = config.validate().unwrap_err();
            assert_eq!(e.setting, crate::config::Setting::Averaging(key), "{e}");
        }
        let fine = TrainConfig {
            swa_start: Some(d.epochs),
            swa_lr: Some(0.01),
            ..d.clone()
        };
        assert!(fine.validate().is_ok());
    }

    #[test]
    fn a_weight_matrix_blended_on_two_threads_gets_every_elements_update_bit_for_bit() {
        // 300 x 120 weights: longer than the grain of the parallel blend, so it is split.
        let sizes = [300, 120, 2];
        let (start, raw) = (Init { std: 1.0, seed: 1 }, Init { std: 1.0, seed: 2 });
        let (start, raw) = (
            Mlp::<f64>::new(&sizes, start).unwrap(),
            Mlp::<f64>::new(&sizes, raw).unwrap(),
        );
        let mut ema = WeightAverage::new(&start);
        ema.ema_update(&raw, 0.9);
        let weight = 1.0 - WeightAverage::<f64>::ema_decay(0.9, 0);
        let expected: Vec<f64> = all(&start)
            .iter()
            .zip(all(&raw))
            .map(|(a, r)| a + weight * (r - a))
            .collect();
        let got = all(&ema.net);
        assert_eq!(got.len(), 300 * 120 + 120 + 120 * 2 + 2);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g.to_bits(), e.to_bits(), "parameter element {i}");
        }
    }

    #[test]
    fn swa_of_known_snapshots_is_their_arithmetic_mean() {
        let snapshots: Vec<Mlp<f64>> = (10..15).map(net).collect();
        let mut swa = WeightAverage::new(&net(0));
        for s in &snapshots {
            swa.add_snapshot(s);
        }
        let n = snapshots.len() as f64;
        let sums = snapshots.iter().map(all).fold(vec![0.0; 26], |acc, p| {
            acc.iter().zip(&p).map(|(a, b)| a + b).collect()
        });
        for (got, sum) in all(&swa.net).iter().zip(&sums) {
            assert!((got - sum / n).abs() < 1e-12, "{got} vs {}", sum / n);
        }
        assert_eq!(swa.count, 5);
    }

    #[test]
    fn the_first_swa_snapshot_replaces_the_initial_net_exactly() {
        let mut swa = WeightAverage::new(&net(0));
        swa.add_snapshot(&net(1));
        assert_eq!(swa.net, net(1));
    }

    #[test]
    fn ema_follows_the_warm_up_decay_then_the_target_decay() {
        assert_eq!(WeightAverage::<f64>::ema_decay(0.999, 0), 0.1);
        assert_eq!(WeightAverage::<f64>::ema_decay(0.999, 10), 11.0 / 20.0);
        assert_eq!(WeightAverage::<f64>::ema_decay(0.5, 10), 0.5);
        // One update from the initial net a towards b: d a + (1 - d) b with d = 0.1.
        let (a, b) = (net(1), net(2));
        let mut ema = WeightAverage::new(&a);
        ema.ema_update(&b, 0.999);
        for ((got, a), b) in all(&ema.net).iter().zip(all(&a)).zip(all(&b)) {
            assert!((got - (0.1 * a + 0.9 * b)).abs() < 1e-12);
        }
        // A fixed target is approached geometrically: the gap shrinks by d_t each update.
        let mut gap = 0.1 * (all(&a)[0] - all(&b)[0]);
        for t in 1..50 {
            ema.ema_update(&b, 0.9);
            gap *= WeightAverage::<f64>::ema_decay(0.9, t);
            assert!((all(&ema.net)[0] - all(&b)[0] - gap).abs() < 1e-12);
        }
    }
}

//! [`Activation`]: the nonlinearity between an [`Mlp`](crate::Mlp)'s layers.

use std::fmt;
use std::str::FromStr;

use ndarray::ArrayViewMut2;
use serde::{Deserialize, Serialize};
use tapegrad_autograd::{Element, Var};

/// The hidden units' nonlinearity `a_l = act(z_l)`, applied between layers (never after the
/// last one, whose outputs are the class scores). ReLU is the document's and the default; a
/// model file without an activation is a ReLU net.
///
/// ```
/// use tapegrad_net::model::Activation;
/// assert_eq!("tanh".parse::<Activation>()?, Activation::Tanh);
/// assert_eq!(Activation::default(), Activation::Relu);
/// assert_eq!(Activation::LeakyRelu.to_string(), "leaky_relu");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(z, 0)`: the document's net.
    #[default]
    Relu,
    /// `tanh z`.
    Tanh,
    /// The logistic function `1 / (1 + e^-z)`.
    Sigmoid,
    /// `z` where `z > 0`, `0.01 z` elsewhere (slope [`Activation::LEAKY_SLOPE`], PyTorch's
    /// default).
    LeakyRelu,
}

impl Activation {
    /// Every activation, in the order `--help` lists them.
    pub const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::LeakyRelu,
    ];

    /// The slope of [`Activation::LeakyRelu`] below 0.
    pub const LEAKY_SLOPE: f64 = 0.01;

    /// The name a flag, a config file and a model file use: `relu`, `tanh`, `sigmoid`,
    /// `leaky_relu`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::LeakyRelu => "leaky_relu",
        }
    }

    /// Records `act(z)` on `z`'s tape.
    pub fn record<'t, T: Element>(self, z: Var<'t, T>) -> Var<'t, T> {
        match self {
            Activation::Relu => z.relu(),
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => z.sigmoid(),
            Activation::LeakyRelu => z.leaky_relu(T::cast(Self::LEAKY_SLOPE)),
        }
    }

    /// `z = act(z)` elementwise, without a tape, with the same formulas as the tape's ops.
    pub fn apply_in_place<T: Element>(self, mut z: ArrayViewMut2<'_, T>) {
        let zero = T::zero();
        match self {
            Activation::Relu => z.mapv_inplace(|v| if v > zero { v } else { zero }),
            Activation::Tanh => z.mapv_inplace(T::tanh),
            Activation::Sigmoid => z.mapv_inplace(tapegrad_autograd::sigmoid),
            Activation::LeakyRelu => {
                let slope = T::cast(Self::LEAKY_SLOPE);
                z.mapv_inplace(|v| if v > zero { v } else { slope * v })
            }
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = String;

    /// One of the names of [`Activation::name`]; anything else is an error listing them.
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "unknown activation '{s}': expected one of {}",
                    names.join(", ")
                )
            })
    }
}

use ndarray::Array2;

use super::affine::Affine;
use super::{resample, Augment, Augmenter};
use crate::config::Setting;
use crate::data::ImageShape;

/// A `h x w` grey image with distinct values, a blank (0) border of `border` pixels.
fn image(h: usize, w: usize, border: usize) -> Vec<f32> {
    let mut out = vec![0.0; h * w];
    for y in border..h - border {
        for x in border..w - border {
            out[y * w + x] = 0.1 + (y * w + x) as f32 / (h * w) as f32;
        }
    }
    out
}

fn affine(rotate: f64, scale: f64, shear: f64, shift: f64) -> Augment {
    Augment::Affine {
        rotate,
        scale,
        shear,
        shift,
        flip: false,
        pixel_dropout: 0.0,
    }
}

fn elastic(alpha: f64) -> Augment {
    Augment::Elastic {
        alpha,
        sigma: 4.0,
        rotate: 0.0,
        scale: 0.0,
        shear: 0.0,
        shift: 0.0,
        flip: false,
        pixel_dropout: 0.0,
    }
}

fn augmenter(augment: Augment, shape: ImageShape, offset: Option<&[f32]>) -> Augmenter {
    Augmenter::new(&augment, Some(shape), offset, 4, "test")
        .unwrap()
        .unwrap()
}

#[test]
fn identity_parameters_return_the_image_unchanged_for_every_kind() {
    let shape = ImageShape::grey(7, 9);
    let pixels = image(7, 9, 1);
    let mean: Vec<f32> = (0..63).map(|i| i as f32 * 0.01).collect();
    let centred: Vec<f32> = pixels.iter().zip(&mean).map(|(p, m)| p - m).collect();
    let identities = [
        Augment::Shift {
            shift: 0.0,
            flip: false,
            pixel_dropout: 0.0,
        },
        affine(0.0, 0.0, 0.0, 0.0),
        elastic(0.0),
    ];
    for augment in identities {
        let a = augmenter(augment, shape, Some(&mean));
        for seed in 0..5 {
            let mut out = vec![f32::NAN; 63];
            a.draw(seed, &centred, &mut out);
            assert_eq!(out, centred, "{augment:?}");
        }
    }
}

#[test]
fn elastic_with_alpha_zero_is_the_identity_even_with_an_affine_part_off() {
    let shape = ImageShape::grey(28, 28);
    let pixels = image(28, 28, 3);
    let a = augmenter(elastic(0.0), shape, None);
    let mut out = vec![0.0; 784];
    a.draw(12345, &pixels, &mut out);
    assert_eq!(out, pixels);
    // And a positive alpha does move pixels.
    let moved = augmenter(elastic(34.0), shape, None);
    moved.draw(12345, &pixels, &mut out);
    assert_ne!(out, pixels);
}

#[test]
fn an_integer_shift_moves_pixels_exactly_and_blanks_what_comes_in() {
    let shape = ImageShape::grey(5, 6);
    let pixels: Vec<f32> = (0..30).map(|i| i as f32 + 1.0).collect();
    let zero = vec![0.0; 30];
    let mut out = vec![f32::NAN; 30];
    resample::shift(&pixels, &zero, shape, (2, -1), false, &mut out);
    for y in 0..5 {
        for x in 0..6 {
            let (sx, sy) = (x as isize - 2, y as isize + 1);
            let want = if (0..6).contains(&sx) && (0..5).contains(&sy) {
                pixels[sy as usize * 6 + sx as usize]
            } else {
                0.0
            };
            assert_eq!(out[y * 6 + x], want, "pixel ({x}, {y})");
        }
    }
    // A sub-pixel-free affine shift by whole pixels is the same exact copy.
    let map = Affine::new(0.0, 1.0, 0.0, (2.0, -1.0), false, 5, 6);
    let mut warped = vec![f32::NAN; 30];
    resample::warp(
        &pixels,
        &zero,
        shape,
        |x, y| map.source(x, y),
        &mut vec![0.0; 60],
        &mut warped,
    );
    assert_eq!(warped, out);
}

#[test]
fn a_blank_border_stays_blank_on_mean_subtracted_images() {
    // Raw images are 0 outside a centre block; the training set's mean is subtracted. After
    // any shift, a pixel whose source is blank or outside must be exactly -mean there, as a
    // raw 0 pixel is after preprocessing.
    let shape = ImageShape::grey(8, 8);
    let raw = image(8, 8, 3);
    let mean: Vec<f32> = (0..64).map(|i| 0.3 + (i % 7) as f32 * 0.05).collect();
    let centred: Vec<f32> = raw.iter().zip(&mean).map(|(p, m)| p - m).collect();
    let mut out = vec![f32::NAN; 64];
    resample::shift(&centred, &mean, shape, (1, 1), false, &mut out);
    for y in 0..8 {
        for x in 0..8 {
            let inside = (4..=5).contains(&x) && (4..=5).contains(&y);
            if !inside {
                assert_eq!(out[y * 8 + x], -mean[y * 8 + x], "pixel ({x}, {y})");
            }
        }
    }
    // Bilinear too: a small rotation keeps the outer ring blank.
    let a = augmenter(affine(10.0, 0.0, 0.0, 0.0), shape, Some(&mean));
    a.draw(7, &centred, &mut out);
    for p in (0..8).chain(56..64) {
        assert!((out[p] + mean[p]).abs() < 1e-6, "pixel {p}: {}", out[p]);
    }
}

#[test]
fn a_quarter_turn_of_a_square_image_is_its_transpose_mirrored() {
    let n = 6;
    let shape = ImageShape::grey(n, n);
    let pixels: Vec<f32> = (0..n * n).map(|i| i as f32).collect();
    let map = Affine::new(90.0, 1.0, 0.0, (0.0, 0.0), false, n, n);
    let mut out = vec![f32::NAN; n * n];
    resample::warp(
        &pixels,
        &vec![0.0; n * n],
        shape,
        |x, y| map.source(x, y),
        &mut vec![0.0; n * n + 5 * n],
        &mut out,
    );
    for y in 0..n {
        for x in 0..n {
            // Turned a quarter counter-clockwise on screen: output (x, y) shows input
            // (n-1-y, x), i.e. the transpose read with its rows reversed.
            let want = pixels[x * n + (n - 1 - y)];
            assert!(
                (out[y * n + x] - want).abs() < 1e-4,
                "({x}, {y}): {} vs {want}",
                out[y * n + x]
            );
        }
    }
}

#[test]
fn a_flip_mirrors_left_to_right() {
    let shape = ImageShape::grey(3, 4);
    let pixels: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let mut out = vec![f32::NAN; 12];
    resample::shift(&pixels, &[0.0; 12], shape, (0, 0), true, &mut out);
    assert_eq!(&out[..4], &[3.0, 2.0, 1.0, 0.0]);
    assert_eq!(&out[8..], &[11.0, 10.0, 9.0, 8.0]);
}

#[test]
fn colour_channels_move_together() {
    let shifted = Augment::Shift {
        shift: 1.0,
        flip: true,
        pixel_dropout: 0.0,
    };
    for (channel_major, augment) in [false, true]
        .into_iter()
        .flat_map(|m| [(m, affine(20.0, 0.1, 5.0, 1.0)), (m, shifted)])
    {
        let shape = ImageShape {
            height: 5,
            width: 5,
            channels: 3,
            channel_major,
        };
        // Channel c of every pixel is (c + 1) times channel 0.
        let grey = image(5, 5, 1);
        let mut pixels = vec![0.0; 75];
        for y in 0..5 {
            for x in 0..5 {
                for c in 0..3 {
                    pixels[shape.index(y, x, c)] = grey[y * 5 + x] * (c + 1) as f32;
                }
            }
        }
        let a = augmenter(augment, shape, None);
        let mut out = vec![0.0; 75];
        a.draw(3, &pixels, &mut out);
        assert_ne!(out, pixels, "{augment:?} moved the image");
        for y in 0..5 {
            for x in 0..5 {
                let base = out[shape.index(y, x, 0)];
                for c in 1..3 {
                    let v = out[shape.index(y, x, c)];
                    assert!((v - base * (c + 1) as f32).abs() < 1e-5, "({x}, {y}, {c})");
                }
            }
        }
    }
}

#[test]
fn bilinear_outputs_stay_within_the_input_range() {
    let shape = ImageShape::grey(28, 28);
    let pixels = image(28, 28, 2); // values in [0, 1.1]
    let (lo, hi) = (0.0f32, pixels.iter().cloned().fold(0.0, f32::max));
    for augment in [affine(30.0, 0.3, 20.0, 4.0), elastic(60.0)] {
        let a = augmenter(augment, shape, None);
        let mut out = vec![0.0; 784];
        for seed in 0..20 {
            a.draw(seed, &pixels, &mut out);
            for &v in &out {
                assert!(v >= lo - 1e-6 && v <= hi * (1.0 + 1e-6), "{augment:?}: {v}");
            }
        }
    }
}

#[test]
fn the_same_seed_epoch_and_index_give_the_same_image_and_others_differ() {
    let shape = ImageShape::grey(10, 10);
    let features = Array2::from_shape_fn((6, 100), |(i, p)| ((i * 31 + p) % 17) as f32 / 17.0);
    let mut a = augmenter(elastic(20.0), shape, None);
    let first = a.batch(9, 2, features.view(), &[3, 1, 4]).to_owned();
    let again = a.batch(9, 2, features.view(), &[1, 4, 3]).to_owned();
    // Each example's image depends on (seed, epoch, index), not on its place in the batch.
    assert_eq!(first.row(0), again.row(2));
    assert_eq!(first.row(1), again.row(0));
    let next_epoch = a.batch(9, 3, features.view(), &[3]).to_owned();
    assert_ne!(first.row(0), next_epoch.row(0));
    let other_seed = a.batch(10, 2, features.view(), &[3]).to_owned();
    assert_ne!(first.row(0), other_seed.row(0));
}

#[test]
fn one_and_two_threads_give_bit_identical_batches() {
    let shape = ImageShape::grey(12, 12);
    let features = Array2::from_shape_fn((64, 144), |(i, p)| ((i * 7 + p * 3) % 23) as f32);
    let rows: Vec<usize> = (0..64).rev().collect();
    let on = |threads: usize, augment: Augment| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut a = Augmenter::new(&augment, Some(shape), None, 64, "test")
            .unwrap()
            .unwrap();
        pool.install(|| a.batch(5, 1, features.view(), &rows).to_owned())
    };
    for augment in [elastic(34.0), affine(12.0, 0.1, 10.0, 2.0)] {
        assert_eq!(on(1, augment), on(2, augment), "{augment:?}");
    }
}

#[test]
fn each_bad_setting_is_a_typed_error_naming_it() {
    let cases = [
        (affine(f64::NAN, 0.1, 0.0, 0.0), "rotate"),
        (affine(0.0, 1.5, 0.0, 0.0), "scale"),
        (affine(0.0, 0.1, -3.0, 0.0), "shear"),
        (affine(0.0, 0.1, 0.0, f64::INFINITY), "shift"),
        (
            Augment::Shift {
                shift: 0.5,
                flip: false,
                pixel_dropout: 0.0,
            },
            "shift",
        ),
        (elastic(-1.0), "alpha"),
        (
            Augment::Elastic {
                alpha: 1.0,
                sigma: 0.0,
                rotate: 0.0,
                scale: 0.0,
                shear: 0.0,
                shift: 0.0,
                flip: false,
                pixel_dropout: 0.0,
            },
            "sigma",
        ),
    ];
    for (augment, key) in cases {
        let e = augment.check().unwrap_err();
        assert_eq!(e.setting, Setting::Augment(key), "{augment:?}");
        let built = Augmenter::new(&augment, Some(ImageShape::grey(4, 4)), None, 1, "x");
        assert!(built.is_err(), "{augment:?}");
    }
}

#[test]
fn augmenting_data_without_an_image_shape_is_an_error_naming_the_data() {
    let e = Augmenter::new(&affine(1.0, 0.0, 0.0, 0.0), None, None, 1, "spiral").unwrap_err();
    assert!(e.to_string().contains("spiral"), "{e}");
    assert!(e.to_string().contains("no image shape"), "{e}");
    assert!(Augmenter::new(&Augment::None, None, None, 1, "spiral")
        .unwrap()
        .is_none());
}

#[test]
fn kinds_read_from_a_table_with_their_documented_defaults() {
    let read: Augment = serde_json::from_str(r#"{"kind": "affine", "rotate": 5}"#).unwrap();
    assert_eq!(read, affine(5.0, 0.12, 12.0, 3.0));
    assert!(serde_json::from_str::<Augment>(r#"{"kind": "shift", "rotate": 5}"#).is_err());
    for kind in super::AUGMENT_KINDS {
        let augment = Augment::kind_default(kind).unwrap();
        assert_eq!(augment.kind(), kind);
        assert!(augment.check().is_ok(), "{kind}");
    }
}

#[test]
fn the_smoothing_products_equal_the_direct_clamped_gaussian_sum_times_alpha() {
    use super::elastic::{ElasticField, GaussianKernel};
    // Direct: every output the sum over taps of the clamped neighbours, x then y.
    fn direct(k: &GaussianKernel, field: &[f32], h: usize, w: usize) -> Vec<f32> {
        let r = k.radius() as isize;
        let at = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
        let mut along_x = vec![0.0f32; h * w];
        for y in 0..h {
            for x in 0..w {
                along_x[y * w + x] = (k.taps().iter().enumerate())
                    .map(|(t, &tap)| tap * field[y * w + at(x as isize + t as isize - r, w)])
                    .sum();
            }
        }
        let mut out = vec![0.0f32; h * w];
        for y in 0..h {
            for x in 0..w {
                out[y * w + x] = (k.taps().iter().enumerate())
                    .map(|(t, &tap)| tap * along_x[at(y as isize + t as isize - r, h) * w + x])
                    .sum();
            }
        }
        out
    }
    for (sigma, alpha, h, w) in [(4.0, 34.0, 28, 28), (1.0, 2.0, 5, 9), (3.0, 1.0, 4, 3)] {
        let (k, field) = (
            GaussianKernel::new(sigma),
            ElasticField::new(sigma, alpha, h, w),
        );
        let noise = |i: usize| ((i * 37 % 11) as f32 - 5.0) / 5.0;
        let dx: Vec<f32> = (0..h * w).map(noise).collect();
        let dy: Vec<f32> = (0..h * w).map(|i| noise(i + 3)).collect();
        let mut scratch = vec![0.0; field.scratch_len()];
        for y in 0..h {
            scratch[2 * w * y..2 * w * y + w].copy_from_slice(&dx[y * w..(y + 1) * w]);
            scratch[2 * w * y + w..2 * w * (y + 1)].copy_from_slice(&dy[y * w..(y + 1) * w]);
        }
        field.smooth(&mut scratch);
        let want: Vec<f32> = (direct(&k, &dx, h, w).into_iter())
            .chain(direct(&k, &dy, h, w))
            .map(|v| v * alpha as f32)
            .collect();
        for (g, e) in scratch[..2 * h * w].iter().zip(&want) {
            assert!(
                (g - e).abs() < 1e-4 * alpha as f32,
                "sigma {sigma}, {h}x{w}: {g} vs {e}"
            );
        }
        // A constant field stays constant (the kernel is normalised, the edges repeat).
        scratch[..2 * h * w].fill(0.5);
        field.smooth(&mut scratch);
        let flat = 0.5 * alpha as f32;
        assert!(scratch[..2 * h * w]
            .iter()
            .all(|v| (v - flat).abs() < 1e-4 * flat));
    }
}

#[test]
fn pixel_dropout_blanks_about_p_of_the_pixels_and_scales_the_rest_by_one_over_one_minus_p() {
    let shape = ImageShape::grey(28, 28);
    let raw = image(28, 28, 0);
    let mean: Vec<f32> = (0..784).map(|i| (i % 7) as f32 * 0.05).collect();
    let centred: Vec<f32> = raw.iter().zip(&mean).map(|(p, m)| p - m).collect();
    let keep_all = Augment::Shift {
        shift: 0.0,
        flip: false,
        pixel_dropout: 0.25,
    };
    let a = augmenter(keep_all, shape, Some(&mean));
    let (mut dropped, mut seen) = (0, 0);
    let mut out = vec![0.0; 784];
    for seed in 0..20 {
        a.draw(seed, &centred, &mut out);
        for ((o, m), r) in out.iter().zip(&mean).zip(&raw) {
            let back = o + m; // the raw value drawn
            seen += 1;
            match back.abs() < 1e-6 {
                true => dropped += 1,
                false => assert!((back - r / 0.75).abs() < 1e-5, "{back} vs {r} / 0.75"),
            }
        }
    }
    let rate = dropped as f64 / seen as f64;
    assert!((rate - 0.25).abs() < 0.02, "dropped {rate}");
    let bad = Augment::Shift {
        shift: 0.0,
        flip: false,
        pixel_dropout: 1.0,
    };
    assert_eq!(
        bad.check().unwrap_err().setting,
        Setting::Augment("pixel_dropout")
    );
}

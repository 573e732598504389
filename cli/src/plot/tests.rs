//! Tests of the pictures: each is decoded with the `image` crate and checked for its size and,
//! where it says something, its pixels; the report is checked as text.

use super::accuracy::accuracy_range;
use super::colour::{scale_end, value_label};
use super::loss::{smooth, smoothing_window};
use super::report::{escape, report_html, METRICS_ROWS};
use super::weights::{WeightsLayout, MAX_HEAT_MAP, MAX_TILES, MIN_CELL};
use super::*;
use image::RgbImage;
use ndarray::Array2;

/// Decodes the PNG at `path` (the image crate, not a signature check).
fn decode(path: &Path) -> RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()))
        .to_rgb8()
}

/// How many pixels of `img` have exactly `colour`.
fn count(img: &RgbImage, colour: RGBColor) -> usize {
    img.pixels()
        .filter(|p| p.0 == [colour.0, colour.1, colour.2])
        .count()
}

fn noisy_loss(n: usize) -> Vec<(f64, f64)> {
    let noise = |t: f64| 0.15 * ((t * 12.9898).sin() * 43758.5453).fract();
    (0..n)
        .map(|i| i as f64)
        .map(|t| (t, 2.3 * (-t / 300.0).exp() + 0.4 + noise(t)))
        .collect()
}

fn accuracy(top: f64, tau: f64) -> Vec<(f64, f64)> {
    (1..=10)
        .map(|e| e as f64)
        .map(|e| (e, 0.1 + top * (1.0 - (-e / tau).exp())))
        .collect()
}

#[test]
fn plot_tick_and_value_labels_are_short() {
    let cases = [
        (100.0, "100"),
        (-0.0, "0"),
        (0.30000000000000004, "0.3"),
        (2.5, "2.5"),
    ];
    for (v, want) in cases {
        assert_eq!(tick_label(&v), want);
    }
    for (v, want) in [
        (0.52734, "0.527"),
        (-5.0612, "-5.06"),
        (0.0, "0"),
        (123.4, "123"),
    ] {
        assert_eq!(value_label(v), want);
    }
}

#[test]
fn plot_smoothing_is_a_centred_mean_over_an_odd_window() {
    assert_eq!(smoothing_window(99), 1, "short runs are not smoothed");
    for n in [100, 1000, 17_000] {
        let w = smoothing_window(n);
        assert!(w % 2 == 1 && w >= n / 50, "window {w} for {n} steps");
    }
    // A step from 0 to 1 at x = 5: the centred mean of 3 is 1/3 and 2/3 around it, not later.
    let step: Vec<_> = (0..10).map(|i| (i as f64, (i >= 5) as u8 as f64)).collect();
    let got = smooth(&step, 3);
    let ys: Vec<f64> = got.iter().map(|p| p.1).collect();
    let third = 1.0 / 3.0;
    let want = [0.0, 0.0, 0.0, 0.0, third, 2.0 * third, 1.0, 1.0, 1.0, 1.0];
    for (k, (y, w)) in ys.iter().zip(want).enumerate() {
        assert!((y - w).abs() < 1e-12, "point {k}: {y} != {w}");
    }
    assert!(got.iter().zip(&step).all(|(a, b)| a.0 == b.0), "x is kept");
    // The ends average over the part of the window that exists.
    assert_eq!(
        smooth(&[(0.0, 1.0), (1.0, 3.0)], 5),
        [(0.0, 2.0), (1.0, 2.0)]
    );
    assert_eq!(smooth(&step, 1), step);
}

#[test]
fn plot_charts_decode_with_the_chart_size() {
    let dir = tempfile::tempdir().unwrap();
    let steps = noisy_loss(1000);
    let means: Vec<_> = (0..10).map(|e| (e as f64 * 100.0 + 50.0, 1.0)).collect();
    let val: Vec<_> = (1..=10).map(|e| (e as f64 * 100.0, 1.1)).collect();
    let full = LossSeries {
        steps: &steps,
        epoch_means: &means,
        val: &val,
    };
    loss_curves(&dir.path().join("loss.png"), full).unwrap();
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let series = [
        vec![],
        vec![(0.0, 2.3)],
        vec![(0.0, nan), (1.0, inf)],
        vec![(0.0, 2.3), (1.0, nan), (2.0, 1.9)],
    ];
    for (i, points) in series.iter().enumerate() {
        let only_steps = LossSeries {
            steps: points,
            ..LossSeries::default()
        };
        loss_curves(&dir.path().join(format!("loss{i}.png")), only_steps).unwrap();
    }
    let (train, val) = (accuracy(0.8, 3.0), accuracy(0.55, 2.5));
    accuracy_curves(&dir.path().join("acc.png"), &train, &val, Some(4)).unwrap();
    accuracy_curves(
        &dir.path().join("acc0.png"),
        &[],
        &[(0.0, nan), (1.0, 1.5)],
        None,
    )
    .unwrap();
    for name in ["loss", "loss0", "loss1", "loss2", "loss3", "acc", "acc0"] {
        let img = decode(&dir.path().join(format!("{name}.png")));
        assert_eq!(img.dimensions(), CHART_SIZE, "{name}");
    }
}

#[test]
fn plot_loss_draws_epoch_means_and_validation_loss() {
    let dir = tempfile::tempdir().unwrap();
    let steps = noisy_loss(500);
    let means = [(25.0, 1.5), (75.0, 1.0)];
    let val = [(50.0, 1.6), (100.0, 1.2)];
    let path = dir.path().join("loss.png");
    let with_epochs = LossSeries {
        steps: &steps,
        epoch_means: &means,
        val: &val,
    };
    loss_curves(&path, with_epochs).unwrap();
    let img = decode(&path);
    assert!(count(&img, EPOCH_COLOR) > 50, "the epoch means are drawn");
    assert!(count(&img, VAL_COLOR) > 50, "the validation loss is drawn");
    let only_steps = LossSeries {
        steps: &steps,
        ..LossSeries::default()
    };
    loss_curves(&path, only_steps).unwrap();
    let img = decode(&path);
    assert_eq!(count(&img, EPOCH_COLOR) + count(&img, VAL_COLOR), 0);
}

#[test]
fn plot_accuracy_range_follows_the_data_and_never_passes_one() {
    let (lo, hi) = accuracy_range([0.86, 0.92, 0.9].into_iter());
    assert!(
        (0.84..0.86).contains(&lo) && (0.92..0.94).contains(&hi),
        "{lo}..{hi}"
    );
    let (lo, hi) = accuracy_range([0.97, 1.0, f64::NAN].into_iter());
    assert_eq!(hi, 1.0, "the top stays at 1.0");
    assert!(lo < 0.97 && lo > 0.9, "{lo}");
    let (lo, hi) = accuracy_range([0.0, 0.005].into_iter());
    assert_eq!(lo, 0.0);
    assert!(hi > 0.005 && hi < 0.05, "{hi}");
    assert_eq!(accuracy_range(std::iter::empty()), (0.0, 1.0));
    // Values outside 0-1 are clamped before ranging.
    assert_eq!(accuracy_range([1.5].into_iter()).1, 1.0);
}

#[test]
fn plot_accuracy_marks_the_best_epoch_only_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acc.png");
    let (train, val) = (accuracy(0.8, 3.0), accuracy(0.75, 2.5));
    accuracy_curves(&path, &train, &val, Some(6)).unwrap();
    assert!(count(&decode(&path), BEST_COLOR) > 100, "rule and ring");
    accuracy_curves(&path, &train, &val, None).unwrap();
    assert_eq!(count(&decode(&path), BEST_COLOR), 0);
}

/// W1 for `units` images of (h, w, c): unit u's weights are u - units/2 (the sign of each
/// tile is known), with one large outlier in the last row.
fn ramp_w1(d: usize, units: usize) -> Array2<f32> {
    let mut w1 = Array2::from_shape_fn((d, units), |(_, u)| u as f32 - (units / 2) as f32);
    w1[[d - 1, units - 1]] = 1e6;
    w1
}

#[test]
fn plot_weight_tiles_are_at_least_four_pixels_and_coloured_by_sign() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.png");
    for (dims, units) in [
        ((8, 8, 1, false), 10),
        ((28, 28, 1, false), 100),
        ((32, 32, 3, true), 10),
        ((32, 32, 3, false), 512),
    ] {
        let d = dims.0 * dims.1 * dims.2;
        let layout = weights_picture(&path, ramp_w1(d, units).view(), Some(dims)).unwrap();
        let WeightsLayout::Tiles { shown, scale, .. } = layout else {
            panic!("image data are drawn as tiles: {layout:?}");
        };
        assert!(scale >= MIN_CELL, "{dims:?}: {scale} px per weight");
        assert_eq!(shown, units.min(MAX_TILES));
        assert_eq!(decode(&path).dimensions(), layout.size(), "{dims:?}");
    }
    // 8x8 grey digits: unit 0 (negative) is blue, unit 9 (positive) red, in whole cells.
    let layout = weights_picture(&path, ramp_w1(64, 10).view(), Some((8, 8, 1, false))).unwrap();
    let img = decode(&path);
    let (scale, first) = (layout.cell().0 as u32, (12, 44)); // PAD, TITLE
    let cell: Vec<_> = (0..scale * scale)
        .map(|k| img.get_pixel(first.0 + k % scale, first.1 + k / scale).0)
        .collect();
    assert!(cell.iter().all(|p| *p == cell[0]), "one colour per weight");
    let [r, _, b] = cell[0];
    assert!(b > r, "a negative weight is blue: {:?}", cell[0]);
}

#[test]
fn plot_non_image_data_get_a_capped_heat_map() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.png");
    let layout = weights_picture(&path, ramp_w1(2, 100).view(), None).unwrap();
    let WeightsLayout::HeatMap {
        inputs,
        units,
        cell,
        ..
    } = layout
    else {
        panic!("non-image data are drawn as a heat map: {layout:?}");
    };
    assert_eq!((inputs, units), (2, 100));
    assert!(cell.0 >= MIN_CELL && cell.1 >= MIN_CELL, "{cell:?}");
    let img = decode(&path);
    assert_eq!(img.dimensions(), layout.size());
    // Unit 0 (weight -50) is blue, unit 99 (+49) red: left and right ends of the first row.
    let (left, top) = (70, 44); // AXIS_LEFT, TITLE
    let at = |u: u32| img.get_pixel(left + u * cell.0 as u32 + 1, top + 1).0;
    assert!(
        at(0)[2] > at(0)[0] && at(99)[0] > at(99)[2],
        "{:?} {:?}",
        at(0),
        at(99)
    );

    let huge = weights_picture(&path, Array2::<f32>::ones((1000, 700)).view(), None).unwrap();
    let WeightsLayout::HeatMap {
        inputs,
        of_inputs,
        units,
        of_units,
        ..
    } = huge
    else {
        panic!("{huge:?}");
    };
    assert_eq!(
        (inputs, of_inputs, units, of_units),
        (MAX_HEAT_MAP, 1000, MAX_HEAT_MAP, 700)
    );
    let (w, h) = decode(&path).dimensions();
    assert!(w <= 2000 && h <= 2000, "capped: {w}x{h}");
}

#[test]
fn plot_colour_scale_ends_at_the_99th_percentile() {
    let mut weights: Vec<f32> = (1..=1000).map(|i| i as f32 / 1000.0).collect();
    weights.push(-1e9);
    let end = scale_end(weights.iter().copied());
    assert!(
        (0.98..=1.0).contains(&end),
        "the outlier does not set the scale: {end}"
    );
    assert_eq!(scale_end([0.0f32, f32::NAN].into_iter()), 1.0);
}

#[test]
fn plot_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("out.png");
    let w1 = Array2::<f32>::zeros((64, 4));
    let steps = noisy_loss(10);
    let series = LossSeries {
        steps: &steps,
        ..LossSeries::default()
    };
    let errors = [
        loss_curves(&path, series).unwrap_err(),
        accuracy_curves(&path, &[], &[], None).unwrap_err(),
        weights_picture(&path, w1.view(), Some((8, 8, 1, false))).unwrap_err(),
    ];
    for e in errors {
        let msg = e.to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("does not exist"),
            "{msg}"
        );
    }
    let path = dir.path().join("bad.png");
    for dims in [(8, 8, 3, true), (8, 8, 2, false), (0, 8, 1, false)] {
        let e = weights_picture(&path, w1.view(), Some(dims)).unwrap_err();
        assert!(
            matches!(e, PlotError::Input { .. }) && e.to_string().contains("bad.png"),
            "{e}"
        );
    }
    let e = weights_picture(&path, Array2::<f32>::zeros((64, 0)).view(), None);
    assert!(e.unwrap_err().to_string().contains("no hidden units"));
    let e = loss_curves(&dir.path().join("loss.txt"), series).unwrap_err();
    assert!(
        e.to_string().contains("loss.txt") && e.to_string().contains(".png"),
        "{e}"
    );
}

#[test]
fn plot_write_failures_are_plain_sentences_and_keep_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the picture should go: drawing works, the rename fails.
    let path = dir.path().join("loss.png");
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("keep"), b"").unwrap();
    let w1 = Array2::<f32>::zeros((64, 4));
    let steps = noisy_loss(10);
    let series = LossSeries {
        steps: &steps,
        ..LossSeries::default()
    };
    let (train, val) = (accuracy(0.9, 3.0), accuracy(0.8, 3.0));
    let errors = [
        loss_curves(&path, series).unwrap_err(),
        accuracy_curves(&path, &train, &val, Some(2)).unwrap_err(),
        weights_picture(&path, w1.view(), Some((8, 8, 1, false))).unwrap_err(),
        weights_picture(&path, w1.view(), None).unwrap_err(),
    ];
    for e in errors {
        assert!(matches!(e, PlotError::Write { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("cannot write {}", path.display())),
            "{msg}"
        );
        for debug in ["Custom {", "IoError(", "ImageError(", "kind:"] {
            assert!(!msg.contains(debug), "Debug output in {msg}");
        }
    }
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file is left");
}

#[test]
fn plot_report_escapes_file_text_and_links_every_picture() {
    assert_eq!(
        escape(r#"<a href="x">&'"#),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
    let mut metrics = String::from("epoch,loss\n");
    for e in 1..=40 {
        metrics.push_str(&format!("{e},{}\n", 1.0 / e as f64));
    }
    let report = Report {
        name: "run<1>".into(),
        summary_json: Some(r#"{"test_accuracy": 0.975, "seconds": {"total": 1.5}}"#.into()),
        config_toml: Some("data = \"</pre><script>alert(1)</script>\"\n".into()),
        metrics_csv: Some(metrics),
        pictures: vec![("loss.png".into(), "Loss & more".into())],
    };
    let html = report_html(&report);
    assert!(html.contains("<img src=\"loss.png\""), "{html}");
    assert!(html.contains("Loss &amp; more"));
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
    assert!(html.contains("run&lt;1&gt;") && !html.contains("run<1>"));
    assert!(html.contains("<th>test_accuracy</th><td>0.975</td>"));
    assert!(html.contains("<th>seconds.total</th><td>1.5</td>"));
    let shown = format!("The last {METRICS_ROWS} of 40 epochs");
    assert!(html.contains(&shown), "{html}");
    assert!(html.contains("<td>40</td>") && !html.contains("<td>10</td>"));

    let empty = report_html(&Report::default());
    for what in ["summary.json", "metrics.csv", "config.toml", "Any picture"] {
        assert!(empty.contains(&format!("{what} was not written")), "{what}");
    }
}

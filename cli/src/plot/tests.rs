//! Tests of the pictures: each writes a PNG and checks its signature and size.

use super::*;
use ndarray::Array2;

/// Checks the PNG signature and returns the IHDR (width, height).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("the PNG was written");
    assert_eq!(&bytes[..16], b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

fn noisy_loss(n: usize) -> Vec<(f64, f64)> {
    let noise = |t: f64| 0.15 * ((t * 12.9898).sin() * 43758.5453).fract();
    (0..n)
        .map(|i| i as f64)
        .map(|t| (t, 2.3 * (-t / 300.0).exp() + 0.4 + noise(t)))
        .collect()
}

fn accuracy(top: f64, tau: f64) -> Vec<(f64, f64)> {
    (0..10)
        .map(|e| e as f64)
        .map(|e| (e, 0.1 + top * (1.0 - (-e / tau).exp())))
        .collect()
}

/// W1 whose columns are ramps, stripes and single-colour tiles.
fn synthetic_w1(
    (h, w, c, channel_major): (usize, usize, usize, bool),
    units: usize,
) -> Array2<f32> {
    Array2::from_shape_fn((h * w * c, units), |(row, u)| {
        let (y, x, ch) = match channel_major {
            true => ((row % (h * w)) / w, row % w, row / (h * w)),
            false => (row / (w * c), (row / c) % w, row % c),
        };
        let v = [
            x,
            y,
            (x / 2 + u) % 2,
            ((x + y) % 4 < 2) as usize,
            5 * (ch == u % c) as usize,
        ];
        v[u % 5] as f32 - 3.0
    })
}

#[test]
fn plot_tick_labels() {
    let cases = [
        (100.0, "100"),
        (-0.0, "0"),
        (0.30000000000000004, "0.3"),
        (2.5, "2.5"),
    ];
    for (v, want) in cases {
        assert_eq!(tick_label(&v), want);
    }
}

#[test]
fn plot_charts_write_pngs() {
    let dir = tempfile::tempdir().unwrap();
    loss_curve(&dir.path().join("loss.png"), &noisy_loss(1000), "iteration").unwrap();
    assert_eq!(png_size(&dir.path().join("loss.png")), CHART_SIZE);
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let series = [
        vec![],
        vec![(0.0, 2.3)],
        vec![(0.0, nan), (1.0, inf)],
        vec![(0.0, 2.3), (1.0, nan), (2.0, 1.9)],
    ];
    for (i, points) in series.iter().enumerate() {
        loss_curve(&dir.path().join(format!("loss{i}.png")), points, "epoch").unwrap();
    }
    accuracy_curves(
        &dir.path().join("acc.png"),
        &accuracy(0.8, 3.0),
        &accuracy(0.55, 2.5),
    )
    .unwrap();
    accuracy_curves(&dir.path().join("acc0.png"), &[], &[(0.0, nan), (1.0, 1.5)]).unwrap();
    for name in ["loss", "loss0", "loss1", "loss2", "loss3", "acc", "acc0"] {
        assert_eq!(
            png_size(&dir.path().join(format!("{name}.png"))),
            CHART_SIZE,
            "{name}"
        );
    }
}

#[test]
fn plot_weight_grid_sizes() {
    let dir = tempfile::tempdir().unwrap();
    // 10 units of 8x8 grey digits: 4 columns x 3 rows of 32px tiles; of
    // 32x32 RGB (scale 1) too; 100 units make a 10 x 10 grid.
    assert_eq!(weight_grid_size(10, 8, 8), (4 * 32 + 3, 3 * 32 + 2));
    let cases = [
        ((8, 8, 1, false), 10, (131, 98)),
        ((32, 32, 3, true), 10, (131, 98)),
        ((32, 32, 3, false), 100, (329, 329)),
    ];
    for (dims, units, size) in cases {
        let path = dir.path().join("grid.png");
        weight_grid(&path, synthetic_w1(dims, units).view(), dims).unwrap();
        assert_eq!(png_size(&path), size);
    }
    // One unit with a constant tile: mid-grey, no division by zero.
    let path = dir.path().join("const.png");
    weight_grid(&path, Array2::<f32>::ones((64, 1)).view(), (8, 8, 1, true)).unwrap();
    assert_eq!(png_size(&path), (32, 32));
}

#[test]
fn plot_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("out.png");
    let w1 = Array2::<f32>::zeros((64, 4));
    let errors = [
        loss_curve(&path, &noisy_loss(10), "iteration").unwrap_err(),
        accuracy_curves(&path, &[], &[]).unwrap_err(),
        weight_grid(&path, w1.view(), (8, 8, 1, false)).unwrap_err(),
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
        let e = weight_grid(&path, w1.view(), dims).unwrap_err();
        assert!(
            matches!(e, PlotError::Input { .. }) && e.to_string().contains("bad.png"),
            "{e}"
        );
    }
    let e = weight_grid(&path, Array2::<f32>::zeros((64, 0)).view(), (8, 8, 1, true));
    assert!(e.unwrap_err().to_string().contains("no columns"));
    let e = loss_curve(&dir.path().join("loss.txt"), &[], "iteration").unwrap_err();
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
    let errors = [
        loss_curve(&path, &noisy_loss(10), "iteration").unwrap_err(),
        accuracy_curves(&path, &accuracy(0.9, 3.0), &accuracy(0.8, 3.0)).unwrap_err(),
        weight_grid(&path, w1.view(), (8, 8, 1, false)).unwrap_err(),
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

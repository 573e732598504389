//! `tapegrad predict --model M FILE...`: every row of a CSV file (labelled or not), every
//! image of an IDX file, and pictures (PNG, JPEG), scored in order.

mod common;

use std::fs;
use std::io::Read;
use std::path::Path;

use common::eval_output::*;
use common::*;
use image::{GrayImage, Luma, Rgba, RgbaImage};

/// The built-in digits as the file ships them: 1,797 rows of 64 block counts (0..16) and a
/// label.
fn raw_digits() -> Vec<(Vec<f32>, usize)> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(tapegrad_net::data::DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .expect("the embedded digits gunzip");
    text.lines()
        .map(|line| {
            let fields: Vec<f32> = line.split(',').map(|x| x.parse().unwrap()).collect();
            (fields[..64].to_vec(), fields[64] as usize)
        })
        .collect()
}

/// Writes rows as CSV: a header, then the features and, if `labelled`, the label.
fn write_rows(path: &Path, rows: &[(Vec<f32>, usize)], labelled: bool) {
    let d = rows[0].0.len();
    let mut text: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
    if labelled {
        text.push("label".into());
    }
    let mut out = text.join(",") + "\n";
    for (x, y) in rows {
        let mut fields: Vec<String> = x.iter().map(f32::to_string).collect();
        if labelled {
            fields.push(y.to_string());
        }
        out += &(fields.join(",") + "\n");
    }
    fs::write(path, out).unwrap();
}

/// A CSV file's rows as (features, label), header skipped.
fn read_rows(path: &Path) -> Vec<(Vec<f32>, usize)> {
    let text = fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f32> = l.split(',').map(|x| x.parse().unwrap()).collect();
            let (label, x) = f.split_last().unwrap();
            (x.to_vec(), *label as usize)
        })
        .collect()
}

#[test]
fn predict_scores_every_row_of_an_unlabelled_csv_in_order() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 200, 6, 4);
    let dir = tmp.path().join("run");
    train_quietly(
        &dir,
        5,
        &["--data", &format!("csv:{}", s(&file)), "--seed", "5"],
    );
    let model = s(&dir.join("model.safetensors"));
    let rows = read_rows(&file);
    let unlabelled = tmp.path().join("new.csv");
    write_rows(&unlabelled, &rows, false);

    let stdout = tapegrad(["predict", "--model", &model, &s(&unlabelled)])
        .ok()
        .to_owned();
    let (header, _) = predictions(&stdout);
    assert_eq!(header, ["row", "predicted", "probability"]);
    let row: Vec<usize> = numbers(&stdout, "row");
    assert_eq!(row, (0..200).collect::<Vec<_>>());
    let predicted: Vec<usize> = numbers(&stdout, "predicted");

    // Every row, in the file's order: the right predictions over the whole file are the
    // training, validation and test accuracies' counts together.
    let summary = summary(&dir);
    let count = |split: &str| {
        let n = summary["examples"][split].as_f64().unwrap();
        (summary[format!("{split}_accuracy")].as_f64().unwrap() * n).round() as usize
    };
    let right = predicted
        .iter()
        .zip(&rows)
        .filter(|(p, (_, y))| **p == *y)
        .count();
    assert_eq!(right, count("train") + count("val") + count("test"));
}

#[test]
fn predict_on_a_labelled_csv_reports_each_rows_label_beside_its_prediction() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 120, 6, 4);
    let dir = tmp.path().join("run");
    train_quietly(&dir, 5, &["--data", &format!("csv:{}", s(&file))]);
    let model = s(&dir.join("model.safetensors"));
    let unlabelled = tmp.path().join("new.csv");
    write_rows(&unlabelled, &read_rows(&file), false);

    let labelled = tapegrad(["predict", "--model", &model, &s(&file)])
        .ok()
        .to_owned();
    let (header, rows) = predictions(&labelled);
    assert_eq!(header, ["row", "predicted", "probability", "label"]);
    assert_eq!(rows.len(), 120);
    let labels: Vec<usize> = numbers(&labelled, "label");
    assert_eq!(labels, (0..120).map(|i| i % 4).collect::<Vec<_>>());
    let without = tapegrad(["predict", "--model", &model, &s(&unlabelled)])
        .ok()
        .to_owned();
    assert_eq!(
        column(&labelled, "predicted"),
        column(&without, "predicted")
    );
    assert_eq!(
        column(&labelled, "probability"),
        column(&without, "probability")
    );
}

#[test]
fn predict_on_a_csv_with_neither_the_models_feature_count_nor_one_more_names_both() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 60, 6, 3);
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &["--data", &format!("csv:{}", s(&file))]);
    let other = tmp.path().join("eight.csv");
    write_csv(&other, 10, 8, 3); // 9 fields a row
    let run = tapegrad(["predict", "--model", &s(&dir), &s(&other)]);
    run.input_error(&[&s(&other), "line 2", "9 fields", "takes 6 features"]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn predict_on_a_raw_0_to_16_digits_csv_applies_the_models_scaling() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 20, &[]);
    let file = tmp.path().join("raw.csv");
    let digits = raw_digits();
    write_rows(&file, &digits, true);
    let stdout = tapegrad(["predict", "--model", &s(&dir), &s(&file)])
        .ok()
        .to_owned();
    let predicted: Vec<usize> = numbers(&stdout, "predicted");
    let right = predicted
        .iter()
        .zip(&digits)
        .filter(|(p, (_, y))| **p == *y)
        .count();
    let summary = summary(&dir);
    let count = |split: &str| {
        let n = summary["examples"][split].as_f64().unwrap();
        (summary[format!("{split}_accuracy")].as_f64().unwrap() * n).round() as usize
    };
    // Unscaled, the raw counts would score far worse (about 90% on the test split).
    assert_eq!(right, count("train") + count("val") + count("test"));
}

#[test]
fn predict_scores_every_image_of_an_idx_file_as_the_test_split_does() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 5010, 25, (3, 3), true);
    let dir = tmp.path().join("run");
    train_quietly(
        &dir,
        2,
        &["--data", &format!("mnist:{}", s(&data)), "--hidden", "5"],
    );
    let model = s(&dir);
    let images = data.join("t10k-images-idx3-ubyte.gz");
    let stdout = tapegrad(["predict", "--model", &model, &s(&images)])
        .ok()
        .to_owned();
    let (header, rows) = predictions(&stdout);
    assert_eq!(header, ["row", "predicted", "probability"]);
    assert_eq!(rows.len(), 25);
    let split = tapegrad(["predict", "--model", &model]).ok().to_owned();
    assert_eq!(column(&stdout, "predicted"), column(&split, "predicted"));
    assert_eq!(
        column(&stdout, "probability"),
        column(&split, "probability")
    );

    let labels = data.join("t10k-labels-idx1-ubyte.gz");
    tapegrad(["predict", "--model", &model, &s(&labels)]).input_error(&[&s(&labels), "labels"]);
}

/// A digit's 8x8 counts (0..16) as a grey picture, each count a `scale x scale` square of
/// intensity count/16, light on dark or (`dark_on_light`) dark on light.
fn digit_picture(counts: &[f32], scale: u32, dark_on_light: bool) -> GrayImage {
    GrayImage::from_fn(8 * scale, 8 * scale, |x, y| {
        let count = counts[(y / scale * 8 + x / scale) as usize];
        let v = (count * 255.0 / 16.0).round() as u8;
        Luma([if dark_on_light { 255 - v } else { v }])
    })
}

/// Digits the model of `dir` gets right with probability above 0.99, from the raw file:
/// `(row, counts, label, probability)`, at most `n`.
fn confident_digits(dir: &Path, n: usize) -> Vec<(Vec<f32>, usize, f64)> {
    let tmp = tempdir();
    let file = tmp.path().join("raw.csv");
    let digits = raw_digits();
    write_rows(&file, &digits, true);
    let stdout = tapegrad(["predict", "--model", &s(dir), &s(&file)])
        .ok()
        .to_owned();
    let predicted: Vec<usize> = numbers(&stdout, "predicted");
    let probability: Vec<f64> = numbers(&stdout, "probability");
    digits
        .into_iter()
        .zip(predicted.into_iter().zip(probability))
        .filter(|((_, y), (p, prob))| p == y && *prob > 0.99)
        .map(|((x, y), (_, prob))| (x, y, prob))
        .take(n)
        .collect()
}

#[test]
fn predict_on_a_png_of_the_models_size_matches_the_same_digit_as_a_csv_row() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 20, &[]);
    for (k, (counts, label, prob)) in confident_digits(&dir, 3).into_iter().enumerate() {
        let png = tmp.path().join(format!("digit{k}.png"));
        digit_picture(&counts, 1, false).save(&png).unwrap();
        let run = tapegrad(["predict", "--model", &s(&dir), &s(&png)]);
        let stdout = run.ok();
        let (header, rows) = predictions(stdout);
        assert_eq!(header, ["row", "predicted", "probability"]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][1], label.to_string(), "{stdout}");
        let p: f64 = rows[0][2].parse().unwrap();
        assert!((p - prob).abs() < 0.01, "{p} vs the CSV row's {prob}");
        assert_eq!(run.stderr, "", "a light-on-dark picture is not inverted");
    }
}

#[test]
fn predict_on_large_dark_on_light_pngs_and_jpegs_inverts_them_and_finds_the_digit() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 20, &[]);
    let mut files = Vec::new();
    let mut labels = Vec::new();
    for (k, (counts, label, _)) in confident_digits(&dir, 4).into_iter().enumerate() {
        // Drawn in black on white at 64x64, as a user would, saved as PNG and as JPEG.
        let picture = digit_picture(&counts, 8, true);
        let png = tmp.path().join(format!("drawn{k}.png"));
        picture.save(&png).unwrap();
        let jpeg = tmp.path().join(format!("drawn{k}.jpg"));
        let mut out = fs::File::create(&jpeg).unwrap();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 100)
            .encode_image(&picture)
            .unwrap();
        // Black strokes on a transparent background (how drawing programs save).
        let strokes = tmp.path().join(format!("strokes{k}.png"));
        RgbaImage::from_fn(64, 64, |x, y| {
            let count = counts[(y / 8 * 8 + x / 8) as usize];
            Rgba([0, 0, 0, (count * 255.0 / 16.0).round() as u8])
        })
        .save(&strokes)
        .unwrap();
        files.extend([png, jpeg, strokes]);
        labels.extend([label; 3]);
    }
    let mut args = vec!["predict".to_owned(), "--model".into(), s(&dir)];
    args.extend(files.iter().map(|f| s(f)));
    let run = tapegrad(&args);
    let stdout = run.ok();
    let (header, rows) = predictions(stdout);
    assert_eq!(header, ["file", "row", "predicted", "probability"]);
    assert_eq!(
        column(stdout, "file"),
        files.iter().map(|f| s(f)).collect::<Vec<_>>()
    );
    let predicted: Vec<usize> = numbers(stdout, "predicted");
    assert_eq!(predicted, labels, "{stdout}");
    assert_eq!(rows.len(), files.len());
    for file in &files {
        assert!(
            run.stderr.contains(&format!("{}: inverted", s(file))),
            "{}",
            run.stderr
        );
    }

    // Not inverted, the same pictures are white paper with dark digits: not the digits.
    let mut args = args.clone();
    args.extend(["--invert".to_owned(), "no".to_owned()]);
    let kept = tapegrad(&args);
    let kept_predicted: Vec<usize> = numbers(kept.ok(), "predicted");
    assert_ne!(kept_predicted, labels);
    assert_eq!(kept.stderr, "");
}

#[test]
fn predict_on_a_picture_with_a_model_of_non_image_data_says_so() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 60, 4, 3);
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &["--data", &format!("csv:{}", s(&file))]);
    let png = tmp.path().join("digit.png");
    GrayImage::new(8, 8).save(&png).unwrap();
    tapegrad(["predict", "--model", &s(&dir), &s(&png)]).input_error(&[
        &s(&png),
        "not images",
        "cannot score pictures",
    ]);
}

#[test]
fn predict_on_a_broken_png_names_the_file() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &[]);
    let png = tmp.path().join("broken.png");
    let mut bytes = Vec::new();
    digit_picture(&[8.0; 64], 4, false)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    fs::write(&png, &bytes[..bytes.len() / 2]).unwrap();
    tapegrad(["predict", "--model", &s(&dir), &s(&png)]).input_error(&[&s(&png), "cannot decode"]);
}

#[test]
fn predict_on_a_png_announcing_100000_pixels_a_side_is_refused_before_decoding() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &[]);
    let mut bytes = Vec::new();
    GrayImage::new(1, 1)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    // IHDR's width and height (after the signature, the chunk length and "IHDR"), then its CRC.
    bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    let png = tmp.path().join("huge.png");
    fs::write(&png, bytes).unwrap();
    tapegrad(["predict", "--model", &s(&dir), &s(&png)]).input_error(&[
        &s(&png),
        "cannot decode",
        "16384 pixels a side",
    ]);
}

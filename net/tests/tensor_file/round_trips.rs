//! Round trips: bit-exact values, the standard safetensors layout, dtypes, stable bytes.

use ndarray::{array, Array, Array0, Array1, Array2, ArrayD, Ix1, Ix2, Ix3};
use tapegrad_net::tensor_file::{Dtype, Origin, TensorFile};

use super::*;

#[test]
fn round_trip_f32_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let mut ck = net_checkpoint();
    let special = array![
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
        1e-45, // smallest subnormal
        std::f32::consts::PI,
    ];
    ck.insert("special", &special);
    ck.save(&path).unwrap();

    let loaded = TensorFile::load(&path).unwrap();
    assert_eq!(loaded.origin(), &Origin::File(path.clone()));
    assert_eq!(
        loaded.names().collect::<Vec<_>>(),
        ["W1", "W2", "b1", "b2", "mean", "special"]
    );
    for (name, t) in ck.tensors() {
        let back = loaded.tensor(name).unwrap();
        assert_eq!(back.dtype(), Dtype::F32, "{name}");
        assert_eq!(back.shape(), t.shape(), "{name}");
        assert_eq!(back.to_le_bytes(), t.to_le_bytes(), "{name}");
        assert_eq!(bits32(&back.to_vec::<f32>()), bits32(&t.to_vec::<f32>()));
    }
    let w1: Array2<f32> = loaded.get("W1").unwrap();
    assert_eq!(w1, ck.get::<f32, Ix2>("W1").unwrap());
    assert_eq!(w1.dim(), (3, 4));
    let s: Array1<f32> = loaded.get("special").unwrap();
    assert_eq!(
        bits32(s.as_slice().unwrap()),
        bits32(special.as_slice().unwrap())
    );
    assert_eq!(loaded.metadata(), ck.metadata());
    assert_eq!(loaded.require_metadata("classes").unwrap(), "2");
    // Saving the loaded checkpoint again reproduces the file byte for byte.
    assert_eq!(loaded.to_bytes().unwrap(), fs::read(&path).unwrap());
}

#[test]
fn round_trip_f64_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model64.safetensors");
    let w = Array2::from_shape_fn((5, 3), |(i, j)| {
        (i as f64 + 1.0).sqrt() * 0.1 - j as f64 / 3.0
    });
    let v = array![0.1f64, -1e-310, f64::MAX, f64::NEG_INFINITY, -0.0, f64::NAN];
    let mut ck = TensorFile::new();
    ck.insert("W", &w);
    ck.insert("v", &v);
    ck.insert("scalar", &Array0::from_elem((), std::f64::consts::E));
    ck.insert("empty", &Array2::<f64>::zeros((0, 7)));
    ck.insert(
        "cube",
        &Array::from_shape_fn((2, 3, 4), |(a, b, c)| (a * 12 + b * 4 + c) as f64),
    );
    ck.set_metadata("dataset", "digits");
    ck.set_metadata("unicode", "üñí → 漢字 \"quoted\"\n");
    ck.save(&path).unwrap();

    let loaded = TensorFile::load(&path).unwrap();
    assert_eq!(loaded.len(), 5);
    assert_eq!(loaded.tensor("W").unwrap().dtype(), Dtype::F64);
    let w_back: Array2<f64> = loaded.get("W").unwrap();
    assert_eq!(
        bits64(w_back.as_slice().unwrap()),
        bits64(w.as_slice().unwrap())
    );
    let v_back: Array1<f64> = loaded.get("v").unwrap();
    assert_eq!(
        bits64(v_back.as_slice().unwrap()),
        bits64(v.as_slice().unwrap())
    );
    let scalar: Array0<f64> = loaded.get("scalar").unwrap();
    assert_eq!(scalar[()].to_bits(), std::f64::consts::E.to_bits());
    let empty: Array2<f64> = loaded.get("empty").unwrap();
    assert_eq!(empty.dim(), (0, 7));
    assert!(loaded.tensor("empty").unwrap().is_empty());
    let cube = loaded.get::<f64, Ix3>("cube").unwrap();
    assert_eq!(cube[[1, 2, 3]], 23.0);
    let dynamic: ArrayD<f64> = loaded.get("cube").unwrap();
    assert_eq!(dynamic.shape(), &[2, 3, 4]);
    assert_eq!(loaded.metadata(), ck.metadata());
}

#[test]
fn mixed_dtypes_round_trip_through_bytes() {
    let mut ck = TensorFile::new();
    ck.insert("a32", &array![1.5f32, 2.5]);
    ck.insert("a64", &array![[1.0f64 / 3.0]]);
    let bytes = ck.to_bytes().unwrap();
    let back = TensorFile::from_bytes(&bytes).unwrap();
    assert_eq!(back, ck);
    assert_eq!(back.origin(), &Origin::Memory);
    assert_eq!(back.tensor("a32").unwrap().dtype(), Dtype::F32);
    assert_eq!(back.tensor("a64").unwrap().dtype(), Dtype::F64);
    assert!(back.metadata().is_empty());
}

/// The bytes follow the safetensors layout: u64 LE header length, JSON header (padded to 8)
/// with dtype/shape/data_offsets and `__metadata__`, then little-endian row-major data.
#[test]
fn file_layout_is_standard_safetensors() {
    let mut ck = TensorFile::new();
    ck.insert("W1", &array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    ck.insert("b1", &array![-1.0f32]);
    ck.set_metadata("classes", "3");
    let bytes = ck.to_bytes().unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0);
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    assert!(header.starts_with('{'), "{header}");
    assert!(
        header.contains(r#""__metadata__":{"classes":"3"}"#),
        "{header}"
    );
    assert!(
        header.contains(r#""W1":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}"#),
        "{header}"
    );
    assert!(
        header.contains(r#""b1":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}"#),
        "{header}"
    );
    let data = &bytes[8 + n..];
    let expected: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, -1.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    assert_eq!(data, expected.as_slice());
}

#[test]
fn non_contiguous_views_are_stored_in_logical_order() {
    let a = array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let mut ck = TensorFile::new();
    ck.insert("t", a.t());
    ck.insert("col", a.column(1));
    let back = TensorFile::from_bytes(&ck.to_bytes().unwrap()).unwrap();
    assert_eq!(back.get::<f64, Ix2>("t").unwrap(), a.t());
    assert_eq!(back.get::<f64, Ix1>("col").unwrap(), array![2.0, 5.0]);
    // Inserting again replaces.
    let old = ck.insert("col", &array![9.0f64]).unwrap();
    assert_eq!(old.shape(), &[2]);
    assert_eq!(ck.get::<f64, Ix1>("col").unwrap(), array![9.0]);
}

#[test]
fn dtypes_convert_on_get() {
    let mut ck = TensorFile::new();
    ck.insert("d", &array![0.1f64, 1.0 + 1e-12, 1e300]);
    ck.insert("s", &array![0.1f32, 16_777_217.0]);
    let ck = TensorFile::from_bytes(&ck.to_bytes().unwrap()).unwrap();
    // F64 read as f32: rounded to nearest (1e300 overflows to infinity).
    let d: Array1<f32> = ck.get("d").unwrap();
    assert_eq!(d, array![0.1f32, 1.0, f32::INFINITY]);
    // F32 read as f64: exact widening of the stored f32 values.
    let s: Array1<f64> = ck.get("s").unwrap();
    assert_eq!(s, array![f64::from(0.1f32), f64::from(16_777_217.0f32)]);
    assert_eq!(ck.tensor("s").unwrap().dtype(), Dtype::F32);
}

/// Equal checkpoints give identical bytes, whatever order the metadata was set in.
#[test]
fn equal_checkpoints_give_identical_files() {
    let build = |reverse: bool| {
        let mut ck = TensorFile::new();
        ck.insert("x", &array![1.0f32]);
        let mut keys: Vec<usize> = (0..32).collect();
        if reverse {
            keys.reverse();
        }
        for k in keys {
            ck.set_metadata(format!("key{k}"), format!("value {k}"));
        }
        ck
    };
    let (a, b) = (build(false), build(true));
    assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
    let back = TensorFile::from_bytes(&a.to_bytes().unwrap()).unwrap();
    assert_eq!(back, b);

    // Metadata without tensors, and an empty checkpoint, round trip too.
    let mut meta_only = TensorFile::new();
    meta_only.set_metadata("note", "no tensors");
    let back = TensorFile::from_bytes(&meta_only.to_bytes().unwrap()).unwrap();
    assert_eq!(back, meta_only);
    assert!(back.is_empty());
    let empty = TensorFile::from_bytes(&TensorFile::new().to_bytes().unwrap()).unwrap();
    assert!(empty.is_empty() && empty.metadata().is_empty());
}

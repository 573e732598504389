//! Reading what `tapegrad eval` and `tapegrad predict` print.

/// Eval's headline, `NAME (N examples, ...): accuracy P% (RIGHT/N), loss L (...)`.
fn headline(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.contains(": accuracy "))
        .unwrap_or_else(|| panic!("no accuracy line in {stdout:?}"))
}

/// Eval's `(RIGHT/N)` → (right, n).
pub fn eval_counts(stdout: &str) -> (usize, usize) {
    let line = headline(stdout);
    let after = &line[line.find(": accuracy ").expect("accuracy")..];
    let inner = after
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner)
        .unwrap_or_else(|| panic!("no (right/n) in {line:?}"));
    let (right, n) = inner.split_once('/').expect("right/n");
    (right.parse().expect("right"), n.parse().expect("n"))
}

/// Eval's mean cross-entropy loss, `loss L`.
pub fn eval_loss(stdout: &str) -> f64 {
    let line = headline(stdout);
    let (_, rest) = line
        .split_once(", loss ")
        .unwrap_or_else(|| panic!("no loss in {line:?}"));
    let number = rest.split_whitespace().next().expect("a loss");
    number.parse().unwrap_or_else(|_| panic!("loss {number:?}"))
}

/// The rows of eval's table: `k | n n n ... | precision recall F1`.
fn table_rows(stdout: &str) -> impl Iterator<Item = Vec<&str>> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("---"))
        .skip(1)
        .take_while(|l| l.contains('|'))
        .map(|l| l.split('|').collect())
}

/// Eval's confusion matrix (rows: true class).
pub fn confusion(stdout: &str) -> Vec<Vec<usize>> {
    table_rows(stdout)
        .map(|parts| {
            parts[1]
                .split_whitespace()
                .map(|n| n.parse().expect("a count"))
                .collect()
        })
        .collect()
}

/// Eval's per-class precision, recall and F1 (`None` for `-`).
pub fn class_scores(stdout: &str) -> Vec<[Option<f64>; 3]> {
    table_rows(stdout)
        .map(|parts| {
            let v: Vec<Option<f64>> = parts[2]
                .split_whitespace()
                .map(|x| (x != "-").then(|| x.parse().expect("a score")))
                .collect();
            [v[0], v[1], v[2]]
        })
        .collect()
}

/// Predict's CSV: the header's fields and each row's fields.
pub fn predictions(stdout: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = stdout
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>());
    let header = lines.next().expect("predict prints a header");
    (header, lines.collect())
}

/// One column of predict's CSV, by name.
pub fn column(stdout: &str, name: &str) -> Vec<String> {
    let (header, rows) = predictions(stdout);
    let k = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.into_iter().map(|r| r[k].clone()).collect()
}

/// One column of predict's CSV as numbers.
pub fn numbers<T: std::str::FromStr>(stdout: &str, name: &str) -> Vec<T> {
    column(stdout, name)
        .iter()
        .map(|x| {
            x.parse()
                .unwrap_or_else(|_| panic!("{name} {x:?} is not a number"))
        })
        .collect()
}

//! `report.html`: a run on one page — its summary, its settings, the last rows of its metrics
//! and its pictures — that a browser opens from disk without a server.
//!
//! The pictures are linked by relative file name (`<img src="loss.png">`), not embedded: the
//! report lives in the run folder beside them, so the links work wherever the folder is copied,
//! the page stays a few kilobytes that can be read as text, and no encoder is needed. (Sending
//! the report alone, without its folder, would lose the pictures.) All text from files is
//! HTML-escaped.

use std::fmt::Write as _;
use std::path::Path;

use tapegrad_net::atomic_write::write_atomic;

use super::PlotError;

/// The most metrics rows the report shows (the last ones).
pub const METRICS_ROWS: usize = 30;

/// What the report shows; a missing file is a `None` and is said so on the page.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The run's name (the folder's), for the title.
    pub name: String,
    /// The text of summary.json.
    pub summary_json: Option<String>,
    /// The text of config.toml.
    pub config_toml: Option<String>,
    /// The text of metrics.csv.
    pub metrics_csv: Option<String>,
    /// The pictures: (file name relative to the report, caption).
    pub pictures: Vec<(String, String)>,
}

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities, safe in elements and
/// attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The rows (dotted key, value) of a JSON value, nested objects flattened ("seconds.total").
fn flatten(prefix: &str, value: &serde_json::Value, rows: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let key = match prefix {
                    "" => key.clone(),
                    p => format!("{p}.{key}"),
                };
                flatten(&key, v, rows);
            }
        }
        serde_json::Value::String(s) => rows.push((prefix.to_string(), s.clone())),
        v => rows.push((prefix.to_string(), v.to_string())),
    }
}

fn missing(what: &str) -> String {
    format!(
        "<p class=\"missing\">{} was not written.</p>\n",
        escape(what)
    )
}

fn summary_section(text: Option<&str>) -> String {
    let Some(text) = text else {
        return missing("summary.json");
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return format!("<pre>{}</pre>\n", escape(text));
    };
    let mut rows = Vec::new();
    flatten("", &value, &mut rows);
    let mut out = String::from("<table>\n");
    for (key, value) in rows {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(&key),
            escape(&value)
        );
    }
    out + "</table>\n"
}

fn metrics_section(text: Option<&str>) -> String {
    let Some(text) = text else {
        return missing("metrics.csv");
    };
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return missing("a metrics row");
    };
    let rows: Vec<&str> = lines.collect();
    let shown = &rows[rows.len().saturating_sub(METRICS_ROWS)..];
    let mut out = String::new();
    if shown.len() < rows.len() {
        let _ = writeln!(
            out,
            "<p>The last {} of {} epochs.</p>",
            shown.len(),
            rows.len()
        );
    }
    out.push_str("<table class=\"metrics\">\n<tr>");
    for cell in header.split(',') {
        let _ = write!(out, "<th>{}</th>", escape(cell));
    }
    out.push_str("</tr>\n");
    for row in shown {
        out.push_str("<tr>");
        for cell in row.split(',') {
            // Numbers to 6 significant digits; anything else as written.
            let cell = match cell.parse::<f64>() {
                Ok(v) if cell.contains('.') || cell.contains('e') => format!("{v:.6}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string(),
                _ => cell.to_string(),
            };
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>\n");
    }
    out + "</table>\n"
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1400px}\
table{border-collapse:collapse;margin-bottom:1em}th,td{border:1px solid #ccc;\
padding:2px 8px;text-align:left}td{font-family:monospace}pre{background:#f4f4f4;\
padding:1em}img{max-width:100%;border:1px solid #ddd}\
.missing{color:#a00}figure{display:inline-block;margin:0 1em 1em 0}";

/// The report as one HTML page.
pub fn report_html(report: &Report) -> String {
    let mut out = String::new();
    let name = escape(&report.name);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>tapegrad run {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>tapegrad run {name}</h1>"
    );
    out.push_str("<h2>Pictures</h2>\n");
    if report.pictures.is_empty() {
        out.push_str(&missing("Any picture"));
    }
    for (file, caption) in &report.pictures {
        let (file, caption) = (escape(file), escape(caption));
        let _ = writeln!(
            out,
            "<figure><a href=\"{file}\"><img src=\"{file}\" alt=\"{caption}\"></a>\
             <figcaption>{caption} ({file})</figcaption></figure>"
        );
    }
    out.push_str("<h2>Summary</h2>\n");
    out.push_str(&summary_section(report.summary_json.as_deref()));
    out.push_str("<h2>Metrics per epoch</h2>\n");
    out.push_str(&metrics_section(report.metrics_csv.as_deref()));
    out.push_str("<h2>Settings (config.toml)</h2>\n");
    match &report.config_toml {
        Some(text) => {
            let _ = writeln!(out, "<pre>{}</pre>", escape(text));
        }
        None => out.push_str(&missing("config.toml")),
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Writes [`report_html`] to `path` atomically.
pub fn write_report(path: &Path, report: &Report) -> Result<(), PlotError> {
    write_atomic(path, report_html(report).as_bytes()).map_err(|e| PlotError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

//! A drift report as one self-contained HTML page: inline CSS and inline
//! SVG, no scripts and no external assets, so it can be mailed or archived
//! as a single file.
//!
//! Every string that comes from the data (column names, category labels,
//! error messages, type names) is escaped for HTML text and attributes alike;
//! element ids use the column's position, never its name.

use std::fmt::Write as _;

use crate::outcome::Threshold;
use crate::report::{ColumnHistogram, ColumnOutcome, ColumnReport, Report};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const MARGIN_LEFT: f64 = 44.0;
const MARGIN_BOTTOM: f64 = 70.0;
const MARGIN_TOP: f64 = 10.0;
/// Category labels longer than this are cut on the axis (the tooltip keeps them whole).
const LABEL_CHARS: usize = 18;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}\
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}\
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.drift{color:#b00020;font-weight:600}.ok{color:#1b7f3b}.failed{color:#8a6d00}\
.verdict{font-size:1.3em;padding:.6em 1em;border-radius:6px;display:inline-block}\
.verdict.drift{background:#fde7ea}.verdict.ok{background:#e6f4ea}\
section.column{margin-top:2em;border-top:1px solid #ccc;padding-top:.5em}\
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}\
svg text{font-size:10px;fill:#444}code{background:#f4f4f4;padding:0 3px}";

const REFERENCE_COLOR: &str = "#4c72b0";
const CURRENT_COLOR: &str = "#dd8452";

/// Render `report` as a complete HTML document.
pub fn render(report: &Report) -> String {
    let mut page = String::with_capacity(16 * 1024 + report.columns.len() * 4096);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<title>Data drift report</title>\n<style>");
    page.push_str(STYLE);
    page.push_str("</style>\n</head>\n<body>\n<h1>Data drift report</h1>\n");
    summary(&mut page, report);
    column_table(&mut page, report);
    for (index, column) in report.columns.iter().enumerate() {
        column_section(&mut page, index, column);
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// Escape `text` for HTML text and for quoted attribute values.
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

fn summary(page: &mut String, report: &Report) {
    let (class, verdict) = if report.dataset_drift {
        ("drift", "Dataset drift detected")
    } else {
        ("ok", "No dataset drift")
    };
    let failed = report
        .columns
        .iter()
        .filter(|c| c.error().is_some())
        .count();
    let _ = writeln!(page, "<p class=\"verdict {class}\">{verdict}</p>");
    let _ = writeln!(
        page,
        "<p>{} of {} tested columns drifted (share {}; the dataset drifts at {} or more). \
         Reference: {} rows; current: {} rows.</p>",
        report.drifted_columns,
        report.tested_columns,
        number(report.share_drifted),
        number(report.drift_share),
        report.reference_rows,
        report.current_rows,
    );
    if failed > 0 {
        let _ = writeln!(
            page,
            "<p class=\"failed\">{failed} column(s) could not be tested; see the table.</p>"
        );
    }
    if !report.skipped.is_empty() {
        page.push_str("<p>Skipped (no method reads their type): ");
        for (i, skipped) in report.skipped.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(
                page,
                "{sep}<code>{}</code> ({})",
                escape(&skipped.name),
                escape(&skipped.data_type)
            );
        }
        page.push_str("</p>\n");
    }
}

/// Drifted columns first, then failed ones, then the rest, each group in report order.
fn column_table(page: &mut String, report: &Report) {
    let mut order: Vec<(usize, &ColumnReport)> = report.columns.iter().enumerate().collect();
    order.sort_by_key(|(i, c)| {
        let group = if c.drifted() {
            0
        } else if c.error().is_some() {
            1
        } else {
            2
        };
        (group, *i)
    });
    page.push_str(
        "<table>\n<thead><tr><th>Column</th><th>Type</th><th>Method</th><th>Statistic</th>\
         <th>p-value</th><th>Threshold</th><th>Drift</th><th>Null share (ref → cur)</th></tr></thead>\n<tbody>\n",
    );
    for (index, column) in order {
        let _ = write!(
            page,
            "<tr><td><a href=\"#column-{index}\">{}</a></td><td>{} <small>({})</small></td>",
            escape(&column.name),
            kind_name(column),
            escape(&column.data_type),
        );
        match &column.outcome {
            ColumnOutcome::Tested(test) => {
                let (class, word) = if test.drifted {
                    ("drift", "drift")
                } else {
                    ("ok", "no drift")
                };
                let _ = write!(
                    page,
                    "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>\
                     <td class=\"{class}\">{word}</td>",
                    test.method.name(),
                    number(test.statistic),
                    test.pvalue.map_or_else(|| "–".to_string(), number),
                    threshold_text(&test.threshold),
                );
            }
            ColumnOutcome::Failed(failure) => {
                let method = failure.method.map_or("–", |m| m.name());
                let _ = write!(
                    page,
                    "<td>{method}</td><td colspan=\"3\" class=\"failed\">{}</td><td class=\"failed\">failed</td>",
                    escape(&failure.error),
                );
            }
        }
        let null_class = if column.null_share_drifted {
            " class=\"drift\""
        } else {
            ""
        };
        let _ = writeln!(
            page,
            "<td{null_class}>{} → {}</td></tr>",
            percent(column.reference.null_share),
            percent(column.current.null_share),
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

fn column_section(page: &mut String, index: usize, column: &ColumnReport) {
    let _ = writeln!(
        page,
        "<section class=\"column\" id=\"column-{index}\">\n<h2>{}</h2>",
        escape(&column.name)
    );
    let _ = writeln!(
        page,
        "<p>Reference: {} rows, {} null, {} NaN. Current: {} rows, {} null, {} NaN.{}</p>",
        column.reference.rows,
        column.reference.null_count,
        column.reference.nan_count,
        column.current.rows,
        column.current.null_count,
        column.current.nan_count,
        if column.null_share_drifted {
            " <span class=\"drift\">The null share drifted.</span>"
        } else {
            ""
        },
    );
    if let Some(error) = column.error() {
        let _ = writeln!(page, "<p class=\"failed\">{}</p>", escape(error));
    }
    match &column.histogram {
        Some(histogram) => {
            let _ = writeln!(
                page,
                "<p class=\"legend\"><span style=\"background:{REFERENCE_COLOR}\"></span>reference\
                 <span style=\"background:{CURRENT_COLOR}\"></span>current</p>"
            );
            svg(page, histogram);
        }
        None => page.push_str("<p>No picture: a side has no finite values.</p>\n"),
    }
    page.push_str("</section>\n");
}

/// One bar pair of the picture.
struct Bar {
    label: String,
    reference: f64,
    current: f64,
}

fn svg(page: &mut String, histogram: &ColumnHistogram) {
    let (bars, axis) = bars(histogram);
    let plot_width = WIDTH - MARGIN_LEFT - 10.0;
    let plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let top = bars
        .iter()
        .flat_map(|b| [b.reference, b.current])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let scale = if top > 0.0 { plot_height / top } else { 0.0 };
    let slot = plot_width / bars.len().max(1) as f64;
    let base = MARGIN_TOP + plot_height;
    let _ = writeln!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\">"
    );
    let _ = writeln!(
        page,
        "<line x1=\"{MARGIN_LEFT}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{base:.1}\" stroke=\"#888\"/>",
        MARGIN_LEFT + plot_width
    );
    let _ = writeln!(
        page,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        MARGIN_LEFT - 4.0,
        MARGIN_TOP + 8.0,
        percent(top)
    );
    for (i, bar) in bars.iter().enumerate() {
        let x = MARGIN_LEFT + slot * i as f64;
        let tooltip = format!(
            "{}: reference {}, current {}",
            bar.label,
            percent(bar.reference),
            percent(bar.current)
        );
        let _ = write!(page, "<g><title>{}</title>", escape(&tooltip));
        for (value, color) in [
            (bar.reference, REFERENCE_COLOR),
            (bar.current, CURRENT_COLOR),
        ] {
            let h = if value.is_finite() {
                value * scale
            } else {
                0.0
            };
            let _ = write!(
                page,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"{color}\" fill-opacity=\"0.55\"/>",
                x + 0.5,
                base - h,
                (slot - 1.0).max(0.5),
            );
        }
        page.push_str("</g>\n");
        if axis == Axis::Labels {
            let cx = x + slot / 2.0;
            let _ = writeln!(
                page,
                "<text x=\"{cx:.2}\" y=\"{:.2}\" text-anchor=\"end\" transform=\"rotate(-45 {cx:.2} {:.2})\">{}</text>",
                base + 12.0,
                base + 12.0,
                escape(&shorten(&bar.label)),
            );
        }
    }
    if let (Axis::Range, ColumnHistogram::Numeric { edges, .. }) = (axis, histogram)
        && let (Some(first), Some(last)) = (edges.first(), edges.last())
    {
        let _ = writeln!(
            page,
            "<text x=\"{MARGIN_LEFT}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" \
                 text-anchor=\"end\">{}</text>",
            base + 14.0,
            number(*first),
            MARGIN_LEFT + plot_width,
            base + 14.0,
            number(*last),
        );
    }
    page.push_str("</svg>\n");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    /// Numeric bins: the range's ends under the axis.
    Range,
    /// Categories: one label per bar.
    Labels,
}

fn bars(histogram: &ColumnHistogram) -> (Vec<Bar>, Axis) {
    match histogram {
        ColumnHistogram::Numeric {
            edges,
            reference,
            current,
        } => {
            let bars = edges
                .windows(2)
                .zip(reference.iter().zip(current))
                .map(|(w, (&r, &c))| {
                    let label = match w {
                        [lo, hi] => format!("[{}, {})", number(*lo), number(*hi)),
                        _ => String::new(),
                    };
                    Bar {
                        label,
                        reference: r,
                        current: c,
                    }
                })
                .collect();
            (bars, Axis::Range)
        }
        ColumnHistogram::Categorical {
            labels,
            reference,
            current,
            other_reference,
            other_current,
        } => {
            let mut bars: Vec<Bar> = labels
                .iter()
                .zip(reference.iter().zip(current))
                .map(|(label, (&r, &c))| Bar {
                    label: label.clone(),
                    reference: r,
                    current: c,
                })
                .collect();
            if *other_reference > 0.0 || *other_current > 0.0 {
                bars.push(Bar {
                    label: "(other categories)".to_string(),
                    reference: *other_reference,
                    current: *other_current,
                });
            }
            (bars, Axis::Labels)
        }
    }
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let mut short: String = label.chars().take(LABEL_CHARS - 1).collect();
        short.push('…');
        short
    }
}

fn kind_name(column: &ColumnReport) -> &'static str {
    match column.kind {
        crate::column::ColumnKind::Numeric => "numeric",
        crate::column::ColumnKind::Categorical => "categorical",
    }
}

fn threshold_text(threshold: &Threshold) -> String {
    let (what, op) = match threshold {
        Threshold::PValueBelow(_) => ("p", "&lt;"),
        Threshold::PValueAtMost(_) => ("p", "≤"),
        Threshold::StatisticAbove(_) => ("statistic", "&gt;"),
        Threshold::StatisticAtLeast(_) => ("statistic", "≥"),
    };
    format!("{what} {op} {}", number(threshold.value()))
}

/// Four significant digits, scientific notation outside [1e-3, 1e6).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 {
            "∞".to_string()
        } else {
            "−∞".to_string()
        }
    } else if value == 0.0 {
        "0".to_string()
    } else if (1e-3..1e6).contains(&value.abs()) {
        let digits = (3 - value.abs().log10().floor() as i32).clamp(0, 6);
        format!("{value:.*}", digits as usize)
    } else {
        format!("{value:.3e}")
    }
}

fn percent(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", share * 100.0)
    } else {
        "–".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("plain ü"), "plain ü");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.04567), "0.04567");
        assert_eq!(number(123.456), "123.5");
        assert_eq!(number(1.5e-12), "1.500e-12");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(percent(0.125), "12.5%");
    }

    #[test]
    fn long_labels_are_cut_on_characters() {
        assert_eq!(shorten("short"), "short");
        let cut = shorten("ääääääääääääääääääääääää");
        assert_eq!(cut.chars().count(), LABEL_CHARS);
        assert!(cut.ends_with('…'));
    }
}

//! The small CSV dialect of the simulator's trace and cluster files: a
//! fixed header, comma-separated fields, optional double quotes (`""`
//! inside quotes is one quote; no line breaks inside a field), and
//! tolerance for a byte-order mark, CRLF line ends, surrounding
//! whitespace and blank lines. Every error names the file, row and column.

use crate::{Error, Result};

/// One data row: its 1-based line number and its fields, trimmed.
pub(crate) struct Row {
    pub(crate) line: usize,
    pub(crate) fields: Vec<String>,
}

/// Splits `text` into rows of exactly `header.len()` fields after checking
/// that the first non-blank line is `header`.
pub(crate) fn rows(file: &str, text: &str, header: &[&str]) -> Result<Vec<Row>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut seen_header = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let fields = split(file, line, raw, header)?;
        if !seen_header {
            for (i, name) in header.iter().enumerate() {
                let got = fields.get(i).map_or("", String::as_str);
                if got != *name {
                    return Err(row_error(
                        file,
                        line,
                        name,
                        format!("header must be {:?}, found {got:?}", header.join(",")),
                    ));
                }
            }
            if fields.len() > header.len() {
                return Err(row_error(
                    file,
                    line,
                    header.last().copied().unwrap_or(""),
                    format!(
                        "header has {} columns, {} expected",
                        fields.len(),
                        header.len()
                    ),
                ));
            }
            seen_header = true;
            continue;
        }
        if fields.len() != header.len() {
            let column = header
                .get(fields.len())
                .or(header.last())
                .copied()
                .unwrap_or("");
            return Err(row_error(
                file,
                line,
                column,
                format!("{} fields, {} expected", fields.len(), header.len()),
            ));
        }
        out.push(Row { line, fields });
    }
    if !seen_header {
        return Err(row_error(
            file,
            1,
            header.first().copied().unwrap_or(""),
            "no header row",
        ));
    }
    Ok(out)
}

fn split(file: &str, line: usize, raw: &str, header: &[&str]) -> Result<Vec<String>> {
    let column = |i: usize| header.get(i).copied().unwrap_or("(extra)");
    let mut fields = Vec::with_capacity(header.len());
    let mut chars = raw.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(row_error(
                            file,
                            line,
                            column(fields.len()),
                            "unterminated quote",
                        ));
                    }
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => {
                    return Err(row_error(
                        file,
                        line,
                        column(fields.len()),
                        format!("{c:?} after a closing quote"),
                    ));
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_owned());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_owned());
        }
    }
}

/// The error for a field: file, row, column, reason.
pub(crate) fn row_error(file: &str, row: usize, column: &str, reason: impl Into<String>) -> Error {
    Error::Row {
        file: file.to_owned(),
        row,
        column: column.to_owned(),
        reason: reason.into(),
    }
}

/// Quotes a field when it holds a comma, a quote or surrounding spaces.
pub(crate) fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) || field.trim() != field {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// Reads a non-negative decimal number of seconds (`12`, `0.5`, `3.25`)
/// as whole milliseconds, rounding half up past the third decimal.
pub(crate) fn seconds_to_ms(text: &str) -> std::result::Result<u64, String> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(format!("{text:?} is not a non-negative number of seconds"));
    }
    let too_big = || format!("{text:?} seconds is too large");
    let whole: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_big())?
    };
    let mut ms = whole.checked_mul(1000).ok_or_else(too_big)?;
    let frac = frac.as_bytes();
    let mut scale = 100;
    for &b in frac.iter().take(3) {
        ms = ms
            .checked_add(u64::from(b - b'0') * scale)
            .ok_or_else(too_big)?;
        scale /= 10;
    }
    if frac.get(3).is_some_and(|&b| b >= b'5') {
        ms = ms.checked_add(1).ok_or_else(too_big)?;
    }
    Ok(ms)
}

/// Milliseconds as seconds text, without trailing zeros (`1500` → `1.5`).
pub(crate) fn ms_to_seconds(ms: u64) -> String {
    let (s, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        s.to_string()
    } else {
        format!("{s}.{frac:03}").trim_end_matches('0').to_owned()
    }
}

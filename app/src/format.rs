//! Formatting shared by server and browser, so hydration sees the same text.

pub use tracking::time::format_time;

/// A duration in ms as `850ms`, `12.3s`, `4m 05s`, `2h 03m`, `3d 4h`.
pub fn format_duration(ms: i64) -> String {
    let ms = ms.max(0);
    let s = ms / 1000;
    match ms {
        0..=999 => format!("{ms}ms"),
        1000..=59_999 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{}m {:02}s", s / 60, s % 60),
        3_600_000..=86_399_999 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A metric value rounded for reading: 5 significant digits, scientific
/// notation for very small or large magnitudes; the exact value is in the
/// cell's title.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs();
    if !(1e-4..1e7).contains(&mag) {
        return format!("{v:.3e}");
    }
    let digits = (4 - mag.log10().floor() as i32).clamp(0, 8) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Bytes as `812 B`, `3.4 KB`, `120.5 MB`.
pub fn format_size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Percent-encodes a query-string value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-encodes a path, keeping its `/`.
pub fn encode_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_795_441_234_555), "2026-11-23 13:40");
        assert_eq!(format_duration(850), "850ms");
        assert_eq!(format_duration(125_000), "2m 05s");
        assert_eq!(format_value(0.000_3), "0.0003");
        assert_eq!(format_value(0.456_799_9), "0.4568");
        assert_eq!(format_value(1234.5678), "1234.6");
        assert_eq!(format_value(3e-7), "3.000e-7");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_size(3500), "3.4 KB");
        assert_eq!(encode("a b&c"), "a%20b%26c");
        assert_eq!(encode_path("dir/a b.txt"), "dir/a%20b.txt");
    }
}

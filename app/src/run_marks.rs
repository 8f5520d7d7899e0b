//! What a user marks on runs in a chart view's URL: runs hidden with the
//! eye toggle (`hide=id,id`) and colours pinned over a run's own
//! (`colors=id:rrggbb,id:rrggbb`).

use std::collections::{BTreeMap, BTreeSet};

pub fn parse_hidden(text: &str) -> BTreeSet<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

pub fn format_hidden(hidden: &BTreeSet<String>) -> String {
    hidden.iter().cloned().collect::<Vec<_>>().join(",")
}

/// Pinned colours by run id, as `#rrggbb`; and whether some entry could
/// not be read (it is left out).
pub fn parse_pins(text: &str) -> (BTreeMap<String, String>, bool) {
    let mut pins = BTreeMap::new();
    let mut bad = false;
    for entry in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match entry.split_once(':') {
            Some((id, hex)) if !id.is_empty() && hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
                pins.insert(id.to_string(), format!("#{}", hex.to_ascii_lowercase()));
            }
            _ => bad = true,
        }
    }
    (pins, bad)
}

pub fn format_pins(pins: &BTreeMap<String, String>) -> String {
    pins.iter().map(|(id, c)| format!("{id}:{}", c.trim_start_matches('#'))).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_and_bad_entries_are_left_out() {
        let hidden = parse_hidden("b, a,,a");
        assert_eq!(format_hidden(&hidden), "a,b");
        let (pins, bad) = parse_pins("r1:FF0000,r2:00ff00");
        assert!(!bad);
        assert_eq!(pins["r1"], "#ff0000");
        assert_eq!(format_pins(&pins), "r1:ff0000,r2:00ff00");
        let (pins, bad) = parse_pins("r1:red,r2:00ff00,:123456,r3");
        assert!(bad);
        assert_eq!(pins.len(), 1);
    }
}

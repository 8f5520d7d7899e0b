//! MLflow's page tokens: base64 of `{"offset": N}`. Clients treat them as opaque.

use base64::{engine::general_purpose::STANDARD, Engine};
use tracking::{Error, Result};

pub fn encode_offset(offset: i64) -> String {
    STANDARD.encode(format!("{{\"offset\": {offset}}}"))
}

/// The page out of `items` fetched with one row more than `limit` (a
/// negative limit: everything): that extra row tells whether a next page
/// exists, and its token then starts after this page.
pub(crate) fn page_of<T>(mut items: Vec<T>, offset: i64, limit: i64) -> tracking::Page<T> {
    let next_page_token = if limit >= 0 && items.len() as i64 > limit {
        items.truncate(limit as usize);
        Some(encode_offset(offset + limit))
    } else {
        None
    };
    tracking::Page { items, next_page_token }
}

/// Reads an offset back from a token; an empty or absent token is offset 0.
pub fn decode_offset(token: Option<&str>) -> Result<i64> {
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Ok(0) };
    let bytes = STANDARD.decode(token).map_err(|_| Error::invalid("Invalid page token, could not base64-decode"))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
        Error::invalid(format!("Invalid page token, decoded value={}", String::from_utf8_lossy(&bytes)))
    })?;
    let offset = match value.get("offset") {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    match offset {
        Some(o) if o >= 0 => Ok(o),
        _ => Err(Error::invalid(format!("Invalid page token, parsed value={value}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        assert_eq!(decode_offset(Some(&encode_offset(1234))).unwrap(), 1234);
        assert_eq!(decode_offset(None).unwrap(), 0);
        assert!(decode_offset(Some("not base64!")).is_err());
        assert!(decode_offset(Some(&STANDARD.encode("{\"x\":1}"))).is_err());
    }
}

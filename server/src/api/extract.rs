//! Reading MLflow requests: a JSON body for POST, the query string for GET,
//! both into the same typed request, with MLflow's error on bad input.
//!
//! A request is read once, here, and authorized on what was read: every
//! request type says what it touches ([`Guarded`]), and the extractors ask
//! the request's [`Gate`] before the handler gets the value. A request type
//! without [`Guarded`] cannot be extracted, so a handler cannot run on
//! input nobody checked.

use super::error::ApiError;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::Method;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
pub use store::access::{Gate, Need};
use tracking::validation::invalid_value;
use tracking::Error;

/// The largest request body read; MLflow's own log-batch limit is 1 MB of
/// JSON, so this leaves room for large dataset schemas and profiles.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A request message of type `T`, parsed as MLflow's handlers parse it.
pub struct Mlflow<T>(pub T);

/// The raw JSON text of a POST body, for limits that MLflow applies to it.
pub struct BodyLen(pub usize);

/// What a request will touch, from the very value its handler runs: the
/// needs [`Gate::check`] decides on.
pub trait Guarded {
    fn needs(&self) -> Vec<Need>;
}

/// The request's gate (open when users are off).
pub fn gate_of(extensions: &axum::http::Extensions) -> Gate {
    extensions.get::<Gate>().cloned().unwrap_or_else(Gate::open)
}

/// The request's [`Gate`], for handlers that check what they derive (a
/// version's files where they are, the parts of an upload).
pub struct RequestGate(pub Gate);

impl<S: Send + Sync> FromRequestParts<S> for RequestGate {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestGate(gate_of(&parts.extensions)))
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Guarded + Send> FromRequest<S> for Mlflow<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let gate = gate_of(req.extensions());
        let message: T = read(req).await?.0;
        if !gate.is_open() {
            gate.check(&message.needs()).await?;
        }
        Ok(Mlflow(message))
    }
}

/// Like [`Mlflow`], but also hands over the body length.
pub struct MlflowWithLen<T>(pub T, pub BodyLen);

impl<S: Send + Sync, T: DeserializeOwned + Guarded + Send> FromRequest<S> for MlflowWithLen<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let gate = gate_of(req.extensions());
        let (message, len) = read::<T>(req).await?;
        if !gate.is_open() {
            gate.check(&message.needs()).await?;
        }
        Ok(MlflowWithLen(message, BodyLen(len)))
    }
}

/// Request types that name no resource of their own, each for a reason
/// said where it is used (a body beside a checked path, an endpoint about
/// the caller whose handler decides): any signed-in user.
macro_rules! needs_only_a_signed_in_user {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::api::extract::Guarded for $t {
            fn needs(&self) -> Vec<$crate::api::extract::Need> {
                vec![$crate::api::extract::Need::SignedIn]
            }
        }
    )*};
}
pub(crate) use needs_only_a_signed_in_user;

/// Capabilities as types, for request types several endpoints share
/// (`RunId<cap::Delete>` for `runs/delete`).
pub mod cap {
    use tracking::permissions::Capability;

    pub trait Cap {
        const CAP: Capability;
    }
    macro_rules! caps {
        ($($name:ident),*) => {$(
            pub struct $name;
            impl Cap for $name {
                const CAP: Capability = Capability::$name;
            }
        )*};
    }
    caps!(Read, Update, Delete, Manage);
}

/// For endpoints about the signed-in user themself (their account, their
/// tokens, the users list they may see): any signed-in user, decided.
pub struct SignedIn;

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        gate_of(&parts.extensions).check(&[Need::SignedIn]).await?;
        Ok(SignedIn)
    }
}

/// A request message read from the query string alone, whatever the
/// method (for endpoints whose body is a file), and authorized.
pub struct MlflowQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Guarded + Send> FromRequestParts<S> for MlflowQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let message: T = decode(query_to_json(parts.uri.query().unwrap_or("")))?;
        let gate = gate_of(&parts.extensions);
        if !gate.is_open() {
            gate.check(&message.needs()).await?;
        }
        Ok(MlflowQuery(message))
    }
}

/// Path parameters, authorized.
pub struct GuardedPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Guarded + Send> FromRequestParts<S> for GuardedPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError(Error::invalid(e.body_text())))?;
        let gate = gate_of(&parts.extensions);
        if !gate.is_open() {
            gate.check(&value.needs()).await?;
        }
        Ok(GuardedPath(value))
    }
}

async fn read<T: DeserializeOwned>(req: Request) -> Result<(T, usize), ApiError> {
    if req.method() == Method::GET {
        let query = req.uri().query().unwrap_or("");
        return Ok((decode(query_to_json(query))?, 0));
    }
    let query = req.uri().query().unwrap_or("").to_string();
    let body: Body = req.into_body();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| Error::invalid(format!("Request body is larger than the limit of {MAX_BODY_BYTES} bytes")))?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        // MLflow's client sends DELETE arguments as a JSON body; other
        // clients put them in the query string.
        return Ok((decode(query_to_json(&query))?, 0));
    }
    // The fast path reads the message straight from the bytes; on failure the
    // body is read again as a JSON value, for old clients that double-encode
    // it and for an error message that shows the offending value.
    if let Ok(message) = serde_json::from_slice::<T>(&bytes) {
        return Ok((message, bytes.len()));
    }
    let malformed = |e: serde_json::Error| Error::invalid(format!("Malformed JSON in request body: {e}"));
    let mut value: Value = serde_json::from_slice(&bytes).map_err(malformed)?;
    if let Value::String(s) = &value {
        value = serde_json::from_str(s).map_err(malformed)?;
    }
    if !value.is_object() {
        return Err(Error::invalid("The request body must be a JSON object").into());
    }
    Ok((decode(value)?, bytes.len()))
}

/// Query parameters as a JSON object; a repeated name becomes a list.
fn query_to_json(query: &str) -> Value {
    let mut map = Map::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let v = Value::String(v.into_owned());
        match map.get_mut(k.as_ref()) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                map.insert(k.into_owned(), v);
            }
        }
    }
    Value::Object(map)
}

fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    let probe = value.clone();
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let found = lookup(&probe, &path);
        let inner = e.into_inner().to_string();
        let inner = inner.split(" at line").next().unwrap_or("");
        match found {
            // A value of the wrong JSON type, in MLflow's words (`_validate_param_against_schema`).
            Some(value) if inner.starts_with("invalid type") => ApiError(Error::invalid(format!(
                "Invalid value {value} for parameter '{path}' supplied:  Hint: Value was of type '{}'. \
                 See the API docs for more information about request parameters.",
                python_type(value)
            ))),
            Some(Value::String(text)) => ApiError(invalid_value(&path, text, inner)),
            Some(value) => {
                ApiError(Error::invalid(format!("Invalid value {value} for parameter '{path}' supplied: {inner}")))
            }
            None => ApiError(invalid_value(&path, "", inner)),
        }
    })
}

/// The name Python gives the type of a decoded JSON value.
fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// The value at a serde_path_to_error path such as `metrics[0].value`.
fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = value;
    for part in path.split('.') {
        let (name, index) = match part.find('[') {
            Some(i) => (&part[..i], part[i + 1..part.len() - 1].parse::<usize>().ok()),
            None => (part, None),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// Serde helpers for protobuf's lenient JSON: int64 as number or string,
/// repeated fields given once in a query string.
pub mod wire {
    use serde::de::{self, Deserializer};
    use serde::Deserialize;
    use std::fmt;

    struct IntVisitor;
    impl de::Visitor<'_> for IntVisitor {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("integer out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < 9.2e18 {
                Ok(v as i64)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim().parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    /// An optional int64 that may arrive as a JSON number or a string.
    pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        struct Opt;
        impl<'de> de::Visitor<'de> for Opt {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(IntVisitor).map(Some)
            }
        }
        d.deserialize_option(Opt)
    }

    /// An optional double: number, numeric string, "NaN" or "±Infinity".
    pub fn opt_float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        #[derive(Deserialize)]
        struct F(#[serde(with = "tracking::entities::float")] f64);
        Option::<F>::deserialize(d).map(|o| o.map(|F(v)| v))
    }

    /// A list of strings, also accepting one string (a query parameter given once).
    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
            Null(()),
        }
        Ok(match OneOrMany::deserialize(d).map_err(|_| de::Error::custom("expected a list of strings"))? {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
            OneOrMany::Null(()) => Vec::new(),
        })
    }
}

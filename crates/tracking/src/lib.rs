//! The MLflow tracking domain, shared by the store, the REST API and the web UI.
//!
//! Everything here compiles to wasm: no I/O, no async runtime.

pub mod dashboards;
pub mod entities;
pub mod error;
pub mod filter;
pub mod permissions;
pub mod registry;
pub mod time;
pub mod validation;

pub use entities::*;
pub use error::{Error, ErrorCode, Result};

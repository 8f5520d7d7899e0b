pub mod compare;
pub mod dashboards;
pub mod experiments;
pub mod models;
pub mod run;
pub mod runs;

pub use crate::components::status::{ErrorNote, Loaded, Loading, ServerError};
pub use crate::url_state::{in_place, url_with_param, url_with_params};

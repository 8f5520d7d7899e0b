//! Pieces that pages share. Pages compose these; a component never
//! imports a page.

pub mod editable;
pub mod markdown;
pub mod mlmodel;
pub mod status;
pub mod values_dock;

//! Pieces that pages share. Pages compose these; a component never
//! imports a page.

pub mod values_dock;

//! Pieces that pages share. Pages compose these; a component never
//! imports a page, and pages never import each other.

pub mod add_panel;
pub mod artifacts;
pub mod chart_settings;
pub mod editable;
pub mod group_controls;
pub mod importance;
pub mod markdown;
pub mod mlmodel;
pub mod name_prompt;
pub mod panel;
pub mod parallel_panel;
pub mod status;
pub mod summary_charts;
pub mod values_dock;

//! Which rows and columns of a big table are worth rendering: the ones in
//! the scrolled viewport, plus a few on each side so that a small scroll
//! shows rows that are already there. Everything else is one spacer.

/// Rows and metric/param columns are this size in a windowed table (the
/// stylesheet fixes them; the row height is measured once rendered).
pub const ROW_HEIGHT: f64 = 34.0;
pub const COLUMN_WIDTH: f64 = 112.0;

/// The fixed columns before the metrics and params: the check box, run,
/// status, started, duration, user and source (with its commit).
pub const FIXED_WIDTHS: [u32; 7] = [32, 200, 90, 150, 80, 100, 150];

/// Tables with more cells than this are windowed; smaller ones render
/// whole and size their columns to what they hold.
pub const WINDOWED_CELLS: usize = 3000;

/// The size of the viewport before the browser has measured it (also what
/// the server renders for): a laptop screen.
pub const DEFAULT_VIEWPORT: (f64, f64) = (1440.0, 700.0);

/// The range `[first, end)` of `len` items of `size` pixels that shows
/// the part `[offset, offset + viewport)`, widened by `extra` items on
/// each side.
pub fn window(offset: f64, viewport: f64, size: f64, len: usize, extra: usize) -> (usize, usize) {
    if len == 0 || size <= 0.0 {
        return (0, 0);
    }
    let offset = if offset.is_finite() { offset.max(0.0) } else { 0.0 };
    let viewport = if viewport.is_finite() { viewport.max(0.0) } else { 0.0 };
    let first = ((offset / size).floor() as usize).min(len - 1);
    let last = (((offset + viewport) / size).ceil() as usize).max(first + 1);
    (first.saturating_sub(extra), (last + extra).min(len))
}

/// The width of the fixed columns.
pub fn fixed_width() -> f64 {
    FIXED_WIDTHS.iter().map(|w| f64::from(*w)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_of_the_table() {
        // 700 px of 34 px rows: 21 rows, and 5 more below.
        assert_eq!(window(0.0, 700.0, 34.0, 10_000, 5), (0, 26));
    }

    #[test]
    fn scrolled_into_the_middle() {
        // Rows 100.. start at 3,400 px.
        assert_eq!(window(3400.0, 340.0, 34.0, 10_000, 5), (95, 115));
        // Half a row shown at the top counts.
        assert_eq!(window(3417.0, 340.0, 34.0, 10_000, 0), (100, 111));
    }

    #[test]
    fn never_past_the_ends() {
        assert_eq!(window(1e9, 700.0, 34.0, 50, 5), (44, 50));
        assert_eq!(window(-200.0, 700.0, 34.0, 10, 5), (0, 10));
        assert_eq!(window(0.0, 700.0, 34.0, 0, 5), (0, 0));
    }

    #[test]
    fn an_unmeasured_viewport_still_shows_a_row() {
        assert_eq!(window(0.0, 0.0, 34.0, 100, 0), (0, 1));
        assert_eq!(window(f64::NAN, f64::INFINITY, 34.0, 100, 0), (0, 1));
    }

    #[test]
    fn columns_left_of_the_viewport_are_skipped() {
        // Scrolled 1,000 px right past 802 px of fixed columns, 600 px wide.
        let (first, end) = window(1000.0 - fixed_width(), 600.0, COLUMN_WIDTH, 200, 2);
        assert_eq!((first, end), (0, 10));
        let (first, end) = window(5000.0 - fixed_width(), 600.0, COLUMN_WIDTH, 200, 2);
        assert_eq!((first, end), (35, 45));
    }
}

//! `docs/bench/ratios.svg`: a horizontal bar chart of K42 / Linux for every row of
//! the primary (`-icount`) tables, drawn with plotters' SVG backend on a log scale
//! around 1 (parity). A bar left of 1 means K42's figure is smaller; it is green
//! when that is the better direction for the row and red when not. A row with no
//! K42 figure shows its reason ("not yet: needs threads …") where its bar would be, and
//! when no benchmark has a ratio the chart says so in its title: never an empty or
//! made-up chart.
//!
//! `mod.rs` calls [`draw`] with the rows from `summary.rs`.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::catalog::Better;
use super::summary::Row;

const WIDTH: u32 = 1100;
const ROW_HEIGHT: u32 = 24;
/// Room above and below the rows: title lines, axis and its label.
const CHROME_HEIGHT: u32 = 150;
const LABEL_AREA: u32 = 430;
const MARGIN: u32 = 12;
const FONT: &str = "sans-serif";
const TITLE_SIZE: u32 = 18;
const TEXT_SIZE: u32 = 13;
/// The axis spans at least a factor of this either side of 1.
const MIN_SPAN: f64 = 2.0;
/// Headroom beyond the extreme ratios, as a factor.
const HEADROOM: f64 = 1.5;
/// Where a row's reason starts, as a factor right of the axis' low end.
const NOTE_INSET: f64 = 1.1;
/// Bar thickness as a fraction of a row.
const BAR_FILL: f64 = 0.35;
const GOOD: RGBColor = RGBColor(0x2e, 0x8b, 0x57);
const BAD: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
const MISSING: RGBColor = RGBColor(0x80, 0x80, 0x80);

/// One labelled row of the chart.
pub struct Line<'a> {
    /// The label on the left.
    pub label: String,
    /// The row.
    pub row: &'a Row,
}

/// Draws `lines` into `path`; `benchmarks` of them are benchmark rows (for the
/// "none yet" notice in the title).
pub fn draw(path: &Path, title: &str, lines: &[Line<'_>], benchmarks: usize) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("drawing {}: {e}", path.display());
    let with_ratio = lines.iter().filter(|l| l.row.ratio().is_some()).count();
    let benchmark_ratios = lines[..benchmarks]
        .iter()
        .filter(|l| l.row.ratio().is_some())
        .count();
    let rows = lines.len().max(1) as u32;
    let height = CHROME_HEIGHT + rows * ROW_HEIGHT;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;

    let (low, high) = span(lines.iter().filter_map(|l| l.row.ratio()));
    let notice = if benchmark_ratios == 0 {
        format!(
            "No benchmark has a K42/Linux ratio: none of the {benchmarks} has a K42 figure \
             (each row says why). {with_ratio} boot/footprint rows have one."
        )
    } else {
        format!("{benchmark_ratios} of {benchmarks} benchmarks have a K42 figure.")
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, TITLE_SIZE))
        .margin(MARGIN)
        .margin_top(MARGIN * 4)
        .x_label_area_size(ROW_HEIGHT * 2)
        .y_label_area_size(LABEL_AREA)
        .build_cartesian_2d((low..high).log_scale(), 0f64..f64::from(rows))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("K42 / Linux (log scale; 1 = the same as Linux)")
        .x_label_formatter(&|x| format!("{x}"))
        .label_style((FONT, TEXT_SIZE))
        .draw()
        .map_err(|e| err(&e))?;
    root.draw(&Text::new(
        notice,
        (
            i32::try_from(MARGIN * 2).unwrap_or(0),
            i32::try_from(MARGIN * 3).unwrap_or(0),
        ),
        (FONT, TEXT_SIZE).into_font().color(&BAD),
    ))
    .map_err(|e| err(&e))?;
    // Parity.
    chart
        .draw_series([PathElement::new(
            vec![(1.0, 0.0), (1.0, f64::from(rows))],
            BLACK,
        )])
        .map_err(|e| err(&e))?;

    let label_style =
        TextStyle::from((FONT, TEXT_SIZE).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    // Reasons start at the left edge, clear of the parity line.
    let note_style = (FONT, TEXT_SIZE)
        .into_font()
        .color(&MISSING)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let note_x = low * NOTE_INSET;
    for (i, line) in lines.iter().enumerate() {
        // The first row at the top.
        let y = f64::from(rows) - i as f64 - 0.5;
        let (px, py) = chart.backend_coord(&(low, y));
        root.draw(&Text::new(
            line.label.clone(),
            (px - 8, py),
            label_style.clone(),
        ))
        .map_err(|e| err(&e))?;
        match line.row.ratio() {
            Some(ratio) => {
                let good = match line.row.better {
                    Better::Lower => ratio <= 1.0,
                    Better::Higher => ratio >= 1.0,
                };
                let colour = if good { GOOD } else { BAD };
                chart
                    .draw_series([Rectangle::new(
                        [(1.0, y - BAR_FILL), (ratio, y + BAR_FILL)],
                        colour.filled(),
                    )])
                    .map_err(|e| err(&e))?;
                chart
                    .draw_series([Text::new(
                        format!("{ratio:.3}"),
                        (ratio.max(1.0) * 1.05, y),
                        TextStyle::from((FONT, TEXT_SIZE).into_font())
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )])
                    .map_err(|e| err(&e))?;
            }
            None => {
                chart
                    .draw_series([Text::new(
                        format!("K42: {}", line.row.k42_missing),
                        (note_x, y),
                        note_style.clone(),
                    )])
                    .map_err(|e| err(&e))?;
            }
        }
    }
    root.present().map_err(|e| err(&e))
}

/// The axis range: the ratios and 1, at least a factor of MIN_SPAN each way.
fn span(ratios: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (1.0 / MIN_SPAN, MIN_SPAN);
    for r in ratios.filter(|r| r.is_finite() && *r > 0.0) {
        low = low.min(r / HEADROOM);
        high = high.max(r * HEADROOM * HEADROOM);
    }
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_holds_parity_and_every_ratio() {
        assert_eq!(span(std::iter::empty()), (0.5, 2.0));
        let (low, high) = span([0.01, 3.0].into_iter());
        assert!(low < 0.01 && high > 3.0);
    }

    #[test]
    fn a_chart_without_ratios_says_so() {
        let mut results = crate::bench::summary::tests::sample();
        results
            .boots
            .retain(|b| b.purpose != crate::bench::results::Purpose::Program);
        let rows =
            crate::bench::summary::benchmark_rows(&results, super::super::results::Mode::Icount);
        let lines: Vec<Line<'_>> = rows
            .iter()
            .map(|row| Line {
                label: row.name.clone(),
                row,
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("k42-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("ratios.svg");
        draw(&path, "test", &lines, lines.len()).expect("draws");
        let svg = std::fs::read_to_string(&path).expect("written");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(svg.contains("No benchmark has a K42/Linux ratio"));
        assert!(svg.contains("no figure (see the problems in results.json)"));
    }
}

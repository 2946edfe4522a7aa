//! The charts of the reports (SVG, plotters): panels of grouped bars, one group per case
//! (named under it), one bar per runtime in the colours of [`COLORS`].
//!
//! ```no_run
//! use bench_support::chart::{Bars, svg};
//!
//! let labels = ["echo 64 B".to_owned(), "fibonacci".to_owned()];
//! let bars = Bars {
//!     title: "warm p50 (µs)",
//!     labels: &labels,
//!     label_size: 14,
//!     series: vec![("lambda-blocking-rt", vec![28.0, 40.0]), ("lambda_runtime", vec![75.0, 90.0])],
//!     legend: true,
//!     y_format: None,
//! };
//! let area = svg(std::path::Path::new("chart.svg"), (500, 520), "Warm invoke")?;
//! bars.draw(&area, 0.0..100.0, 0.0)?;
//! area.present()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::error::Error;
use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The bars' colours, one per runtime, in the order the tables list them.
pub const COLORS: [RGBColor; 3] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x7f, 0x7f, 0x7f),
];

/// What drawing returns.
pub type Drawn<T = ()> = Result<T, Box<dyn Error>>;

/// A panel drawn by [`Bars::draw`], for what a report adds to it (lines, ratios).
pub type Panel<'a, 'p, Y> = ChartContext<'a, SVGBackend<'p>, Cartesian2d<RangedCoordf64, Y>>;

/// A white SVG of `size` pixels at `path`, titled; what is under the title is returned.
pub fn svg<'p>(
    path: &'p Path,
    size: (u32, u32),
    title: &str,
) -> Drawn<DrawingArea<SVGBackend<'p>, Shift>> {
    let full = SVGBackend::new(path, size).into_drawing_area();
    full.fill(&WHITE)?;
    Ok(full.titled(title, ("sans-serif", 22))?)
}

/// One panel: a figure, every case, every runtime.
pub struct Bars<'a> {
    pub title: &'a str,
    /// The cases, named under their groups, in this font size.
    pub labels: &'a [String],
    pub label_size: u32,
    /// Per runtime: its name and its value in each case (not finite: no bar).
    pub series: Vec<(&'a str, Vec<f64>)>,
    /// Names the runtimes in a legend at the upper left (else the report has its own).
    pub legend: bool,
    /// How the y axis writes its values, if not as plotters does.
    pub y_format: Option<fn(&f64) -> String>,
}

impl Bars<'_> {
    /// The finite, positive values: what the y axis must hold.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.series
            .iter()
            .flat_map(|(_, values)| values.iter().copied())
            .filter(|v| v.is_finite() && *v > 0.0)
    }

    /// The left edge and the width of runtime `r`'s bar in case `c`.
    pub fn bar(&self, c: usize, r: usize) -> (f64, f64) {
        let width = 0.8 / self.series.len() as f64;
        (c as f64 + 0.1 + r as f64 * width, width * 0.9)
    }

    /// Draws the panel on `area` with the y axis `y` (linear or log), bars rising from `floor`.
    pub fn draw<'a, 'p, Y>(
        &self,
        area: &'a DrawingArea<SVGBackend<'p>, Shift>,
        y: Y,
        floor: f64,
    ) -> Drawn<Panel<'a, 'p, Y::CoordDescType>>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(area)
            .caption(self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..self.labels.len() as f64, y)?;
        // The cases are named under their groups by hand: an f64 axis puts its ticks anywhere.
        let no_label = |_: &f64| String::new();
        let mut mesh = chart.configure_mesh();
        mesh.disable_x_mesh().x_label_formatter(&no_label);
        if let Some(format) = &self.y_format {
            mesh.y_label_formatter(format);
        }
        mesh.draw()?;
        for (c, label) in self.labels.iter().enumerate() {
            let at = chart.backend_coord(&(c as f64 + 0.5, floor));
            text_at(area, label, at, 6, self.label_size)?;
        }
        for (r, (name, values)) in self.series.iter().enumerate() {
            let color = COLORS[r % COLORS.len()];
            let bars = values.iter().enumerate().filter_map(|(c, &top)| {
                let (left, width) = self.bar(c, r);
                top.is_finite()
                    .then(|| Rectangle::new([(left, floor), (left + width, top)], color.filled()))
            });
            let series = chart.draw_series(bars)?;
            if self.legend {
                series.label(*name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
            }
        }
        if self.legend {
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()?;
        }
        Ok(chart)
    }
}

/// Writes `text` centred below (`down` pixels; above if negative) the backend point `at`, on
/// `area`.
pub fn text_at(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    text: &str,
    at: (i32, i32),
    down: i32,
    size: u32,
) -> Drawn {
    let style = ("sans-serif", size)
        .into_font()
        .into_text_style(area)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let base = area.get_base_pixel();
    area.draw(&Text::new(
        text,
        (at.0 - base.0, at.1 + down - base.1),
        style,
    ))?;
    Ok(())
}

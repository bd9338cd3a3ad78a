//! Plots as data, and their drawing.
//!
//! A [`Plot`] is a title, two axes and layers (lines, points, a shaded field, contour
//! lines): plain data that `nnc-inspect` builds from a run and that tests inspect
//! directly. [`render`] draws it with plotters as SVG or PNG bytes; the PNG text uses the
//! DejaVu Sans font bundled in `assets/` (its licence beside it), so output does not
//! depend on the fonts of the machine.

mod contour;

use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Plot {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub layers: Vec<Layer>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Axis {
    pub label: String,
    pub min: f64,
    pub max: f64,
    /// Logarithmic (the range must then be positive).
    pub log: bool,
}

impl Axis {
    /// An axis spanning `values` with a margin, or [0, 1] when there are none.
    pub fn fit(label: impl Into<String>, values: impl IntoIterator<Item = f64>) -> Axis {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            min = min.min(v);
            max = max.max(v);
        }
        if min > max {
            (min, max) = (0.0, 1.0);
        }
        let pad = if max > min { 0.05 * (max - min) } else { 0.5 };
        Axis { label: label.into(), min: min - pad, max: max + pad, log: false }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum Layer {
    /// A polyline, in legend order.
    Line { label: Option<String>, points: Vec<(f64, f64)>, color: usize, dashed: bool },
    /// Markers.
    Points { label: Option<String>, points: Vec<(f64, f64)>, color: usize },
    /// A grid of cells covering the axes (row 0 at the bottom), shaded by value.
    Field { grid: Vec<Vec<Shade>> },
    /// Contour lines of a grid covering the axes at the given levels.
    Contours { grid: Vec<Vec<f64>>, levels: Vec<f64>, color: usize },
    /// Weighted connections (a network's weights): blue for positive, orange for
    /// negative, wider and stronger the larger the magnitude against the largest.
    Edges { edges: Vec<Edge> },
}

/// One connection of [`Layer::Edges`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Edge {
    pub from: (f64, f64),
    pub to: (f64, f64),
    pub weight: f64,
}

/// How one cell of a field is shaded.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub enum Shade {
    /// Between palette colours 0 (at 0) and 1 (at 1), pale.
    Between(f64),
    /// Palette colour `class`, paler the less `confidence` (0..1).
    Class(usize, f64),
    /// A grey level, black at 0 and white at 1: pixels, filters, feature maps.
    Grey(f64),
    /// No value: the space between the panels of a mosaic.
    Blank,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// Pixels of every plot.
pub const SIZE: (u32, u32) = (720, 480);

/// Ten distinguishable colours (Matplotlib's "tab10").
const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

pub fn color(index: usize) -> RGBColor {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    RGBColor(r, g, b)
}

/// A colour mixed with white: `amount` 0 is white, 1 the colour.
fn pale(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (255.0 - (255.0 - f64::from(v)) * amount.clamp(0.0, 1.0)).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Draws `plot` as SVG or PNG bytes.
pub fn render(plot: &Plot, format: Format) -> Result<Vec<u8>, String> {
    register_font();
    match format {
        Format::Svg => {
            let mut text = String::new();
            draw(plot, SVGBackend::with_string(&mut text, SIZE).into_drawing_area())?;
            Ok(text.into_bytes())
        }
        Format::Png => {
            let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
            draw(plot, BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area())?;
            let image = image::RgbImage::from_raw(SIZE.0, SIZE.1, pixels).ok_or("PNG buffer size")?;
            let mut bytes = std::io::Cursor::new(Vec::new());
            image.write_to(&mut bytes, image::ImageFormat::Png).map_err(|e| e.to_string())?;
            Ok(bytes.into_inner())
        }
    }
}

fn register_font() {
    static FONT: Once = Once::new();
    FONT.call_once(|| {
        // A bundled font cannot fail to parse; if it did, text would be missing, not the plot.
        let _ =
            plotters::style::register_font("sans-serif", FontStyle::Normal, include_bytes!("../assets/DejaVuSans.ttf"));
    });
}

fn draw<DB: DrawingBackend>(plot: &Plot, root: DrawingArea<DB, Shift>) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(fail)?;
    let (x, y) = (&plot.x, &plot.y);
    let mut builder = ChartBuilder::on(&root);
    builder.caption(&plot.title, ("sans-serif", 20)).margin(12).x_label_area_size(40).y_label_area_size(60);
    if y.log {
        let range = (y.min.max(1e-300)..y.max.max(y.min.max(1e-300) * 10.0)).log_scale();
        let mut chart = builder.build_cartesian_2d(x.min..x.max, range).map_err(fail)?;
        fill_chart(&mut chart, plot)?;
    } else {
        let mut chart = builder.build_cartesian_2d(x.min..x.max, y.min..y.max).map_err(fail)?;
        fill_chart(&mut chart, plot)?;
    }
    root.present().map_err(fail)
}

/// A tick label: `200`, `0.25`, `1e-6` — never `200.0` or `0.09999999`.
fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs();
    if !(1e-3..1e5).contains(&magnitude) {
        let text = format!("{v:.0e}");
        return text;
    }
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

type Chart<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>;

/// The axes with their labels, every layer and the legend, on either kind of y axis.
fn fill_chart<'a, DB, Y>(chart: &mut Chart<'a, DB, Y>, plot: &Plot) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(&plot.x.label)
        .y_desc(&plot.y.label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(|e| e.to_string())?;
    draw_layers(chart, plot)?;
    legend(chart, plot)
}

fn draw_layers<'a, DB, Y>(chart: &mut Chart<'a, DB, Y>, plot: &Plot) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64>,
{
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (x, y) = (&plot.x, &plot.y);
    for layer in &plot.layers {
        match layer {
            Layer::Field { grid } => {
                let rectangles = field_rectangles(grid, x, y);
                chart
                    .draw_series(rectangles.into_iter().map(|(corners, fill)| Rectangle::new(corners, fill.filled())))
                    .map_err(fail)?;
            }
            Layer::Contours { grid, levels, color: c } => {
                for segment in contour::segments(grid, levels, (x.min, x.max), (y.min, y.max)) {
                    chart.draw_series(LineSeries::new(segment, color(*c).mix(0.6))).map_err(fail)?;
                }
            }
            Layer::Line { label, points, color: c, dashed } => {
                let style = color(*c).stroke_width(2);
                let points = thin(points, x, y);
                // A wide polyline that doubles back on itself gets a long miter spike in
                // the bitmap backend; such a zigzag (momentum's path) is drawn in pieces.
                let pieces = split_at_reversals(&points, x, y);
                let mut series = None;
                for piece in pieces {
                    series = Some(if *dashed {
                        chart.draw_series(DashedLineSeries::new(piece, 6, 4, style)).map_err(fail)?
                    } else {
                        chart.draw_series(LineSeries::new(piece, style)).map_err(fail)?
                    });
                }
                let Some(series) = series else { continue };
                if let Some(label) = label {
                    let legend_color = color(*c);
                    series.label(label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], legend_color));
                }
            }
            Layer::Edges { edges } => {
                let largest = edges.iter().map(|e| e.weight.abs()).filter(|w| w.is_finite()).fold(0.0, f64::max);
                for edge in edges.iter().filter(|e| e.weight.is_finite()) {
                    let strength = if largest > 0.0 { edge.weight.abs() / largest } else { 0.0 };
                    let hue = color(if edge.weight >= 0.0 { 0 } else { 1 });
                    let style = hue.mix(0.25 + 0.75 * strength).stroke_width(1 + (5.0 * strength).round() as u32);
                    chart.draw_series(LineSeries::new([edge.from, edge.to], style)).map_err(fail)?;
                }
            }
            Layer::Points { label, points, color: c } => {
                let fill = color(*c);
                let series =
                    chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, fill.filled()))).map_err(fail)?;
                if let Some(label) = label {
                    series.label(label).legend(move |(x, y)| Circle::new((x + 8, y), 4, fill.filled()));
                }
            }
        }
    }
    Ok(())
}

/// A line keeps only the points that change its drawing by more than a tenth of a pixel
/// (Ramer–Douglas–Peucker in plot units): a loss curve of 10,000 epochs looks the same and
/// its SVG stays small, and a zigzag keeps its corners.
fn thin(points: &[(f64, f64)], x: &Axis, y: &Axis) -> Vec<(f64, f64)> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let scale = |p: (f64, f64)| {
        let v = if y.log { p.1.max(1e-300).ln() } else { p.1 };
        let (lo, hi) = if y.log { (y.min.max(1e-300).ln(), y.max.max(1e-300).ln()) } else { (y.min, y.max) };
        ((p.0 - x.min) / (x.max - x.min) * f64::from(SIZE.0), (v - lo) / (hi - lo) * f64::from(SIZE.1))
    };
    let scaled: Vec<(f64, f64)> = points.iter().map(|&p| scale(p)).collect();
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut stack = vec![(0, points.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        let (a, b) = (scaled[first], scaled[last]);
        let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let distance = |p: (f64, f64)| {
            if length < 1e-12 {
                ((p.0 - a.0).powi(2) + (p.1 - a.1).powi(2)).sqrt()
            } else {
                ((b.0 - a.0) * (a.1 - p.1) - (a.0 - p.0) * (b.1 - a.1)).abs() / length
            }
        };
        let farthest = (first + 1..last).map(|i| (i, distance(scaled[i]))).max_by(|p, q| p.1.total_cmp(&q.1));
        if let Some((index, d)) = farthest
            && (d > 0.1 || !d.is_finite())
        {
            keep[index] = true;
            stack.push((first, index));
            stack.push((index, last));
        }
    }
    points.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

/// `points` cut where the line turns back by more than 120° (in plot units).
fn split_at_reversals(points: &[(f64, f64)], x: &Axis, y: &Axis) -> Vec<Vec<(f64, f64)>> {
    let unit = |a: (f64, f64), b: (f64, f64)| {
        let span = |lo: f64, hi: f64, log: bool| if log { (hi.max(1e-300) / lo.max(1e-300)).ln() } else { hi - lo };
        let along = |p: f64, log: bool| if log { p.max(1e-300).ln() } else { p };
        ((b.0 - a.0) / span(x.min, x.max, false), (along(b.1, y.log) - along(a.1, y.log)) / span(y.min, y.max, y.log))
    };
    let mut pieces = vec![Vec::new()];
    for (index, &point) in points.iter().enumerate() {
        if index >= 2 {
            let (u, v) = (unit(points[index - 2], points[index - 1]), unit(points[index - 1], point));
            let cosine = (u.0 * v.0 + u.1 * v.1) / ((u.0.hypot(u.1)) * (v.0.hypot(v.1))).max(1e-300);
            if cosine < -0.5 {
                pieces.push(vec![points[index - 1]]);
            }
        }
        if let Some(last) = pieces.last_mut() {
            last.push(point);
        }
    }
    pieces
}

/// Shades come in this many steps, so that neighbouring cells of the same step merge into
/// one rectangle (a field of 100 × 100 cells is then a few hundred rectangles, not 10,000).
const SHADES: f64 = 12.0;

fn shade_color(shade: Shade) -> RGBColor {
    let step = |t: f64| (t.clamp(0.0, 1.0) * SHADES).round() / SHADES;
    match shade {
        Shade::Between(t) => {
            let t = step(t);
            let (a, b) = (color(0), color(1));
            let mix = |u: u8, v: u8| (f64::from(u) * (1.0 - t) + f64::from(v) * t).round() as u8;
            pale(RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2)), 0.35)
        }
        Shade::Class(class, confidence) => pale(color(class), 0.15 + 0.35 * step(confidence)),
        Shade::Grey(t) => {
            // Finer steps than the pale shades: a filter's 3x3 weights differ by little.
            let level = ((t.clamp(0.0, 1.0) * 255.0).round()) as u8;
            RGBColor(level, level, level)
        }
        Shade::Blank => pale(color(0), 0.2),
    }
}

/// The field's cells as rectangles, runs of one colour along a row merged.
fn field_rectangles(grid: &[Vec<Shade>], x: &Axis, y: &Axis) -> Vec<([(f64, f64); 2], RGBColor)> {
    let (rows, columns) = (grid.len(), grid.first().map_or(0, Vec::len));
    let at = |i: usize, n: usize, axis: &Axis| axis.min + (axis.max - axis.min) * i as f64 / n as f64;
    let mut out = Vec::new();
    for (r, row) in grid.iter().enumerate() {
        let mut start = 0;
        for c in 1..=row.len() {
            let fill = shade_color(row[start]);
            if c == row.len() || shade_color(row[c]) != fill {
                out.push(([(at(start, columns, x), at(r, rows, y)), (at(c, columns, x), at(r + 1, rows, y))], fill));
                start = c;
            }
        }
    }
    out
}

fn legend<'a, DB, Y>(chart: &mut Chart<'a, DB, Y>, plot: &Plot) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64>,
{
    let labelled = plot.layers.iter().any(|l| match l {
        Layer::Line { label, .. } | Layer::Points { label, .. } => label.is_some(),
        Layer::Field { .. } | Layer::Contours { .. } | Layer::Edges { .. } => false,
    });
    if labelled {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

//! The bench's chart: per operation, one bar for each of in-kernel,
//! forwarded (fast path), forwarded (slow path) and Linux, on a log scale
//! (the operations span four orders of magnitude), as an SVG.

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{accel_name, Results, OPS};

/// The series: (variant, legend, colour).
const SERIES: [(&str, &str, RGBColor); 4] = [
    (
        "kernel",
        "Lstar, in the kernel (route=getpid:kernel)",
        RGBColor(0x2c, 0xa0, 0x2c),
    ),
    (
        "fast",
        "Lstar, forwarded, fast path",
        RGBColor(0x1f, 0x77, 0xb4),
    ),
    (
        "slow",
        "Lstar, forwarded, through the scheduler",
        RGBColor(0x9e, 0xc9, 0xe8),
    ),
    ("linux-pti", "Linux, pti=on", RGBColor(0xd6, 0x27, 0x28)),
];

const BAND: u32 = 56;
const WIDTH: u32 = 1100;

/// The chart of `results` as SVG text.
pub fn svg(results: &Results) -> Result<String> {
    let min = |v: &str, op: &str| results.measured(v, op).map(|m| m.min_cycles);
    // Operations with at least one bar; `timer` is not an operation.
    let ops: Vec<&str> = OPS
        .iter()
        .map(|(name, _)| *name)
        .filter(|op| *op != "timer" && SERIES.iter().any(|(v, _, _)| min(v, op).is_some()))
        .collect();
    let values: Vec<u64> = ops
        .iter()
        .flat_map(|op| SERIES.iter().filter_map(move |(v, _, _)| min(v, op)))
        .collect();
    let lo = values.iter().copied().min().unwrap_or(10).max(1) as f64 / 2.0;
    let hi = values.iter().copied().max().unwrap_or(1000) as f64 * 3.0;
    let rows = ops.len().max(1);
    let height = 130 + BAND * rows as u32;
    let unit = if results.accel == super::Accel::Icount {
        "guest instructions"
    } else {
        "cycles"
    };

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        let err = |e: DrawingAreaErrorKind<_>| anyhow!("drawing the chart: {e:?}");
        root.fill(&WHITE).map_err(err)?;
        let caption = format!(
            "Cost per operation, minimum {unit} (log scale), accelerator {}",
            accel_name(results.accel)
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(150)
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..rows as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(unit)
            .x_label_formatter(&|x| format!("{}", x.round() as u64))
            .draw()
            .map_err(err)?;

        let bar = 0.8 / SERIES.len() as f64;
        for (s, (variant, legend, colour)) in SERIES.iter().enumerate() {
            let bars: Vec<(f64, f64, u64)> = ops
                .iter()
                .enumerate()
                .filter_map(|(i, op)| {
                    // The first operation at the top.
                    let top = (rows - i) as f64 - 0.1 - bar * s as f64;
                    min(variant, op).map(|v| (top, top - bar, v))
                })
                .collect();
            let colour = *colour;
            chart
                .draw_series(bars.iter().map(|&(top, bottom, v)| {
                    Rectangle::new([(lo, bottom), (v as f64, top)], colour.filled())
                }))
                .map_err(err)?
                .label(*legend)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
            let style = TextStyle::from(("sans-serif", 11).into_font())
                .pos(Pos::new(HPos::Left, VPos::Center));
            chart
                .draw_series(bars.iter().map(|&(top, bottom, v)| {
                    Text::new(
                        format!(" {v}"),
                        (v as f64, (top + bottom) / 2.0),
                        style.clone(),
                    )
                }))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;

        // The operation names, left of their bands, in pixels.
        let style = TextStyle::from(("sans-serif", 13).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, op) in ops.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(lo, (rows - i) as f64 - 0.5));
            root.draw(&Text::new(op.to_string(), (x - 8, y), style.clone()))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(text)
}

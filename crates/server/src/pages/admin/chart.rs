//! A line chart drawn on the server as SVG: no script, no other origin, and it prints. The
//! geometry is computed here; the template writes the elements and the stylesheet colours
//! them by class (the CSP allows no inline styles).

/// One line of the chart.
pub struct Series {
    pub name: &'static str,
    /// CSS class that colours it.
    pub class: &'static str,
    /// `x,y x,y …` for `<polyline points>`.
    pub points: String,
}

pub struct Tick {
    pub at: f64,
    pub label: String,
}

pub struct Chart {
    pub width: f64,
    pub height: f64,
    /// The plotting area's left, top, right and bottom edges.
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub series: Vec<Series>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
}

/// A "nice" maximum for the axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice(max: i64) -> i64 {
    let max = max.max(1);
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= max {
                return m * step;
            }
        }
        step *= 10;
    }
}

/// `labels[i]` names day `i`; each series has one value per day.
pub fn line_chart(labels: &[String], series: Vec<(&'static str, &'static str, Vec<i64>)>) -> Chart {
    let (width, height) = (720.0, 260.0);
    let (left, top, right, bottom) = (44.0, 12.0, width - 28.0, height - 28.0);
    let top_value = nice(series.iter().flat_map(|(_, _, v)| v.iter().copied()).max().unwrap_or(0));
    let n = labels.len().max(2) as f64;
    let x = |i: usize| left + (right - left) * i as f64 / (n - 1.0);
    let y = |v: i64| bottom - (bottom - top) * v as f64 / top_value as f64;
    let series = series
        .into_iter()
        .map(|(name, class, values)| Series {
            name,
            class,
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    let y_ticks = (0..=4).map(|k| Tick { at: y(top_value * k / 4), label: (top_value * k / 4).to_string() }).collect();
    let every = (labels.len() / 6).max(1);
    let x_ticks = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || *i + 1 == labels.len())
        .map(|(i, l)| Tick { at: x(i), label: l.clone() })
        .collect();
    Chart { width, height, left, top, right, bottom, series, y_ticks, x_ticks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers_and_lines_span_the_area() {
        assert_eq!([nice(0), nice(1), nice(3), nice(7), nice(11), nice(230)], [1, 1, 5, 10, 20, 500]);
        let labels: Vec<String> = (1..=3).map(|d| format!("{d} Dec")).collect();
        let c = line_chart(&labels, vec![("Requests", "requests", vec![0, 5, 10])]);
        assert_eq!(c.series[0].points, "44.0,232.0 368.0,122.0 692.0,12.0");
        assert_eq!(c.y_ticks.last().unwrap().label, "10");
        assert_eq!(c.x_ticks.len(), 3);
    }
}

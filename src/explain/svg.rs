//! Explain phase, drawing: the week of replica bounds of an [`Explanation`] as an SVG step chart.
//!
//! In: an [`Explanation`] (its pipeline, zone and [`Week`](super::Week)). Out: the bytes of one
//! SVG document — fixed size, fixed colours, numbers printed with one decimal — so the same
//! explanation always draws the same file. Nothing here writes it.

use std::fmt::Write as _;

use chrono::Duration;

use super::{Explanation, Segment, WEEK_MINUTES};
use crate::model::ScalingMode;

impl Explanation {
    /// The week's min/max replica bounds as an SVG step chart (deterministic bytes).
    pub fn to_svg(&self) -> String {
        const W: f64 = 960.0;
        const H: f64 = 460.0;
        const L: f64 = 70.0;
        const R: f64 = 920.0;
        const T: f64 = 90.0;
        const B: f64 = 380.0;
        let p = &self.pipeline;
        let segs = &self.week.segments;
        let ymax = segs.iter().map(|s| s.max).max().unwrap_or(1).max(1);
        let step =
            [1u32, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].into_iter().find(|s| ymax.div_ceil(*s) <= 10).unwrap_or(10_000);
        // One step of headroom above the cap, so the max line never runs along the frame.
        let top = ymax.div_ceil(step) * step + if ymax % step == 0 { step } else { 0 };
        let x = |m: u32| L + (R - L) * f64::from(m) / f64::from(WEEK_MINUTES);
        let y = |v: u32| B - (B - T) * f64::from(v) / f64::from(top);
        let mut s = String::new();
        let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#
        );
        let title = format!("{} ({}): TaskManager replica bounds per week", p.name, p.env);
        let _ = writeln!(s, "<title>{}</title>", esc(&title));
        let _ = writeln!(s, r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>"##);
        let _ = writeln!(s, r##"<text x="{L}" y="32" font-size="18" font-weight="bold" fill="#222222">{}</text>"##, esc(&title));
        let mode = if p.autoscaling.hpa_alias { "hpa (hpa_reactive)" } else { p.autoscaling.mode.as_str() };
        let sub = format!("mode {mode} · zone {} · week of Mon {} · local time", self.zone.name(), self.week.start);
        let _ = writeln!(s, r##"<text x="{L}" y="56" font-size="13" fill="#555555">{}</text>"##, esc(&sub));
        // Horizontal gridlines and y ticks.
        let mut v = 0;
        while v <= top {
            let yy = y(v);
            let _ = writeln!(s, r##"<line x1="{L}" y1="{yy:.1}" x2="{R}" y2="{yy:.1}" stroke="#e6e6e6" stroke-width="1"/>"##);
            let _ =
                writeln!(s, r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#444444">{v}</text>"##, L - 8.0, yy + 4.0);
            v += step;
        }
        // Six-hour lines, day lines and day labels.
        for h in (0..WEEK_MINUTES).step_by(360) {
            if h % 1440 != 0 {
                let xx = x(h);
                let _ = writeln!(s, r##"<line x1="{xx:.1}" y1="{T}" x2="{xx:.1}" y2="{B}" stroke="#f2f2f2" stroke-width="1"/>"##);
            }
        }
        for d in 0..=7u32 {
            let xx = x(d * 1440);
            let _ = writeln!(s, r##"<line x1="{xx:.1}" y1="{T}" x2="{xx:.1}" y2="{:.1}" stroke="#bbbbbb" stroke-width="1"/>"##, B + 6.0);
            if d < 7 {
                let cx = x(d * 1440 + 720);
                let date = self.week.start + Duration::days(i64::from(d));
                let name = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d as usize];
                let _ = writeln!(
                    s,
                    r##"<text x="{cx:.1}" y="{:.1}" font-size="13" text-anchor="middle" fill="#222222">{name}</text>"##,
                    B + 22.0
                );
                let _ = writeln!(
                    s,
                    r##"<text x="{cx:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#777777">{}</text>"##,
                    B + 38.0,
                    date.format("%Y-%m-%d")
                );
            }
        }
        let _ = writeln!(s, r##"<line x1="{L}" y1="{B}" x2="{R}" y2="{B}" stroke="#444444" stroke-width="1"/>"##);
        let _ = writeln!(s, r##"<line x1="{L}" y1="{T}" x2="{L}" y2="{B}" stroke="#444444" stroke-width="1"/>"##);
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#444444">local time ({})</text>"##,
            (L + R) / 2.0,
            H - 18.0,
            esc(self.zone.name())
        );
        let _ = writeln!(
            s,
            r##"<text x="18" y="{:.1}" font-size="12" text-anchor="middle" fill="#444444" transform="rotate(-90 18 {:.1})">TaskManagers</text>"##,
            (T + B) / 2.0,
            (T + B) / 2.0
        );
        // Step paths.
        let steps = |f: fn(&Segment) -> u32| -> String {
            let mut d = String::new();
            for (i, sg) in segs.iter().enumerate() {
                if i == 0 {
                    let _ = write!(d, "M{:.1} {:.1}", x(sg.start), y(f(sg)));
                } else {
                    let _ = write!(d, " V{:.1}", y(f(sg)));
                }
                let _ = write!(d, " H{:.1}", x(sg.end));
            }
            d
        };
        let max_path = steps(|s| s.max);
        let min_path = steps(|s| s.min);
        if !self.week.fixed {
            let mut band = max_path.clone();
            for (i, sg) in segs.iter().enumerate().rev() {
                if i + 1 == segs.len() {
                    let _ = write!(band, " V{:.1}", y(sg.min));
                } else {
                    let _ = write!(band, " H{:.1} V{:.1}", x(sg.end), y(sg.min));
                }
            }
            let _ = write!(band, " H{:.1} Z", x(segs.first().map_or(0, |s| s.start)));
            let _ = writeln!(s, r##"<path d="{band}" fill="#4c78a8" fill-opacity="0.18" stroke="none"/>"##);
            let _ = writeln!(s, r##"<path d="{max_path}" fill="none" stroke="#d62728" stroke-width="2.5" stroke-linejoin="miter"/>"##);
            let _ = writeln!(s, r##"<path d="{min_path}" fill="none" stroke="#1f77b4" stroke-width="2.5" stroke-linejoin="miter"/>"##);
        } else {
            let _ = writeln!(s, r##"<path d="{max_path}" fill="none" stroke="#2ca02c" stroke-width="2.5" stroke-linejoin="miter"/>"##);
        }
        // Legend.
        let items: Vec<(&str, String)> = if self.week.fixed {
            vec![(
                "#2ca02c",
                if p.autoscaling.mode == ScalingMode::Scheduled {
                    "replicas set by the CronJobs".into()
                } else {
                    "fixed TaskManager count".into()
                },
            )]
        } else {
            vec![("#d62728", "max (cap)".into()), ("#1f77b4", "min (floor)".into())]
        };
        // About 7 px per character at 12 px: each item is a 24 px line, a gap and its label.
        let width = |label: &str| 30.0 + 7.0 * label.chars().count() as f64 + 20.0;
        let mut lx = R - items.iter().map(|(_, l)| width(l)).sum::<f64>();
        for (color, label) in items {
            let _ = writeln!(s, r##"<line x1="{lx:.1}" y1="70" x2="{:.1}" y2="70" stroke="{color}" stroke-width="2.5"/>"##, lx + 24.0);
            let _ = writeln!(s, r##"<text x="{:.1}" y="74" font-size="12" fill="#222222">{}</text>"##, lx + 30.0, esc(&label));
            lx += width(&label);
        }
        s.push_str("</svg>\n");
        s
    }
}

/// Escapes text for XML character data and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}

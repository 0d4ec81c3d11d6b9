//! A map of planned activity drawn on the server as SVG: the positions projected onto
//! a coarse outline of Great Britain and Ireland with a graticule, each point numbered
//! as its row in the table beside it. No tiles, nothing from outside hosts.

/// The width of the drawing, in its own units.
pub(super) const WIDTH: f64 = 600.0;
const MARGIN: f64 = 0.5;

/// A point to draw.
pub(crate) struct Point {
    /// Its number, as in the table.
    pub(crate) label: String,
    /// What it is (said to screen readers in the description).
    pub(crate) name: String,
    pub(crate) latitude: f64,
    pub(crate) longitude: f64,
}

/// The part of the earth drawn: west, east, south, north, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Frame {
    pub(crate) west: f64,
    pub(crate) east: f64,
    pub(crate) south: f64,
    pub(crate) north: f64,
}

/// The British Isles, as drawn when every point is within them.
pub(super) const BRITISH_ISLES: Frame = Frame {
    west: -11.0,
    east: 2.5,
    south: 49.5,
    north: 59.5,
};

impl Frame {
    /// The frame widened to hold every point, with a margin around those outside.
    pub(crate) fn holding(self, points: &[(f64, f64)]) -> Self {
        let mut frame = self;
        for &(lat, lon) in points {
            frame.west = frame.west.min(lon - MARGIN);
            frame.east = frame.east.max(lon + MARGIN);
            frame.south = frame.south.min(lat - MARGIN);
            frame.north = frame.north.max(lat + MARGIN);
        }
        frame.south = frame.south.max(-89.0);
        frame.north = frame.north.min(89.0);
        frame.west = frame.west.max(-180.0);
        frame.east = frame.east.min(180.0);
        frame
    }

    /// How much narrower a degree of longitude is than one of latitude in the
    /// middle of the frame (an equirectangular projection true at that latitude).
    fn squash(self) -> f64 {
        ((self.south + self.north) / 2.0)
            .to_radians()
            .cos()
            .max(0.05)
    }

    /// The height of the drawing for [`WIDTH`], keeping the scale the same both ways.
    pub(crate) fn height(self) -> f64 {
        WIDTH * (self.north - self.south) / ((self.east - self.west) * self.squash())
    }

    /// Where (`latitude`, `longitude`) falls on the drawing: x from the west edge,
    /// y from the north edge (north is up).
    pub(crate) fn project(self, latitude: f64, longitude: f64) -> (f64, f64) {
        let x = (longitude - self.west) / (self.east - self.west) * WIDTH;
        let y = (self.north - latitude) / (self.north - self.south) * self.height();
        (x, y)
    }
}

/// A coarse outline of Great Britain and of Ireland (longitude, latitude), for
/// orientation only.
const GREAT_BRITAIN: &[(f64, f64)] = &[
    (-5.7, 50.07),
    (-5.2, 49.96),
    (-4.1, 50.35),
    (-3.5, 50.6),
    (-2.45, 50.52),
    (-0.8, 50.72),
    (0.25, 50.73),
    (1.38, 51.13),
    (1.45, 51.38),
    (0.9, 51.55),
    (1.3, 51.95),
    (1.75, 52.48),
    (1.3, 52.93),
    (0.3, 52.85),
    (0.35, 53.15),
    (0.12, 53.58),
    (-0.08, 54.12),
    (-0.6, 54.49),
    (-1.2, 54.7),
    (-1.42, 55.02),
    (-2.0, 55.77),
    (-2.5, 56.0),
    (-2.58, 56.28),
    (-2.07, 57.15),
    (-1.78, 57.5),
    (-2.0, 57.69),
    (-4.0, 57.6),
    (-3.08, 58.44),
    (-3.03, 58.64),
    (-3.37, 58.67),
    (-5.0, 58.62),
    (-5.16, 57.9),
    (-5.7, 57.28),
    (-5.83, 57.0),
    (-6.22, 56.73),
    (-5.47, 56.41),
    (-5.8, 55.3),
    (-4.63, 55.46),
    (-4.86, 54.64),
    (-3.6, 54.95),
    (-3.64, 54.49),
    (-2.9, 54.07),
    (-3.05, 53.4),
    (-3.85, 53.33),
    (-4.63, 53.31),
    (-4.78, 52.78),
    (-4.08, 52.41),
    (-5.3, 51.88),
    (-4.95, 51.6),
    (-4.3, 51.57),
    (-3.17, 51.45),
    (-2.7, 51.6),
    (-3.0, 51.35),
    (-3.47, 51.2),
    (-4.53, 51.02),
    (-5.03, 50.55),
];

const IRELAND: &[(f64, f64)] = &[
    (-7.37, 55.38),
    (-6.15, 55.22),
    (-5.65, 54.65),
    (-5.45, 54.4),
    (-6.05, 54.0),
    (-6.08, 53.35),
    (-6.0, 52.98),
    (-6.36, 52.17),
    (-7.0, 52.13),
    (-8.25, 51.8),
    (-9.82, 51.45),
    (-10.45, 52.15),
    (-9.93, 52.56),
    (-9.1, 53.22),
    (-10.24, 53.4),
    (-10.2, 53.95),
    (-10.05, 54.3),
    (-8.6, 54.3),
    (-8.8, 54.65),
    (-8.28, 55.15),
];

/// One line of the graticule with its label.
pub(crate) struct GridLine {
    pub(crate) x1: String,
    pub(crate) y1: String,
    pub(crate) x2: String,
    pub(crate) y2: String,
    pub(crate) label: String,
    pub(crate) label_x: String,
    pub(crate) label_y: String,
}

/// A point as drawn.
pub(crate) struct Mark {
    pub(crate) label: String,
    pub(crate) name: String,
    pub(crate) x: String,
    pub(crate) y: String,
    pub(crate) label_x: String,
    pub(crate) label_y: String,
}

/// The drawing, ready for the template.
pub(crate) struct Map {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) width: String,
    pub(crate) height: String,
    pub(crate) outlines: Vec<String>,
    pub(crate) grid: Vec<GridLine>,
    pub(crate) marks: Vec<Mark>,
}

fn n(value: f64) -> String {
    format!("{value:.1}")
}

fn degrees(value: f64, positive: char, negative: char) -> String {
    if value == 0.0 {
        return "0°".to_owned();
    }
    let hemisphere = if value < 0.0 { negative } else { positive };
    format!("{}°{hemisphere}", value.abs())
}

impl Map {
    /// The map of `points` under `title`.
    pub(crate) fn of(title: &str, points: &[Point]) -> Self {
        let at: Vec<(f64, f64)> = points.iter().map(|p| (p.latitude, p.longitude)).collect();
        let frame = BRITISH_ISLES.holding(&at);
        let height = frame.height();
        let outline = |coast: &[(f64, f64)]| {
            coast
                .iter()
                .map(|&(lon, lat)| {
                    let (x, y) = frame.project(lat, lon);
                    format!("{},{}", n(x), n(y))
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let step = grid_step(frame.east - frame.west);
        let mut grid = vec![];
        let mut lon = (frame.west / step).ceil() * step;
        while lon <= frame.east {
            let (x, _) = frame.project(frame.north, lon);
            grid.push(GridLine {
                x1: n(x),
                y1: n(0.0),
                x2: n(x),
                y2: n(height),
                label: degrees(lon, 'E', 'W'),
                label_x: n(x + 3.0),
                label_y: n(height - 4.0),
            });
            lon += step;
        }
        let step = grid_step(frame.north - frame.south);
        let mut lat = (frame.south / step).ceil() * step;
        while lat <= frame.north {
            let (_, y) = frame.project(lat, frame.west);
            grid.push(GridLine {
                x1: n(0.0),
                y1: n(y),
                x2: n(WIDTH),
                y2: n(y),
                label: degrees(lat, 'N', 'S'),
                label_x: n(3.0),
                label_y: n(y - 3.0),
            });
            lat += step;
        }
        let marks = points
            .iter()
            .map(|p| {
                let (x, y) = frame.project(p.latitude, p.longitude);
                Mark {
                    label: p.label.clone(),
                    name: p.name.clone(),
                    x: n(x),
                    y: n(y),
                    label_x: n(x + 7.0),
                    label_y: n(y - 7.0),
                }
            })
            .collect();
        let description = if points.is_empty() {
            "No planned activity to show.".to_owned()
        } else {
            let list: Vec<String> = points
                .iter()
                .map(|p| {
                    format!(
                        "{}: {} at {:.4}, {:.4}",
                        p.label, p.name, p.latitude, p.longitude
                    )
                })
                .collect();
            format!(
                "{} numbered point{} on an outline of Great Britain and Ireland. {}.",
                points.len(),
                if points.len() == 1 { "" } else { "s" },
                list.join("; ")
            )
        };
        Self {
            title: title.to_owned(),
            description,
            width: n(WIDTH),
            height: n(height),
            outlines: vec![outline(GREAT_BRITAIN), outline(IRELAND)],
            grid,
            marks,
        }
    }
}

/// A graticule step in degrees for a span: about four to eight lines.
fn grid_step(span: f64) -> f64 {
    [1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0]
        .into_iter()
        .find(|step| span / step <= 8.0)
        .unwrap_or(90.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    /// The frame's corners are the drawing's corners, and north is up.
    #[test]
    fn corners_project_to_the_corners_of_the_drawing() {
        let f = BRITISH_ISLES;
        let (x, y) = f.project(f.north, f.west);
        assert!(close(x, 0.0) && close(y, 0.0));
        let (x, y) = f.project(f.south, f.east);
        assert!(close(x, WIDTH) && close(y, f.height()));
        let (_, north) = f.project(58.0, -3.0);
        let (_, south) = f.project(51.0, -3.0);
        assert!(north < south, "further north is higher on the drawing");
        let (west, _) = f.project(53.0, -6.0);
        let (east, _) = f.project(53.0, 0.0);
        assert!(west < east, "further east is further right");
    }

    /// A degree of latitude and one of longitude at the middle latitude are drawn
    /// in proportion (an equirectangular projection true at the frame's middle).
    #[test]
    fn the_scale_is_true_at_the_middle_latitude() {
        let f = BRITISH_ISLES;
        let mid = (f.north + f.south) / 2.0;
        let (x0, y0) = f.project(mid, -3.0);
        let (x1, _) = f.project(mid, -2.0);
        let (_, y1) = f.project(mid - 1.0, -3.0);
        let lon_degree = x1 - x0;
        let lat_degree = y1 - y0;
        assert!(close(lon_degree / lat_degree, mid.to_radians().cos()));
    }

    /// Birmingham falls in England on the drawing: south of Manchester, east of
    /// Cardiff, well inside the frame.
    #[test]
    fn known_places_fall_where_they_should() {
        let f = BRITISH_ISLES;
        let birmingham = f.project(52.4862, -1.8904);
        let manchester = f.project(53.4808, -2.2426);
        let cardiff = f.project(51.4816, -3.1791);
        assert!(birmingham.1 > manchester.1);
        assert!(birmingham.0 > cardiff.0);
        assert!(birmingham.0 > 0.0 && birmingham.0 < WIDTH);
        assert!(birmingham.1 > 0.0 && birmingham.1 < f.height());
    }

    /// A point outside the British Isles widens the frame to hold it, with a margin.
    #[test]
    fn the_frame_widens_to_hold_points_outside_it() {
        assert_eq!(BRITISH_ISLES.holding(&[(52.0, -1.0)]), BRITISH_ISLES);
        let gibraltar = BRITISH_ISLES.holding(&[(36.14, -5.35)]);
        assert!(gibraltar.south < 36.14);
        assert_eq!(gibraltar.north, BRITISH_ISLES.north);
        let (x, y) = gibraltar.project(36.14, -5.35);
        assert!(x > 0.0 && x < WIDTH && y > 0.0 && y < gibraltar.height());
    }

    /// The drawing numbers its points, describes them for screen readers and has a
    /// labelled graticule.
    #[test]
    fn the_map_numbers_and_describes_its_points() {
        let map = Map::of(
            "Planned activity",
            &[Point {
                label: "1".into(),
                name: "DCN-2026-000001 Warrant".into(),
                latitude: 52.4862,
                longitude: -1.8904,
            }],
        );
        assert_eq!(map.marks.len(), 1);
        assert_eq!(map.marks[0].label, "1");
        assert!(map.description.contains("DCN-2026-000001 Warrant"));
        assert!(map.grid.iter().any(|g| g.label == "2°W"));
        assert!(map.grid.iter().any(|g| g.label == "54°N"));
        assert_eq!(map.outlines.len(), 2);
        let empty = Map::of("Nothing", &[]);
        assert!(empty.marks.is_empty());
        assert!(empty.description.contains("No planned activity"));
    }
}

//! The spatial–temporal index of planned activity: which stored activities come within
//! a distance of a place during a time window.
//!
//! Each activity is a disc on the WGS84 ellipsoid (its position and a reach: how far
//! from that position it may really be) over a time interval. A query asks for every
//! activity whose disc comes within `radius` metres of a point while its interval
//! overlaps the query's. Places are held as points on a sphere in three dimensions
//! (x, y, z in metres) with time as a fourth, in an R-tree (`rstar`): a box around a
//! point in 3-D has no seam at the antimeridian and no singularity at the poles, so
//! activity either side of longitude 180° or near a pole is found like any other.
//! The box only narrows the search; each candidate's distance is then measured along
//! the ellipsoid (Karney's geodesic, `geographiclib-rs`) and kept only if it is within
//! reach.

use geographiclib_rs::{Geodesic, InverseGeodesic};
use hashbrown::HashMap;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// The mean radius of the Earth (IUGG), for placing points in the tree.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// How much wider than the asked distance the search box is: a chord on the sphere is
/// never longer than the arc, but the sphere and the ellipsoid differ by up to about
/// 0.6%, so the box is widened by 1% and a metre, then every candidate measured.
const BOX_SLACK: f64 = 1.01;

/// A point given as WGS84 latitude and longitude in degrees. The caller checks the
/// ranges (latitude −90 to 90, longitude −180 to 180).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    /// Degrees north (negative south).
    pub lat: f64,
    /// Degrees east (negative west).
    pub lon: f64,
}

impl LatLon {
    /// The point in the tree's three spatial dimensions.
    fn xyz(self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [
            EARTH_RADIUS_M * lat.cos() * lon.cos(),
            EARTH_RADIUS_M * lat.cos() * lon.sin(),
            EARTH_RADIUS_M * lat.sin(),
        ]
    }
}

/// The distance in metres between two points along the WGS84 ellipsoid.
pub fn geodesic_distance_m(a: LatLon, b: LatLon) -> f64 {
    let s12: f64 = Geodesic::wgs84().inverse(a.lat, a.lon, b.lat, b.lon);
    s12
}

/// A stored activity: where, how far it may reach, and when (microseconds since the
/// Unix epoch, start inclusive, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Activity {
    /// Where.
    pub at: LatLon,
    /// How far from `at` it may really be, in metres (the position's accuracy).
    pub reach_m: f64,
    /// When it starts.
    pub starts: i64,
    /// When it ends.
    pub ends: i64,
}

/// One activity found by a query, with the distance between the centres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearby {
    /// The caller's identifier for it.
    pub id: u64,
    /// The distance between the query point and the activity's position, in metres.
    pub distance_m: f64,
}

type Entry = GeomWithData<Rectangle<[f64; 4]>, u64>;

/// The index: activities by identifier, and the R-tree over their boxes.
#[derive(Default)]
pub struct EventIndex {
    tree: RTree<Entry>,
    activities: HashMap<u64, (Activity, Entry)>,
}

impl std::fmt::Debug for EventIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventIndex")
            .field("activities", &self.activities.len())
            .finish()
    }
}

/// Seconds as the tree's fourth coordinate (exact for any date people plan for).
fn seconds(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

fn entry(id: u64, activity: &Activity) -> Entry {
    let [x, y, z] = activity.at.xyz();
    let half = activity.reach_m.max(0.0) * BOX_SLACK + 1.0;
    let corner = |sign: f64, t: i64| {
        [
            x + sign * half,
            y + sign * half,
            z + sign * half,
            seconds(t),
        ]
    };
    GeomWithData::new(
        Rectangle::from_corners(corner(-1.0, activity.starts), corner(1.0, activity.ends)),
        id,
    )
}

impl EventIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An index of `activities`, built in one pass (faster than inserting one by one).
    pub fn bulk(activities: impl IntoIterator<Item = (u64, Activity)>) -> Self {
        let mut by_id = HashMap::new();
        for (id, activity) in activities {
            let e = entry(id, &activity);
            by_id.insert(id, (activity, e));
        }
        let tree = RTree::bulk_load(by_id.values().map(|(_, e)| *e).collect());
        Self {
            tree,
            activities: by_id,
        }
    }

    /// How many activities it holds.
    pub fn len(&self) -> usize {
        self.activities.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.activities.is_empty()
    }

    /// Adds activity `id`, replacing what was held under that identifier.
    pub fn insert(&mut self, id: u64, activity: Activity) {
        self.remove(id);
        let e = entry(id, &activity);
        self.tree.insert(e);
        self.activities.insert(id, (activity, e));
    }

    /// Removes activity `id`; returns whether it was held.
    pub fn remove(&mut self, id: u64) -> bool {
        match self.activities.remove(&id) {
            Some((_, e)) => {
                self.tree.remove(&e);
                true
            }
            None => false,
        }
    }

    /// The activity held under `id`.
    pub fn get(&self, id: u64) -> Option<&Activity> {
        self.activities.get(&id).map(|(a, _)| a)
    }

    /// Every activity, other than those `exclude` names, whose disc comes within
    /// `radius_m` metres of `at` (its centre no further than `radius_m` plus its
    /// reach) while its interval overlaps `from..until`. Nearest first.
    pub fn within(
        &self,
        at: LatLon,
        radius_m: f64,
        from: i64,
        until: i64,
        exclude: impl Fn(u64) -> bool,
    ) -> Vec<Nearby> {
        if until <= from {
            return vec![];
        }
        // Each stored box is already widened by its own reach, so the query box needs
        // only the radius.
        let [x, y, z] = at.xyz();
        let half = radius_m.max(0.0) * BOX_SLACK + 1.0;
        // Intervals are half-open: one ending as another starts does not overlap.
        let (t0, t1) = (seconds(from), seconds(until));
        let query = AABB::from_corners(
            [x - half, y - half, z - half, t0],
            [x + half, y + half, z + half, t1],
        );
        let mut found: Vec<Nearby> = self
            .tree
            .locate_in_envelope_intersecting(query)
            .filter(|e| !exclude(e.data))
            .filter_map(|e| {
                let (activity, _) = self.activities.get(&e.data)?;
                if activity.starts >= until || from >= activity.ends {
                    return None;
                }
                let distance_m = geodesic_distance_m(at, activity.at);
                (distance_m <= radius_m.max(0.0) + activity.reach_m.max(0.0)).then_some(Nearby {
                    id: e.data,
                    distance_m,
                })
            })
            .collect();
        found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.id.cmp(&b.id)));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    fn at(lat: f64, lon: f64, reach_m: f64, starts: i64, ends: i64) -> Activity {
        Activity {
            at: LatLon { lat, lon },
            reach_m,
            starts,
            ends,
        }
    }

    fn ids(found: &[Nearby]) -> Vec<u64> {
        found.iter().map(|n| n.id).collect()
    }

    /// Birmingham city centre: two warrants 150 m apart, and one 5 km away.
    #[test]
    fn finds_activity_within_the_distance_and_not_beyond() {
        let mut index = EventIndex::new();
        index.insert(1, at(52.4796, -1.9026, 0.0, 0, 2 * HOUR));
        index.insert(2, at(52.4862, -1.8904 + 0.07, 0.0, 0, 2 * HOUR));
        let here = LatLon {
            lat: 52.4796 + 0.00135,
            lon: -1.9026,
        };
        let found = index.within(here, 500.0, HOUR, 3 * HOUR, |_| false);
        assert_eq!(ids(&found), vec![1]);
        assert!((found[0].distance_m - 150.0).abs() < 2.0, "{found:?}");
        assert!(
            index
                .within(here, 100.0, HOUR, 3 * HOUR, |_| false)
                .is_empty()
        );
    }

    #[test]
    fn reach_widens_what_counts_as_near() {
        let mut index = EventIndex::new();
        index.insert(1, at(51.5074, -0.1278, 400.0, 0, HOUR));
        let here = LatLon {
            lat: 51.5074 + 0.0072,
            lon: -0.1278,
        };
        // About 800 m apart: within 500 m only thanks to the 400 m reach.
        assert_eq!(ids(&index.within(here, 500.0, 0, HOUR, |_| false)), vec![1]);
        index.insert(1, at(51.5074, -0.1278, 0.0, 0, HOUR));
        assert!(index.within(here, 500.0, 0, HOUR, |_| false).is_empty());
    }

    #[test]
    fn intervals_must_overlap_and_touching_ones_do_not() {
        let mut index = EventIndex::new();
        index.insert(1, at(53.4808, -2.2426, 0.0, 10 * HOUR, 12 * HOUR));
        let here = LatLon {
            lat: 53.4808,
            lon: -2.2426,
        };
        assert!(
            index
                .within(here, 100.0, 8 * HOUR, 10 * HOUR, |_| false)
                .is_empty()
        );
        assert!(
            index
                .within(here, 100.0, 12 * HOUR, 13 * HOUR, |_| false)
                .is_empty()
        );
        assert_eq!(
            ids(&index.within(here, 100.0, 11 * HOUR, 13 * HOUR, |_| false)),
            vec![1]
        );
        assert!(
            index
                .within(here, 100.0, 5 * HOUR, 5 * HOUR, |_| false)
                .is_empty()
        );
    }

    #[test]
    fn the_antimeridian_and_the_poles_are_places_like_any_other() {
        let mut index = EventIndex::new();
        index.insert(1, at(-16.5, 179.9995, 0.0, 0, HOUR));
        index.insert(2, at(89.9995, 10.0, 0.0, 0, HOUR));
        let across = LatLon {
            lat: -16.5,
            lon: -179.9995,
        };
        let found = index.within(across, 500.0, 0, HOUR, |_| false);
        assert_eq!(ids(&found), vec![1]);
        assert!(found[0].distance_m < 120.0, "{found:?}");
        let other_side_of_the_pole = LatLon {
            lat: 89.9995,
            lon: -170.0,
        };
        assert_eq!(
            ids(&index.within(other_side_of_the_pole, 500.0, 0, HOUR, |_| false)),
            vec![2]
        );
    }

    #[test]
    fn removed_and_excluded_activity_is_not_found() {
        let mut index = EventIndex::bulk([
            (1, at(50.0, 0.0, 0.0, 0, HOUR)),
            (2, at(50.0, 0.0005, 0.0, 0, HOUR)),
        ]);
        let here = LatLon {
            lat: 50.0,
            lon: 0.0,
        };
        assert_eq!(
            ids(&index.within(here, 100.0, 0, HOUR, |_| false)),
            vec![1, 2]
        );
        assert_eq!(
            ids(&index.within(here, 100.0, 0, HOUR, |id| id == 1)),
            vec![2]
        );
        assert!(index.remove(1));
        assert!(!index.remove(1));
        assert_eq!(ids(&index.within(here, 100.0, 0, HOUR, |_| false)), vec![2]);
        assert_eq!(index.len(), 1);
    }
}

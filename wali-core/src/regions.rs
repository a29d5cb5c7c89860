//! A set of disjoint half-open address ranges, used to track which parts of
//! linear memory the mmap emulation owns and which of those are free.

use std::collections::BTreeMap;

#[derive(Default, Debug, Clone)]
pub struct RegionSet {
    /// start -> end, disjoint and never adjacent (adjacent ranges merge).
    ranges: BTreeMap<u64, u64>,
}

impl RegionSet {
    /// Adds `[start, end)`, merging with neighbours.
    pub fn insert(&mut self, mut start: u64, mut end: u64) {
        if start >= end {
            return;
        }
        let overlapping: Vec<(u64, u64)> =
            self.ranges.range(..=end).rev().take_while(|&(_, &e)| e >= start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in overlapping {
            self.ranges.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
    }

    /// Removes `[start, end)`, splitting ranges as needed.
    pub fn remove(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let overlapping: Vec<(u64, u64)> =
            self.ranges.range(..end).rev().take_while(|&(_, &e)| e > start).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in overlapping {
            self.ranges.remove(&s);
            if s < start {
                self.ranges.insert(s, start);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
        }
    }

    /// Whether `[start, end)` lies entirely inside one range.
    pub fn contains(&self, start: u64, end: u64) -> bool {
        self.ranges.range(..=start).next_back().is_some_and(|(_, &e)| e >= end)
    }

    /// The parts of `[start, end)` that are in the set.
    pub fn intersect(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        self.ranges.range(..end).filter(|&(_, &e)| e > start).map(|(&s, &e)| (s.max(start), e.min(end))).collect()
    }

    /// The lowest range start that can hold `len` bytes (first fit).
    pub fn find_fit(&self, len: u64) -> Option<u64> {
        self.ranges.iter().find(|&(&s, &e)| e - s >= len).map(|(&s, _)| s)
    }

    /// The range ending exactly at `end`, if any.
    pub fn ending_at(&self, end: u64) -> Option<(u64, u64)> {
        self.ranges.range(..end).next_back().filter(|&(_, &e)| e == end).map(|(&s, &e)| (s, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(r: &RegionSet) -> Vec<(u64, u64)> {
        r.ranges.iter().map(|(&s, &e)| (s, e)).collect()
    }

    #[test]
    fn insert_merges_and_remove_splits() {
        let mut r = RegionSet::default();
        r.insert(10, 20);
        r.insert(30, 40);
        r.insert(20, 30);
        assert_eq!(all(&r), vec![(10, 40)]);
        r.remove(15, 25);
        assert_eq!(all(&r), vec![(10, 15), (25, 40)]);
        r.insert(12, 27);
        assert_eq!(all(&r), vec![(10, 40)]);
        r.remove(0, 100);
        assert_eq!(all(&r), vec![]);
    }

    #[test]
    fn fit_contains_intersect() {
        let mut r = RegionSet::default();
        r.insert(0, 4);
        r.insert(8, 20);
        assert_eq!(r.find_fit(5), Some(8));
        assert_eq!(r.find_fit(13), None);
        assert!(r.contains(9, 20));
        assert!(!r.contains(3, 9));
        assert_eq!(r.intersect(2, 10), vec![(2, 4), (8, 10)]);
        assert_eq!(r.ending_at(20), Some((8, 20)));
        assert_eq!(r.ending_at(19), None);
    }
}

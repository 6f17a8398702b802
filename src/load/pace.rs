//! Pacing, as pure arithmetic: when the k-th request of an open-model load is due (the rate
//! moving in straight lines between stages), and which transaction a user sends next so that
//! the weights hold exactly over every cycle (smooth weighted round-robin). No clocks, no I/O.

/// When the requests of an open-model load are due.
#[derive(Debug, Clone)]
pub struct Schedule {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
struct Segment {
    start_s: f64,
    duration_s: f64,
    from: f64,
    to: f64,
    /// Requests due before the segment starts.
    before: f64,
}

impl Segment {
    fn requests(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.duration_s
    }

    /// Seconds into the segment at which `n` of its requests have fallen due: the root of
    /// from·t + (to − from)·t²/(2·duration) = n.
    fn time_of(&self, n: f64) -> f64 {
        let a = (self.to - self.from) / (2.0 * self.duration_s);
        if a.abs() < 1e-12 {
            return n / self.from;
        }
        let discriminant = (self.from * self.from + 4.0 * a * n).max(0.0);
        (-self.from + discriminant.sqrt()) / (2.0 * a)
    }
}

impl Schedule {
    /// From stages of (seconds, rate at their end); the first stage's rate is where it starts.
    pub fn new(stages: &[(u64, f64)]) -> Self {
        let mut segments = Vec::new();
        let (mut start_s, mut before) = (0.0, 0.0);
        let mut from = stages.first().map_or(0.0, |(_, rate)| *rate);
        for (duration, to) in stages.iter().skip(1) {
            let segment = Segment { start_s, duration_s: *duration as f64, from, to: *to, before };
            before += segment.requests();
            start_s += segment.duration_s;
            from = *to;
            segments.push(segment);
        }
        Schedule { segments }
    }

    /// Requests due over the whole schedule.
    pub fn total(&self) -> u64 {
        self.segments.last().map_or(0, |s| (s.before + s.requests()).floor() as u64)
    }

    /// Requests due in the first `seconds` (all of them past the end): what a load stopped
    /// early was scheduled to send.
    pub fn due_by(&self, seconds: f64) -> u64 {
        let Some(segment) = self.segments.iter().find(|s| seconds < s.start_s + s.duration_s) else {
            return self.total();
        };
        let t = (seconds - segment.start_s).max(0.0);
        let slope = (segment.to - segment.from) / segment.duration_s;
        (segment.before + segment.from * t + slope * t * t / 2.0).floor() as u64
    }

    /// Seconds from the start at which request `k` (from 0) is due; none past the end.
    pub fn due(&self, k: u64) -> Option<f64> {
        let k = k as f64;
        let segment = self.segments.iter().find(|s| k < s.before + s.requests())?;
        Some(segment.start_s + segment.time_of(k - segment.before))
    }
}

/// Picks transactions by weight: over every `sum(weights)` picks each is chosen exactly its
/// weight's times, spread out rather than in runs.
#[derive(Debug, Clone)]
pub struct Picker {
    weights: Vec<i64>,
    current: Vec<i64>,
    total: i64,
}

impl Picker {
    pub fn new(weights: &[usize]) -> Self {
        let weights: Vec<i64> = weights.iter().map(|w| *w as i64).collect();
        let total = weights.iter().sum();
        Picker { current: vec![0; weights.len()], weights, total }
    }

    /// The next transaction's index.
    pub fn next_index(&mut self) -> usize {
        let mut best = 0;
        for (i, w) in self.weights.iter().enumerate() {
            self.current[i] += w;
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        self.current[best] -= self.total;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_rate_is_evenly_spaced() {
        let s = Schedule::new(&[(0, 100.0), (2, 100.0)]);
        assert_eq!(s.total(), 200);
        let cases = [(0, Some(0.0)), (1, Some(0.01)), (150, Some(1.5)), (199, Some(1.99)), (200, None)];
        for (k, due) in cases {
            let got = s.due(k);
            assert!(
                got.zip(due).is_none_or(|(g, d)| (g - d).abs() < 1e-9) && got.is_some() == due.is_some(),
                "{k}: {got:?}"
            );
        }
    }

    #[test]
    fn a_ramp_starts_slow_and_speeds_up() {
        // 0 → 100/s over 10 s: 500 requests, the k-th due at sqrt(k/5) seconds.
        let s = Schedule::new(&[(0, 0.0), (10, 100.0), (5, 100.0)]);
        assert_eq!(s.total(), 1000);
        for (k, due) in [(5, 1.0), (125, 5.0), (499, (499.0f64 / 5.0).sqrt()), (500, 10.0), (750, 12.5)] {
            let got = s.due(k).expect("due");
            assert!((got - due).abs() < 1e-6, "{k}: {got} vs {due}");
        }
        let down = Schedule::new(&[(0, 100.0), (10, 0.0)]);
        assert_eq!(down.total(), 500);
        let times: Vec<f64> = (0..500).filter_map(|k| down.due(k)).collect();
        assert!(times.windows(2).all(|w| w[1] > w[0]) && times.last().is_some_and(|t| *t <= 10.0), "in order");
    }

    #[test]
    fn the_requests_due_by_a_moment_are_those_the_schedule_put_before_it() {
        let ramp = Schedule::new(&[(0, 0.0), (10, 100.0), (5, 100.0)]);
        let flat = Schedule::new(&[(0, 100.0), (600, 100.0)]);
        let cases = [
            (&ramp, 0.0, 0),
            (&ramp, 1.0, 5),
            (&ramp, 10.0, 500),
            (&ramp, 12.5, 750),
            (&ramp, 15.0, 1000),
            (&ramp, 99.0, 1000),
            (&flat, 41.5, 4150),
        ];
        for (schedule, seconds, due) in cases {
            assert_eq!(schedule.due_by(seconds), due, "{seconds} s");
        }
    }

    #[test]
    fn weights_hold_exactly_over_each_cycle() {
        let weights = [1, 3, 0, 9];
        let mut picker = Picker::new(&weights);
        let mut counts = [0; 4];
        for _ in 0..13 * 7 {
            counts[picker.next_index()] += 1;
        }
        assert_eq!(counts, [7, 21, 0, 63]);
        let mut runs = Picker::new(&[1, 1]);
        let picks: Vec<usize> = (0..4).map(|_| runs.next_index()).collect();
        assert_eq!(picks, vec![0, 1, 0, 1], "spread out, not in runs");
    }
}

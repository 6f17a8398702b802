//! Prometheus remote write 1.0: a `WriteRequest` of the load's series (requests and unexpected
//! answers as counters; the latency as classic `_bucket`/`_sum`/`_count` series and, where asked,
//! a native histogram), protobuf, snappy-compressed in the block format.
//!
//! It encodes only; `stream` sends.

use std::time::UNIX_EPOCH;

use super::{Snapshot, BOUNDS_S, NATIVE_SCHEMA};

#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// A native histogram sample (integer counts).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    #[prost(uint64, tag = "1")]
    pub count_int: u64,
    #[prost(double, tag = "3")]
    pub sum: f64,
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    #[prost(uint64, tag = "6")]
    pub zero_count_int: u64,
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BucketSpan {
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

/// The metric names, as Prometheus spells them.
pub const REQUESTS: &str = "dcr_harness_load_requests_total";
pub const UNEXPECTED: &str = "dcr_harness_load_unexpected_total";
pub const LATENCY: &str = "dcr_harness_load_request_duration_seconds";

/// The snapshot as a snappy-compressed `WriteRequest`.
pub fn write_request(snapshot: &Snapshot, native: bool) -> Vec<u8> {
    let message = write_request_message(snapshot, native);
    let encoded = prost::Message::encode_to_vec(&message);
    snap::raw::Encoder::new().compress_vec(&encoded).unwrap_or_default()
}

/// The snapshot's series.
pub fn write_request_message(snapshot: &Snapshot, native: bool) -> WriteRequest {
    let at = snapshot.at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let series = |name: &str, extra: Option<(&str, String)>, value: f64| {
        let mut labels = vec![
            Label { name: "__name__".into(), value: name.into() },
            Label { name: "job".into(), value: "dcr-harness".into() },
            Label { name: "profile".into(), value: snapshot.profile.clone() },
        ];
        if let Some((name, value)) = extra {
            labels.push(Label { name: name.into(), value });
        }
        // Remote write wants labels sorted by name.
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        TimeSeries { labels, samples: vec![Sample { value, timestamp: at }], histograms: vec![] }
    };
    let latency = &snapshot.latency;
    let mut timeseries = vec![
        series(REQUESTS, None, snapshot.requests as f64),
        series(UNEXPECTED, None, snapshot.unexpected as f64),
        series(&format!("{LATENCY}_sum"), None, latency.sum_s),
        series(&format!("{LATENCY}_count"), None, latency.count as f64),
    ];
    let mut below = 0;
    for (i, count) in latency.buckets.iter().enumerate() {
        below += count;
        let le = BOUNDS_S.get(i).map_or_else(|| "+Inf".to_string(), |b| b.to_string());
        timeseries.push(series(&format!("{LATENCY}_bucket"), Some(("le", le)), below as f64));
    }
    if native {
        let mut histogram = series(LATENCY, None, 0.0);
        histogram.samples.clear();
        histogram.histograms.push(native_histogram(snapshot, at));
        timeseries.push(histogram);
    }
    WriteRequest { timeseries }
}

/// The native histogram: spans of consecutive buckets, each count as the difference from the
/// bucket before (across spans too).
fn native_histogram(snapshot: &Snapshot, at: i64) -> Histogram {
    let latency = &snapshot.latency;
    let (mut spans, mut deltas): (Vec<BucketSpan>, Vec<i64>) = (Vec::new(), Vec::new());
    let (mut previous_index, mut previous_count) = (None::<i32>, 0i64);
    for (index, count) in &latency.native {
        let count = i64::try_from(*count).unwrap_or(i64::MAX);
        match previous_index {
            Some(p) if *index == p + 1 => {
                if let Some(span) = spans.last_mut() {
                    span.length += 1;
                }
            }
            Some(p) => spans.push(BucketSpan { offset: index - p - 1, length: 1 }),
            None => spans.push(BucketSpan { offset: *index, length: 1 }),
        }
        deltas.push(count - previous_count);
        (previous_index, previous_count) = (Some(*index), count);
    }
    Histogram {
        count_int: latency.count,
        sum: latency.sum_s,
        schema: NATIVE_SCHEMA,
        zero_threshold: 0.0,
        zero_count_int: 0,
        positive_spans: spans,
        positive_deltas: deltas,
        timestamp: at,
    }
}

#[cfg(test)]
mod tests {
    use super::super::Cumulative;
    use super::*;

    fn snapshot() -> Snapshot {
        let mut latency = Cumulative::default();
        for (us, count) in [(1_000, 3), (1_100, 1), (4_000, 2)] {
            latency.add(us, count);
        }
        Snapshot {
            started: UNIX_EPOCH,
            at: UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000),
            profile: "smoke".into(),
            requests: 6,
            unexpected: 1,
            latency,
        }
    }

    #[test]
    fn the_classic_buckets_are_cumulative_and_end_at_the_count() {
        let message = write_request_message(&snapshot(), false);
        let bucket = |le: &str| {
            let series = message.timeseries.iter().find(|t| {
                t.labels.iter().any(|l| l.value == format!("{LATENCY}_bucket"))
                    && t.labels.iter().any(|l| l.name == "le" && l.value == le)
            });
            series.map(|t| t.samples[0].value)
        };
        assert_eq!(bucket("0.001"), Some(3.0));
        assert_eq!(bucket("0.0025"), Some(4.0));
        assert_eq!(bucket("0.005"), Some(6.0));
        assert_eq!(bucket("+Inf"), Some(6.0));
        assert!(message.timeseries.iter().all(|t| t.histograms.is_empty()), "no native histogram unless asked");
        assert!(message.timeseries.iter().all(|t| t.labels.windows(2).all(|w| w[0].name <= w[1].name)));
    }

    #[test]
    fn the_native_histogram_spans_and_deltas_give_back_each_buckets_count() {
        let message = write_request_message(&snapshot(), true);
        let histogram = message.timeseries.iter().flat_map(|t| &t.histograms).next().expect("a native histogram");
        assert_eq!(histogram.count_int, 6);
        let mut counts = Vec::new();
        let (mut index, mut count, mut deltas) = (0i32, 0i64, histogram.positive_deltas.iter());
        for (i, span) in histogram.positive_spans.iter().enumerate() {
            index += span.offset + if i == 0 { 0 } else { 1 };
            for j in 0..span.length {
                count += deltas.next().copied().unwrap_or_default();
                counts.push((index + j as i32, count));
            }
            index += span.length as i32 - 1;
        }
        let expected: Vec<(i32, i64)> = snapshot().latency.native.iter().map(|(i, c)| (*i, *c as i64)).collect();
        assert_eq!(counts, expected);
        let compressed = write_request(&snapshot(), true);
        let plain = snap::raw::Decoder::new().decompress_vec(&compressed).expect("snappy block format");
        assert_eq!(<WriteRequest as prost::Message>::decode(plain.as_slice()).expect("protobuf"), message);
    }
}

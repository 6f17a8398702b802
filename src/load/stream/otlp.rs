//! OpenTelemetry metrics over OTLP/HTTP: an `ExportMetricsServiceRequest` (protobuf) with the
//! load's requests and unexpected answers as cumulative monotonic sums, and its latency as a
//! cumulative explicit-bucket histogram in seconds, under the resource `service.name =
//! dcr-harness`.
//!
//! It encodes only; `stream` sends.

use std::time::UNIX_EPOCH;

use super::{Snapshot, BOUNDS_S};
use crate::otlp::{attribute, harness_resource, harness_scope, InstrumentationScope, KeyValue, Resource};

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceMetrics {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeMetrics {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub description: String,
    #[prost(string, tag = "3")]
    pub unit: String,
    #[prost(message, optional, tag = "7")]
    pub sum: Option<Sum>,
    #[prost(message, optional, tag = "9")]
    pub histogram: Option<Histogram>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sum {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
    #[prost(bool, tag = "3")]
    pub is_monotonic: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<HistogramDataPoint>,
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct NumberDataPoint {
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    #[prost(sfixed64, tag = "6")]
    pub as_int: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HistogramDataPoint {
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    #[prost(double, optional, tag = "5")]
    pub sum: Option<f64>,
    #[prost(fixed64, repeated, tag = "6")]
    pub bucket_counts: Vec<u64>,
    #[prost(double, repeated, tag = "7")]
    pub explicit_bounds: Vec<f64>,
}

/// `AGGREGATION_TEMPORALITY_CUMULATIVE`.
const CUMULATIVE: i32 = 2;

/// The metric names, as OpenTelemetry spells them.
pub const REQUESTS: &str = "dcr_harness.load.requests";
pub const UNEXPECTED: &str = "dcr_harness.load.unexpected";
pub const LATENCY: &str = "dcr_harness.load.request.duration";

/// The snapshot as an encoded `ExportMetricsServiceRequest`.
pub fn export_request(snapshot: &Snapshot) -> Vec<u8> {
    prost::Message::encode_to_vec(&export_request_message(snapshot))
}

pub fn export_request_message(snapshot: &Snapshot) -> ExportMetricsServiceRequest {
    let nanos = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let (start, at) = (nanos(snapshot.started), nanos(snapshot.at));
    let attributes = vec![attribute("profile", &snapshot.profile)];
    let sum = |name: &str, description: &str, value: u64| Metric {
        name: name.into(),
        description: description.into(),
        unit: "{request}".into(),
        sum: Some(Sum {
            data_points: vec![NumberDataPoint {
                attributes: attributes.clone(),
                start_time_unix_nano: start,
                time_unix_nano: at,
                as_int: i64::try_from(value).unwrap_or(i64::MAX),
            }],
            aggregation_temporality: CUMULATIVE,
            is_monotonic: true,
        }),
        histogram: None,
    };
    let latency = &snapshot.latency;
    let histogram = Metric {
        name: LATENCY.into(),
        description: "the load's request latency, from when each request was due".into(),
        unit: "s".into(),
        sum: None,
        histogram: Some(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes: attributes.clone(),
                start_time_unix_nano: start,
                time_unix_nano: at,
                count: latency.count,
                sum: Some(latency.sum_s),
                bucket_counts: latency.buckets.to_vec(),
                explicit_bounds: BOUNDS_S.to_vec(),
            }],
            aggregation_temporality: CUMULATIVE,
        }),
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(harness_resource()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(harness_scope()),
                metrics: vec![
                    sum(REQUESTS, "requests the load sent", snapshot.requests),
                    sum(UNEXPECTED, "answers not among a transaction's expected statuses", snapshot.unexpected),
                    histogram,
                ],
            }],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::super::Cumulative;
    use super::*;

    #[test]
    fn the_histogram_has_a_count_per_bound_and_one_more_and_the_sums_are_cumulative() {
        let mut latency = Cumulative::default();
        latency.add(2_000, 5);
        let snapshot = Snapshot {
            started: UNIX_EPOCH + std::time::Duration::from_secs(10),
            at: UNIX_EPOCH + std::time::Duration::from_secs(12),
            profile: "smoke".into(),
            requests: 5,
            unexpected: 0,
            latency,
        };
        let message = export_request_message(&snapshot);
        let decoded = <ExportMetricsServiceRequest as prost::Message>::decode(export_request(&snapshot).as_slice())
            .expect("protobuf");
        assert_eq!(decoded, message);
        let metrics = &message.resource_metrics[0].scope_metrics[0].metrics;
        let point = &metrics
            .iter()
            .find(|m| m.name == LATENCY)
            .and_then(|m| m.histogram.as_ref())
            .expect("latency")
            .data_points[0];
        assert_eq!(point.bucket_counts.len(), point.explicit_bounds.len() + 1);
        assert_eq!(point.bucket_counts.iter().sum::<u64>(), point.count);
        let requests = metrics.iter().find(|m| m.name == REQUESTS).and_then(|m| m.sum.as_ref()).expect("requests");
        assert!(requests.is_monotonic && requests.aggregation_temporality == CUMULATIVE);
        assert_eq!(requests.data_points[0].start_time_unix_nano, 10_000_000_000);
    }
}

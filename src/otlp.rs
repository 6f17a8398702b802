//! The OpenTelemetry protocol's protobuf messages the harness sends over OTLP/HTTP, written
//! with prost: what every export shares (a resource, an instrumentation scope, attributes) and
//! the traces' messages (`ExportTraceServiceRequest` down to a span with its status). The load's
//! metrics add theirs beside it. It encodes only: it must not send, and imports nothing of the
//! crate.

#[derive(Clone, PartialEq, prost::Message)]
pub struct Resource {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AnyValue {
    #[prost(string, tag = "1")]
    pub string_value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct InstrumentationScope {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

/// A string attribute.
pub fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { string_value: value.into() }) }
}

/// The resource every export of the harness names: `service.name = dcr-harness`.
pub fn harness_resource() -> Resource {
    Resource { attributes: vec![attribute("service.name", "dcr-harness")] }
}

/// The harness as the instrumentation scope, with its version.
pub fn harness_scope() -> InstrumentationScope {
    InstrumentationScope { name: "dcr-harness".into(), version: env!("CARGO_PKG_VERSION").into() }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportTraceServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_spans: Vec<ResourceSpans>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceSpans {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_spans: Vec<ScopeSpans>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeSpans {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    pub spans: Vec<Span>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Span {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub parent_span_id: Vec<u8>,
    #[prost(string, tag = "5")]
    pub name: String,
    /// `SPAN_KIND_INTERNAL` (1) or `SPAN_KIND_CLIENT` (3).
    #[prost(int32, tag = "6")]
    pub kind: i32,
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    #[prost(string, tag = "2")]
    pub message: String,
    /// `STATUS_CODE_UNSET` (0), `STATUS_CODE_OK` (1), `STATUS_CODE_ERROR` (2).
    #[prost(int32, tag = "3")]
    pub code: i32,
}

pub const SPAN_KIND_INTERNAL: i32 = 1;
pub const SPAN_KIND_CLIENT: i32 = 3;
pub const STATUS_OK: i32 = 1;
pub const STATUS_ERROR: i32 = 2;

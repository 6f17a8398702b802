//! Traces of a run: every request a scenario sends carries a W3C `traceparent` naming its own
//! span, one trace per scenario (the scenario, each step, and under a step its signing, its
//! requests and its checks), so that a bank's tracing joins the harness's request to its
//! server's handling. Spans are kept in a bounded [`Tracer`] and exported once the run is over
//! as OTLP/HTTP protobuf (`run --otlp URL`). It records and encodes; it judges nothing, and a
//! receiver's refusal never changes a verdict.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::otlp;

/// The most spans a run keeps (a whole suite makes a few thousand): beyond, they are counted.
const MAX_SPANS: usize = 200_000;
/// The most of a receiver's refusal read back.
const MAX_REFUSAL_BYTES: usize = 200;

/// Where a span sits: its trace, and itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanContext {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
}

impl SpanContext {
    /// The first span of a new trace.
    pub fn root() -> SpanContext {
        SpanContext { trace_id: nonzero(), span_id: nonzero() }
    }

    /// A new span under this one, in its trace.
    pub fn child(&self) -> SpanContext {
        SpanContext { trace_id: self.trace_id, span_id: nonzero() }
    }

    /// The W3C Trace Context header naming this span, sampled: `00-TRACE-SPAN-01`.
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-01", hex::encode(self.trace_id), hex::encode(self.span_id))
    }

    pub fn trace_hex(&self) -> String {
        hex::encode(self.trace_id)
    }

    /// The span a `traceparent` names, where it is well formed (version 00, ids not all zero).
    pub fn parse(traceparent: &str) -> Option<SpanContext> {
        let mut parts = traceparent.trim().split('-');
        let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" || flags.len() != 2 || parts.next().is_some() {
            return None;
        }
        let trace_id: [u8; 16] = hex::decode(trace).ok()?.try_into().ok()?;
        let span_id: [u8; 8] = hex::decode(span).ok()?.try_into().ok()?;
        let zero = |b: &[u8]| b.iter().all(|x| *x == 0);
        (!zero(&trace_id) && !zero(&span_id)).then_some(SpanContext { trace_id, span_id })
    }
}

/// W3C Trace Context: an id of all zeros is invalid.
fn nonzero<const N: usize>() -> [u8; N] {
    loop {
        let mut id = [0u8; N];
        // aws-lc's generator: the crate's `rand` has no thread generator in every build.
        if aws_lc_rs::rand::fill(&mut id).is_err() {
            id[0] = 1;
        }
        if id.iter().any(|b| *b != 0) {
            return id;
        }
    }
}

/// A finished span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    pub context: SpanContext,
    pub parent: Option<[u8; 8]>,
    pub name: String,
    /// A request to the target (the others are the harness's own work).
    pub client: bool,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(String, String)>,
    /// Why the span failed, where it did.
    pub error: Option<String>,
}

/// The spans of a run, bounded.
#[derive(Debug, Default)]
pub struct Tracer {
    spans: Mutex<Vec<SpanRecord>>,
    dropped: AtomicU64,
}

impl Tracer {
    pub fn record(&self, span: SpanRecord) {
        let mut spans = self.spans.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if spans.len() < MAX_SPANS {
            spans.push(span);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every span recorded, and how many did not fit.
    pub fn take(&self) -> (Vec<SpanRecord>, u64) {
        let spans = std::mem::take(&mut *self.spans.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        (spans, self.dropped.load(Ordering::Relaxed))
    }
}

/// A span being timed: recorded when finished.
#[derive(Debug, Clone)]
pub struct Timing {
    pub context: SpanContext,
    pub parent: Option<[u8; 8]>,
    pub name: String,
    pub start: SystemTime,
}

impl Timing {
    /// A span of `name` starting now, under `parent` (a new trace where there is none).
    pub fn start(name: &str, parent: Option<&SpanContext>) -> Timing {
        let context = parent.map_or_else(SpanContext::root, SpanContext::child);
        Timing { context, parent: parent.map(|p| p.span_id), name: name.to_string(), start: SystemTime::now() }
    }

    /// The span, finished now.
    pub fn finish(self, attributes: Vec<(String, String)>, error: Option<String>) -> SpanRecord {
        SpanRecord {
            context: self.context,
            parent: self.parent,
            client: self.name == REQUEST,
            name: self.name,
            start: self.start,
            end: SystemTime::now(),
            attributes,
            error,
        }
    }
}

/// A scenario's tracing as its session carries it: the span its work goes under (the
/// scenario's), the step it is at, and where spans are kept (none: requests still carry their
/// `traceparent`).
#[derive(Debug, Clone)]
pub struct Traced {
    pub parent: SpanContext,
    pub step: String,
    pub tracer: Option<std::sync::Arc<Tracer>>,
}

impl Traced {
    /// A span of `name` under the scenario, starting now.
    pub fn start(&self, name: &str) -> Timing {
        Timing::start(name, Some(&self.parent))
    }

    /// A span of `name` under the scenario starting now, where spans are kept (none otherwise:
    /// nothing is timed for nobody).
    pub fn span(&self, name: &str) -> Option<Timing> {
        self.tracer.as_ref().map(|_| self.start(name))
    }

    /// Records `timing`, finished now, as the current step's.
    pub fn record(&self, timing: Timing, mut attributes: Vec<(String, String)>, error: Option<String>) {
        if let Some(tracer) = &self.tracer {
            attributes.insert(0, ("dcr.step".into(), self.step.clone()));
            tracer.record(timing.finish(attributes, error));
        }
    }

    /// Names in a signed request's (unsigned) `traceparent` the span it is to be sent as, and
    /// records its signing where it was timed.
    pub fn signed(&self, sign: Option<Timing>, msg: &mut crate::signature::Message, operation: &str) {
        msg.set_header(TRACEPARENT, &self.start(REQUEST).context.traceparent());
        if let Some(sign) = sign {
            self.record(sign, vec![("dcr.operation".into(), operation.into())], None);
        }
    }

    /// Records a step's checks, naming the failed ones, where they were timed.
    pub fn record_checks(&self, span: Option<Timing>, checks: &[super::check::CheckOutcome]) {
        let Some(span) = span else { return };
        let failed: Vec<String> = checks.iter().filter(|c| !c.passed).map(|c| c.check.to_string()).collect();
        let error = (!failed.is_empty()).then(|| format!("failed: {}", failed.join(", ")));
        self.record(span, vec![("dcr.checks".into(), checks.len().to_string())], error);
    }

    /// The span a request is sent as: the one its `traceparent` header names, under the scenario.
    pub fn request(&self, traceparent: Option<&str>) -> Option<Timing> {
        self.tracer.as_ref()?;
        let context = SpanContext::parse(traceparent?)?;
        let parent = Some(self.parent.span_id);
        Some(Timing { context, parent, name: REQUEST.into(), start: SystemTime::now() })
    }

    /// Records a request's span with what it was and how it was answered.
    pub fn record_request(&self, timing: Timing, method: &str, path: &str, answer: Result<u16, String>) {
        let mut attributes = vec![("http.request.method".into(), method.into()), ("url.path".into(), path.into())];
        let error = match answer {
            Ok(status) => {
                attributes.push(("http.response.status_code".into(), status.to_string()));
                None
            }
            Err(why) => Some(why),
        };
        self.record(timing, attributes, error);
    }
}

/// The span names: a scenario's is `scenario ID`.
pub const SIGN: &str = "sign";
/// The W3C Trace Context header.
pub const TRACEPARENT: &str = "traceparent";
pub const REQUEST: &str = "request";
pub const CHECKS: &str = "checks";
pub const TLS: &str = "tls";

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos().min(u64::MAX.into()) as u64
}

/// The spans as an encoded `ExportTraceServiceRequest`.
pub fn export_request(spans: &[SpanRecord]) -> Vec<u8> {
    let span = |s: &SpanRecord| otlp::Span {
        trace_id: s.context.trace_id.to_vec(),
        span_id: s.context.span_id.to_vec(),
        parent_span_id: s.parent.map(|p| p.to_vec()).unwrap_or_default(),
        name: s.name.clone(),
        kind: if s.client { otlp::SPAN_KIND_CLIENT } else { otlp::SPAN_KIND_INTERNAL },
        start_time_unix_nano: nanos(s.start),
        end_time_unix_nano: nanos(s.end),
        attributes: s.attributes.iter().map(|(k, v)| otlp::attribute(k, v)).collect(),
        status: Some(match &s.error {
            Some(why) => otlp::Status { message: why.clone(), code: otlp::STATUS_ERROR },
            None => otlp::Status { message: String::new(), code: otlp::STATUS_OK },
        }),
    };
    let request = otlp::ExportTraceServiceRequest {
        resource_spans: vec![otlp::ResourceSpans {
            resource: Some(otlp::harness_resource()),
            scope_spans: vec![otlp::ScopeSpans {
                scope: Some(otlp::harness_scope()),
                spans: spans.iter().map(span).collect(),
            }],
        }],
    };
    prost::Message::encode_to_vec(&request)
}

/// Why spans could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{url}: {cause}")]
    Unsent { url: String, cause: String },
    #[error("{url} answered {status}: {body}")]
    Refused { url: String, status: u16, body: String },
}

/// Where OTLP/HTTP traces go: `URL/v1/traces`, unless the URL names that path already.
pub fn traces_url(url: &str) -> String {
    let url = url.trim_end_matches('/');
    match url.ends_with("/v1/traces") {
        true => url.to_string(),
        false => format!("{url}/v1/traces"),
    }
}

/// Sends `spans` to the OTLP/HTTP receiver at `url` in batches; how many it took.
pub async fn export(url: &str, spans: &[SpanRecord]) -> Result<usize, ExportError> {
    let url = traces_url(url);
    let unsent = |cause: String| ExportError::Unsent { url: url.clone(), cause };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_gzip()
        .build()
        .map_err(|e| unsent(e.to_string()))?;
    for batch in spans.chunks(1_000) {
        let answer = client
            .post(&url)
            .header("content-type", "application/x-protobuf")
            .body(export_request(batch))
            .send()
            .await
            .map_err(|e| unsent(crate::diagnostic::chain(&e)))?;
        let status = answer.status().as_u16();
        if !(200..300).contains(&status) {
            let body = answer.bytes().await.unwrap_or_default();
            let body = String::from_utf8_lossy(&body[..body.len().min(MAX_REFUSAL_BYTES)]);
            return Err(ExportError::Refused { url, status, body: crate::diagnostic::inert_line(&body) });
        }
    }
    Ok(spans.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_read_back_and_a_malformed_one_is_none() {
        let span = SpanContext::root();
        assert_eq!(SpanContext::parse(&span.traceparent()), Some(span));
        let child = span.child();
        assert_eq!((child.trace_id, child.span_id == span.span_id), (span.trace_id, false));
        let bad = [
            "",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x",
        ];
        for text in bad {
            assert_eq!(SpanContext::parse(text), None, "{text}");
        }
        let w3c = SpanContext::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").expect("W3C's example");
        assert_eq!(w3c.trace_hex(), "0af7651916cd43dd8448eb211c80319c");
    }

    #[test]
    fn spans_encode_with_their_parents_kinds_and_status() {
        let root = Timing::start("scenario x", None);
        let request = Timing::start(REQUEST, Some(&root.context));
        let request = request.finish(vec![("http.response.status_code".into(), "201".into())], None);
        let root = root.finish(vec![], Some("FAIL".into()));
        let decoded: otlp::ExportTraceServiceRequest =
            prost::Message::decode(export_request(&[root.clone(), request.clone()]).as_slice()).expect("decodes");
        let spans = &decoded.resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans[0].parent_span_id, Vec::<u8>::new(), "the scenario starts its trace");
        assert_eq!(spans[1].parent_span_id, root.context.span_id.to_vec());
        assert_eq!(spans[1].trace_id, root.context.trace_id.to_vec());
        assert_eq!((spans[0].kind, spans[1].kind), (otlp::SPAN_KIND_INTERNAL, otlp::SPAN_KIND_CLIENT));
        assert_eq!(spans[0].status.as_ref().map(|s| s.code), Some(otlp::STATUS_ERROR));
        assert!(spans[1].end_time_unix_nano >= spans[1].start_time_unix_nano);
        assert_eq!(traces_url("http://127.0.0.1:4318/"), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(traces_url("http://h/v1/traces"), "http://h/v1/traces");
    }
}

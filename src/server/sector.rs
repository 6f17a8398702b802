//! What the reference server fetches about a registration before judging it: the sector
//! identifier document a client's `sector_identifier_uri` names (OpenID Connect Registration
//! §5: "a file with a single JSON array of redirect_uri values"). Fetched before the (synchronous)
//! registration rules run and kept a minute, so that a rule only reads what is known; the rule
//! itself: an https URI whose document lists every redirect URI, "or registration MUST fail".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::fetch_clock::Fetcher;

/// The longest sector document read.
const SECTOR_LIMIT: usize = 64 * 1024;
/// How long a fetched document is kept.
const KEPT_FOR: Duration = Duration::from_secs(60);
/// How many documents are kept before the old ones go.
const MAX_KEPT: usize = 1024;

/// Why a sector identifier document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectorError {
    #[error("sector_identifier_uri must be an https URL")]
    NotHttps,
    #[error("the sector identifier document at {uri} could not be read: {why}")]
    Unreadable { uri: String, why: String },
    #[error("the sector identifier document at {uri} is not a JSON array of redirect URIs")]
    NotAList { uri: String },
    #[error("{redirect} is not listed in the sector identifier document at {uri}")]
    NotListed { uri: String, redirect: String },
}

/// A document's redirect URIs, or why there are none to read.
type Listed = Result<Vec<String>, SectorError>;

/// The documents fetched, by URI, with when.
#[derive(Default)]
pub struct SectorDocuments(Mutex<HashMap<String, (Instant, Listed)>>);

impl SectorDocuments {
    /// Fetches the document `metadata` names (if any, and not fetched within the last minute).
    pub async fn learn(&self, fetcher: &Fetcher, metadata: &Map<String, Value>) {
        let Some(uri) = metadata.get("sector_identifier_uri").and_then(Value::as_str) else { return };
        if !uri.starts_with("https://") || self.fresh(uri).is_some() {
            return;
        }
        let document = fetch(fetcher, uri).await;
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= MAX_KEPT {
            kept.retain(|_, (at, _)| at.elapsed() < KEPT_FOR);
        }
        kept.insert(uri.to_string(), (Instant::now(), document));
    }

    fn fresh(&self, uri: &str) -> Option<Listed> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.get(uri).filter(|(at, _)| at.elapsed() < KEPT_FOR).map(|(_, document)| document.clone())
    }

    /// The rule: every redirect URI is in the document the sector identifier names.
    pub fn judge(&self, metadata: &Map<String, Value>) -> Result<(), SectorError> {
        let Some(uri) = metadata.get("sector_identifier_uri").and_then(Value::as_str) else { return Ok(()) };
        if !uri.starts_with("https://") {
            return Err(SectorError::NotHttps);
        }
        let unread = || SectorError::Unreadable { uri: uri.to_string(), why: "not fetched".into() };
        let listed = self.fresh(uri).unwrap_or_else(|| Err(unread()))?;
        let redirects = metadata.get("redirect_uris").and_then(Value::as_array).into_iter().flatten();
        match redirects.filter_map(Value::as_str).find(|r| !listed.iter().any(|l| l == r)) {
            Some(redirect) => Err(SectorError::NotListed { uri: uri.to_string(), redirect: redirect.to_string() }),
            None => Ok(()),
        }
    }
}

async fn fetch(fetcher: &Fetcher, uri: &str) -> Listed {
    let unreadable = |why: String| SectorError::Unreadable { uri: uri.to_string(), why };
    let body = fetcher
        .fetch(crate::fault::Service::Sector, fetcher.client.get(uri), SECTOR_LIMIT)
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    let list: Vec<Value> = serde_json::from_slice(&body).map_err(|_| SectorError::NotAList { uri: uri.to_string() })?;
    list.iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .ok_or(SectorError::NotAList { uri: uri.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(documents: &SectorDocuments, uri: &str, listed: &[&str]) {
        let list = listed.iter().map(|s| s.to_string()).collect();
        documents.0.lock().expect("lock").insert(uri.into(), (Instant::now(), Ok(list)));
    }

    #[test]
    fn every_redirect_must_be_listed_and_the_uri_https_and_read() {
        let documents = SectorDocuments::default();
        with(&documents, "https://tpp.example/sector.json", &["https://tpp.example/cb", "https://tpp.example/new"]);
        let judged = |metadata: Value| documents.judge(metadata.as_object().expect("an object"));
        assert_eq!(judged(json!({ "redirect_uris": ["https://tpp.example/cb"] })), Ok(()));
        assert_eq!(
            judged(
                json!({ "sector_identifier_uri": "https://tpp.example/sector.json", "redirect_uris": ["https://tpp.example/cb"] })
            ),
            Ok(())
        );
        assert!(matches!(
            judged(
                json!({ "sector_identifier_uri": "https://tpp.example/sector.json", "redirect_uris": ["https://tpp.example/x"] })
            ),
            Err(SectorError::NotListed { .. })
        ));
        assert_eq!(judged(json!({ "sector_identifier_uri": "http://tpp.example/s.json" })), Err(SectorError::NotHttps));
        assert!(matches!(
            judged(json!({ "sector_identifier_uri": "https://never.example/s.json" })),
            Err(SectorError::Unreadable { .. })
        ));
    }
}

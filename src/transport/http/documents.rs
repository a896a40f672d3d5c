//! `GET /documents/{token}`: a signed download link, opened by a person without a token. The
//! link's signature is the whole authority: it names one tenant and one document URI, which is
//! read as that tenant's viewer would read it (row-level security and all), so a link can never
//! reach another tenant's books or another document than the one it was signed for.

use chrono::Utc;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::json;

use super::HttpState;
use super::reply::{self, Body};
use crate::domain::Principal;
use crate::domain::access::Role;
use crate::domain::documents::links::LinkError;
use crate::tools::resources::Contents;

pub async fn download(state: &HttpState, path: &str) -> Response<Body> {
    let token = path.trim_start_matches("/documents/");
    let Some(links) = &state.links else {
        return reply::json(StatusCode::NOT_FOUND, &json!({ "error": "this server signs no download links" }));
    };
    let target = match links.verify(token, Utc::now()) {
        Ok(target) => target,
        Err(LinkError::Expired(at)) => {
            metrics::counter!("tally_document_downloads_total", "outcome" => "expired").increment(1);
            return reply::json(
                StatusCode::GONE,
                &json!({ "error": format!("this link expired at {}; ask for a new one", at.to_rfc3339()) }),
            );
        }
        Err(LinkError::Invalid) => {
            metrics::counter!("tally_document_downloads_total", "outcome" => "invalid").increment(1);
            return reply::json(StatusCode::NOT_FOUND, &json!({ "error": "no such document" }));
        }
    };
    let principal = Principal::operator(&target.tenant, Role::Viewer);
    match state.mcp.read_resource(&target.uri, principal).await {
        Ok(Contents::Blob { mime_type, bytes, name }) => {
            metrics::counter!("tally_document_downloads_total", "outcome" => "ok").increment(1);
            let mut res = Response::new(reply::full(bytes));
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime_type));
            if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{}\"", name.replace('"', ""))) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            res
        }
        Ok(Contents::Text(_)) | Err(_) => {
            metrics::counter!("tally_document_downloads_total", "outcome" => "not_found").increment(1);
            reply::json(StatusCode::NOT_FOUND, &json!({ "error": "no such document" }))
        }
    }
}

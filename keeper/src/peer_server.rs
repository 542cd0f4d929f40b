//! The member side of keeper-to-keeper traffic: authenticated endpoints for
//! co-sign requests and shared job inputs, mounted on the keeper's API; and
//! stored inputs for any active node (served by `crate::evidence`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;

use crate::context::Context;
use crate::core::cosign::{CosignRequest, Refusal};
use crate::error::ApiError;
use crate::evidence::EvidenceService;
use crate::member::CommitteeMember;
use crate::peer::{CosignReply, InputShare, RefusalBody, COSIGN_PATH, EVIDENCE_PATH, INPUT_PATH};

/// What the member endpoints answer from.
pub struct PeerState {
    pub ctx: Context,
    pub committee: Arc<CommitteeMember>,
    pub evidence: Arc<EvidenceService>,
}

pub fn router(state: PeerState) -> Router {
    let max = state.ctx.cfg.max_input_bytes;
    Router::new()
        .route(COSIGN_PATH, post(cosign))
        .route(INPUT_PATH, post(input))
        .route(EVIDENCE_PATH, post(evidence))
        // A claim carries the input and one miner answer.
        .layer(DefaultBodyLimit::max(
            max.saturating_mul(4).saturating_add(64 * 1024),
        ))
        .with_state(Arc::new(state))
}

/// Authenticates the request and parses its body.
async fn admit<T: DeserializeOwned>(
    committee: &CommitteeMember,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<T, ApiError> {
    if !committee.is_member() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_a_committee_keeper",
            "this keeper runs alone, not in a committee",
        ));
    }
    let sender = committee
        .authenticate(headers, path, body)
        .await
        .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.code(), e.to_string()))?;
    tracing::debug!(%sender, path, "peer request");
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed_peer_request",
            e.to_string(),
        )
    })
}

fn refused(refusal: Refusal) -> Response {
    let status = if matches!(refusal, Refusal::Unavailable(_)) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::CONFLICT
    };
    (
        status,
        Json(RefusalBody {
            error: "refused".into(),
            message: refusal.to_string(),
            refusal,
        }),
    )
        .into_response()
}

async fn cosign(State(peer): State<Arc<PeerState>>, headers: HeaderMap, body: Bytes) -> Response {
    let request: CosignRequest = match admit(&peer.committee, &headers, COSIGN_PATH, &body).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match peer.committee.cosign(request).await {
        Ok(s) => Json(CosignReply {
            signing_key: s.signing_key,
            signature: solana_sdk::signature::Signature::from(s.signature).to_string(),
        })
        .into_response(),
        Err(refusal) => refused(refusal),
    }
}

async fn input(State(peer): State<Arc<PeerState>>, headers: HeaderMap, body: Bytes) -> Response {
    let share: InputShare = match admit(&peer.committee, &headers, INPUT_PATH, &body).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    match peer.committee.receive_input(share).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(refusal) => refused(refusal),
    }
}

/// `POST /v1/peer/evidence`: a stored input, for any node active as of
/// the last chain poll.
async fn evidence(State(peer): State<Arc<PeerState>>, headers: HeaderMap, body: Bytes) -> Response {
    let view = peer.ctx.view();
    let active = |key: &anchor_lang::prelude::Pubkey| view.active_node_keys.contains(key);
    peer.evidence.serve(&headers, &body, active).await
}

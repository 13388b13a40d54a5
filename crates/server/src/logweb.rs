//! The log served as C2SP `tlog-tiles` under `/log/<origin>/`: `checkpoint` and
//! `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`, so any tlog client can follow the node.
//! The entries name people, permit numbers, serials and who holds which firearm, so reading them
//! needs a sign-in or an API token (a witness or an auditor gets a token of an auditor's
//! account), unless the node is started with `--public-log`.
//!
//! c2sp.org/tlog-tiles: tiles are immutable once they exist ("clients ... SHOULD cache them"), the
//! checkpoint changes with every append.

use crate::App;
use crate::api::ApiError;
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::tiles::{Tile, TileKind};
use armory_store::Store;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The URL prefix of this log: `/log/<origin>`.
pub fn prefix(app: &App) -> String {
    format!("/log/{}", app.node().store().origin())
}

/// Whether the tree of `size` leaves holds `tile`: `(N*256 + W) * 256^L <= size`.
fn exists(tile: &Tile, size: u64) -> bool {
    let level = match tile.kind {
        TileKind::Entries => 0,
        TileKind::Hashes(l) => u32::from(l),
    };
    let needed = tile
        .n
        .checked_mul(256)
        .and_then(|x| x.checked_add(tile.width))
        .and_then(|x| x.checked_mul(1u64.checked_shl(8 * level)?));
    needed.is_some_and(|n| n <= size)
}

fn not_found(what: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, what)
}

/// Lets the request read the log: a signed-in person or an API token, unless the log is public.
pub async fn may_read(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    if app.config().public_log {
        return Ok(());
    }
    crate::api::caller(app, headers).await.map(|_| ()).map_err(|e| {
        if e.status == StatusCode::UNAUTHORIZED {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the log is read signed in, or with an API token (Authorization: Bearer): its entries name people and firearms",
            )
        } else {
            e
        }
    })
}

pub async fn serve_log(
    State(app): State<App>,
    headers: HeaderMap,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    may_read(&app, &headers).await?;
    let store = app.node().store();
    let origin = store.origin();
    let Some(rest) = path.strip_prefix(origin).and_then(|r| r.strip_prefix('/')) else {
        return Err(not_found(format!(
            "this node serves the log {origin} at /log/{origin}/"
        )));
    };
    let note = store
        .latest_checkpoint()
        .await
        .map_err(ApiError::internal)?;
    if rest == "checkpoint" {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            note,
        )
            .into_response());
    }
    let tile = Tile::parse(rest).map_err(|e| not_found(e.to_string()))?;
    let checkpoint = Checkpoint::open(&note, store.verifier()).map_err(ApiError::internal)?;
    if !exists(&tile, checkpoint.size) {
        return Err(not_found(format!(
            "{rest} is beyond the log's latest checkpoint (size {})",
            checkpoint.size
        )));
    }
    let bytes = armory_store::export::tile_bytes(store, &tile)
        .await
        .map_err(|e| not_found(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::CACHE_CONTROL,
                if app.config().public_log {
                    "public, max-age=31536000, immutable"
                } else {
                    "private, max-age=31536000, immutable"
                },
            ),
        ],
        bytes,
    )
        .into_response())
}

//! Retrying a request whose connection failed: at once, then with a short, growing pause, for a
//! bounded time. Statuses are never retried: the API meant them. Nor is a request that failed on
//! this runtime's own limits (`client::network_failed` tells which): it would fail again.

use std::time::{Duration, Instant};

use crate::client::network_failed;
use crate::error::ApiError;

/// How long a failing connection to the Runtime API is retried before the runtime gives up.
const RETRY_BUDGET: Duration = Duration::from_secs(10);
/// The first retry is immediate (a keep-alive connection closed by the other side is the usual
/// cause); later ones wait this long, doubling up to `MAX_RETRY_DELAY`.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(10);
const MAX_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Runs `op`, retrying failures of the network with a short, growing pause until `RETRY_BUDGET`
/// is spent. Statuses are never retried (the API meant them), nor failures that are not the
/// network's (they would come again).
pub(crate) fn with_retries<T>(mut op: impl FnMut() -> Result<T, ApiError>) -> Result<T, ApiError> {
    let mut first_failure: Option<Instant> = None;
    let mut delay = Duration::ZERO;
    loop {
        match op() {
            Err(ApiError::Transport { endpoint, source }) if network_failed(&source) => {
                let since = *first_failure.get_or_insert_with(Instant::now);
                if since.elapsed() + delay > RETRY_BUDGET {
                    return Err(ApiError::Transport { endpoint, source });
                }
                if delay.is_zero() {
                    log::debug!("{endpoint} failed ({source}); retrying on a new connection");
                } else {
                    // Whole milliseconds, as `Duration`'s Debug would print them, without linking it.
                    let ms = delay.as_millis();
                    log::warn!("{endpoint} failed ({source}); retrying in {ms}ms");
                }
                std::thread::sleep(delay);
                delay = (delay * 2).clamp(FIRST_RETRY_DELAY, MAX_RETRY_DELAY);
            }
            other => return other,
        }
    }
}

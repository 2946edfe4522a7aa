//! `context`: answers with the invocation's [`Context`] as JSON, the time it had left, and the
//! `_X_AMZN_TRACE_ID` environment variable as the handler saw it.

use lambda_blocking_rt::{Context, Error, Handler};
use serde::Serialize;

#[derive(Serialize)]
struct Output<'a> {
    context: &'a Context,
    /// `Context::remaining_time()` when the handler ran, in milliseconds.
    remaining_ms: u128,
    /// `_X_AMZN_TRACE_ID` during the invocation; `null` when unset.
    trace_id_env: Option<String>,
}

/// Reports what the handler is told.
#[derive(Clone, Copy)]
pub struct ShowContext;

impl Handler for ShowContext {
    fn call(&mut self, _event: &[u8], ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        let trace_id_env = std::env::var("_X_AMZN_TRACE_ID").ok();
        let remaining_ms = ctx.remaining_time().as_millis();
        serde_json::to_writer(
            response,
            &Output {
                context: ctx,
                remaining_ms,
                trace_id_env,
            },
        )?;
        Ok(())
    }
}

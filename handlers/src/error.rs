//! `error`: always fails, with errorType `DemoError` and the event's `message` field as the
//! message. Shows how a handler chooses its error type.
//!
//! It also shows an init failure: with `DEMO_INIT_ERROR` set in the environment, building the
//! handler fails, and Lambda is told before any invocation.

use lambda_blocking_rt::{Context, Error, Handler};

/// Fails every invocation.
#[derive(Clone, Copy)]
pub struct AlwaysFails;

/// Builds the handler; fails with errorType `DemoInitError` when `DEMO_INIT_ERROR` is set.
pub fn init() -> Result<AlwaysFails, Error> {
    match std::env::var("DEMO_INIT_ERROR") {
        Ok(reason) => Err(Error::new(
            "DemoInitError",
            format!("DEMO_INIT_ERROR is set: {reason}"),
        )),
        Err(_) => Ok(AlwaysFails),
    }
}

impl Handler for AlwaysFails {
    fn call(&mut self, event: &[u8], _ctx: &Context, _response: &mut Vec<u8>) -> Result<(), Error> {
        let message = crate::message_field(event)
            .unwrap_or_else(|| "the error handler always fails".to_owned());
        Err(Error::new("DemoError", message))
    }
}

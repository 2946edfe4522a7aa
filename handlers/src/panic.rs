//! `panic`: panics with the event's `message` field. The runtime catches the panic, reports it
//! for this invocation with errorType `Runtime.HandlerPanic`, and serves the next one.

use lambda_blocking_rt::{Context, Error, Handler};

/// Panics on every invocation.
#[derive(Clone, Copy)]
pub struct Panics;

impl Handler for Panics {
    fn call(&mut self, event: &[u8], _ctx: &Context, _response: &mut Vec<u8>) -> Result<(), Error> {
        let message =
            crate::message_field(event).unwrap_or_else(|| "the panic handler panicked".to_owned());
        panic!("{message}");
    }
}

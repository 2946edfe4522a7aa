//! `echo`: answers with the event exactly as it came, whatever its bytes.

use lambda_blocking_rt::{Context, Error, Handler};

/// Copies the event into the response.
#[derive(Clone, Copy)]
pub struct Echo;

impl Handler for Echo {
    fn call(&mut self, event: &[u8], _ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        response.extend_from_slice(event);
        Ok(())
    }
}

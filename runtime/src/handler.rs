//! The `Handler` trait, and the typed JSON adapter built on it.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::protocol::{ERROR_INVALID_EVENT, ERROR_SERIALIZATION};
use crate::{Context, Error, StreamingHandler};

/// Handles one invocation: takes the raw event bytes, writes the raw response bytes.
///
/// `response` is empty on entry and reused from one invocation to the next, so a handler that
/// writes into it allocates nothing once warm. Closures and functions of the shape
/// `FnMut(&[u8], &Context) -> Result<impl AsRef<[u8]>, impl Into<Error>>` are handlers too.
///
/// [`run`](crate::run) takes a handler that is also `Clone + Send`: on Lambda Managed Instances
/// (`AWS_LAMBDA_MAX_CONCURRENCY` > 1) each worker thread gets its own clone, so `&mut self`
/// state is per worker and needs no lock; what the workers must share (a cache, a counter) goes
/// behind an `Arc`. Plain functions, closures that capture nothing or only `Clone + Send`
/// values, and `#[derive(Clone)]` structs of such values qualify.
///
/// ```
/// use lambda_blocking_rt::{Context, Error, Handler};
///
/// let mut shout = |event: &[u8], _ctx: &Context| -> Result<Vec<u8>, Error> {
///     Ok(event.to_ascii_uppercase())
/// };
/// let mut out = Vec::new();
/// shout.call(b"hi", &Context::default(), &mut out).unwrap();
/// assert_eq!(out, b"HI");
/// ```
pub trait Handler {
    /// Handles `event`; the response is what is in `response` when this returns `Ok`.
    fn call(&mut self, event: &[u8], ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error>;

    /// `Some` for a handler whose response is streamed ([`streaming`](crate::streaming)): the
    /// runtime then calls the streaming handler instead of `call`, with a stream that sends what
    /// it writes as it writes it. Buffered handlers keep this default.
    fn as_streaming(&mut self) -> Option<&mut dyn StreamingHandler> {
        None
    }
}

impl<F, R, E> Handler for F
where
    F: FnMut(&[u8], &Context) -> Result<R, E>,
    R: AsRef<[u8]>,
    E: Into<Error>,
{
    fn call(&mut self, event: &[u8], ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        let out = self(event, ctx).map_err(Into::into)?;
        response.extend_from_slice(out.as_ref());
        Ok(())
    }
}

/// A handler behind a `Box`, as [`Router`](crate::Router) selects it: `Clone + Send` like the
/// handler it holds.
pub struct BoxedHandler(Box<dyn CloneHandler>);

/// A `Handler` that can be cloned through a `Box`.
trait CloneHandler: Handler + Send {
    fn clone_box(&self) -> Box<dyn CloneHandler>;
}

impl<H: Handler + Clone + Send + 'static> CloneHandler for H {
    fn clone_box(&self) -> Box<dyn CloneHandler> {
        Box::new(self.clone())
    }
}

impl BoxedHandler {
    pub(crate) fn new<H: Handler + Clone + Send + 'static>(handler: H) -> Self {
        BoxedHandler(Box::new(handler))
    }
}

impl Clone for BoxedHandler {
    fn clone(&self) -> Self {
        BoxedHandler(self.0.clone_box())
    }
}

impl Handler for BoxedHandler {
    fn call(&mut self, event: &[u8], ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        self.0.call(event, ctx, response)
    }

    fn as_streaming(&mut self) -> Option<&mut dyn StreamingHandler> {
        self.0.as_streaming()
    }
}

/// Wraps a typed function as a [`Handler`]: the event is deserialized into `In` with serde, the
/// `Out` it returns is serialized as the response.
///
/// An event that does not deserialize is answered with errorType `Runtime.InvalidEvent` and a
/// message naming what was wrong and where; the function is not called.
///
/// ```
/// use lambda_blocking_rt::{Context, Error, Handler};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Order { quantity: u32, unit_price: u32 }
/// #[derive(Serialize)]
/// struct Total { total: u32 }
///
/// let mut handler = lambda_blocking_rt::json(|order: Order, _ctx: &Context| {
///     Ok::<_, Error>(Total { total: order.quantity * order.unit_price })
/// });
///
/// let mut out = Vec::new();
/// handler.call(br#"{"quantity":3,"unit_price":5}"#, &Context::default(), &mut out).unwrap();
/// assert_eq!(out, br#"{"total":15}"#);
///
/// out.clear();
/// let err = handler.call(br#"{"quantity":"3"}"#, &Context::default(), &mut out).unwrap_err();
/// assert_eq!(err.error_type(), "Runtime.InvalidEvent");
/// ```
pub fn json<F, In, Out, E>(function: F) -> Json<F, In>
where
    F: FnMut(In, &Context) -> Result<Out, E>,
    In: DeserializeOwned,
    Out: Serialize,
    E: Into<Error>,
{
    Json {
        function,
        input: PhantomData,
    }
}

/// The event deserialized as `In`, or a `Runtime.InvalidEvent` error saying what and where.
pub(crate) fn event_as<In: DeserializeOwned>(event: &[u8]) -> Result<In, Error> {
    serde_json::from_slice(event).map_err(|e| {
        Error::new(
            ERROR_INVALID_EVENT,
            format!(
                "the event is not a valid {}: {e}",
                std::any::type_name::<In>()
            ),
        )
    })
}

/// The handler [`json`] returns.
pub struct Json<F, In> {
    function: F,
    input: PhantomData<fn(In)>,
}

// Not derived: that would ask `In: Clone` too.
impl<F: Clone, In> Clone for Json<F, In> {
    fn clone(&self) -> Self {
        Json {
            function: self.function.clone(),
            input: PhantomData,
        }
    }
}

impl<F, In, Out, E> Handler for Json<F, In>
where
    F: FnMut(In, &Context) -> Result<Out, E>,
    In: DeserializeOwned,
    Out: Serialize,
    E: Into<Error>,
{
    fn call(&mut self, event: &[u8], ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        let input: In = event_as(event)?;
        let output = (self.function)(input, ctx).map_err(Into::into)?;
        serde_json::to_writer(&mut *response, &output).map_err(|e| {
            response.clear();
            Error::new(
                ERROR_SERIALIZATION,
                format!("the response could not be serialized as JSON: {e}"),
            )
        })
    }
}

#[cfg(all(test, feature = "float_roundtrip"))]
mod tests {
    use super::*;

    #[test]
    fn json_adapter_reads_floats_exactly_as_written() {
        // Found by the json_adapter fuzz target: the shortest form of a float, as any JSON
        // writer produces it, was read back one step off, so the handler saw another number.
        let mut seen = Vec::new();
        let mut handler = json(|numbers: Vec<f64>, _ctx: &Context| {
            seen = numbers.clone();
            Ok::<_, Error>(numbers)
        });
        let event = b"[6.666666666666666e117, 0.1, 1.7976931348623157e308, 5e-324]";
        let mut out = Vec::new();
        handler.call(event, &Context::default(), &mut out).unwrap();
        let expected = [6.666666666666666e117, 0.1, f64::MAX, 5e-324];
        assert_eq!(seen, expected);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "[6.666666666666666e+117,0.1,1.7976931348623157e+308,5e-324]"
        );
    }
}

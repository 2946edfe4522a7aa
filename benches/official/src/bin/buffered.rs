//! The same 1 MiB returned buffered by `lambda_runtime::run`: the payload is a JSON string, so it
//! is returned as a `RawValue` made once, and serialized unchanged on every invocation.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use payload::payload;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let text = String::from_utf8(payload())?;
    let response: &'static RawValue = Box::leak(RawValue::from_string(text)?);
    lambda_runtime::run(service_fn(
        move |_event: LambdaEvent<IgnoredAny>| async move { Ok::<_, Error>(response) },
    ))
    .await
}

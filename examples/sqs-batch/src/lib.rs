//! Two Lambda functions on `lambda-blocking-rt`, each a three-line `main` in `src/bin/`:
//!
//! - [`handle_batch`] (`src/bin/sqs.rs`): a batch of SQS messages, each an [`Order`], answered
//!   with a partial batch failure report. A message that is not a valid order is listed in
//!   `batchItemFailures` by its `messageId`, so SQS delivers it again (and, after the queue's
//!   `maxReceiveCount`, moves it to the dead-letter queue); the others are processed and deleted.
//!   The event source mapping must have `FunctionResponseTypes: ["ReportBatchItemFailures"]`,
//!   otherwise Lambda ignores the report and deletes the whole batch.
//! - [`shout`] (`src/bin/raw.rs`): raw bytes in, raw bytes out: the event with its ASCII letters
//!   upper-cased, every other byte as it was, UTF-8 or not.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_blocking_rt::{Context, Error};
use serde::Deserialize;

/// An order, as the producer writes it in a message's body: `{"order_id":"A-1001","quantity":2}`.
/// Other fields are ignored.
#[derive(Debug, PartialEq, Deserialize)]
pub struct Order {
    pub order_id: String,
    pub quantity: u32,
}

/// Reads an order from a message's body; the error says why it is not one.
pub fn parse_order(body: Option<&str>) -> Result<Order, String> {
    let body = body.ok_or("the message has no body")?;
    let order: Order =
        serde_json::from_str(body).map_err(|e| format!("the body is not an order: {e}"))?;
    if order.order_id.is_empty() {
        return Err("order_id is empty".into());
    }
    if order.quantity == 0 {
        return Err(format!("order {}: quantity is 0", order.order_id));
    }
    Ok(order)
}

/// Does the work for one valid order. Here it is only logged; yours writes it somewhere. An
/// `Err` puts the message in the failure report, like an invalid body.
fn process(order: &Order, message_id: &str) -> Result<(), String> {
    log::info!(
        "order {} x{} (message {message_id})",
        order.order_id,
        order.quantity
    );
    Ok(())
}

/// Processes every message of the batch that holds a valid order; reports the others.
///
/// A message that fails and has no `messageId` cannot be reported alone: the whole batch is
/// then answered with an error, and SQS delivers all of it again.
pub fn handle_batch(event: SqsEvent, _ctx: &Context) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for (index, message) in event.records.iter().enumerate() {
        let message_id = message.message_id.as_deref().unwrap_or_default();
        let outcome = parse_order(message.body.as_deref()).and_then(|o| process(&o, message_id));
        if let Err(reason) = outcome {
            if message_id.is_empty() {
                return Err(Error::new(
                    "InvalidBatch",
                    format!(
                        "record {index} failed ({reason}) and has no messageId to report it by"
                    ),
                ));
            }
            log::warn!("message {message_id} failed: {reason}");
            response.add_failure(message_id);
        }
    }
    Ok(response)
}

/// Answers the event with its ASCII letters upper-cased; any other byte is kept as it is.
pub fn shout(event: &[u8], _ctx: &Context) -> Result<Vec<u8>, Error> {
    Ok(event.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_blocking_rt::Handler;
    use serde_json::{Value, json};

    fn context() -> Context {
        Context {
            request_id: "test-request-1".into(),
            ..Default::default()
        }
    }

    /// Runs `event` through the SQS function as the runtime does: bytes in, JSON out.
    fn invoke_batch(event: &[u8]) -> Result<Value, Error> {
        let mut response = Vec::new();
        lambda_blocking_rt::json(handle_batch).call(event, &context(), &mut response)?;
        Ok(serde_json::from_slice(&response).expect("the response is JSON"))
    }

    #[test]
    fn a_batch_with_one_bad_order_reports_exactly_that_message() {
        let answer = invoke_batch(include_bytes!("../events/batch-one-bad.json")).unwrap();
        assert_eq!(
            answer,
            json!({"batchItemFailures": [
                {"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}
            ]})
        );
    }

    #[test]
    fn a_batch_of_good_orders_reports_no_failures() {
        let answer = invoke_batch(include_bytes!("../events/batch-all-good.json")).unwrap();
        assert_eq!(answer, json!({"batchItemFailures": []}));
    }

    #[test]
    fn an_event_that_is_not_an_sqs_batch_is_an_invalid_event() {
        for event in [&br#"{"Records":"nope"}"#[..], b"[1,2]", b"{}", b"not json"] {
            let err = invoke_batch(event).unwrap_err();
            assert_eq!(err.error_type(), "Runtime.InvalidEvent", "{event:?}");
        }
    }

    #[test]
    fn a_failed_message_without_a_message_id_fails_the_whole_batch() {
        let event = json!({"Records": [
            {"messageId": "ok-1", "body": r#"{"order_id":"A-1","quantity":1}"#},
            {"body": "not an order"},
        ]});
        let err = invoke_batch(event.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.error_type(), "InvalidBatch");
    }

    #[test]
    fn parse_order_accepts_an_order_and_says_why_anything_else_is_not_one() {
        assert_eq!(
            parse_order(Some(
                r#"{"order_id":"A-1","quantity":3,"note":"extra fields are fine"}"#
            )),
            Ok(Order {
                order_id: "A-1".into(),
                quantity: 3
            })
        );
        let rejected = [
            (None, "no body"),
            (Some("not json"), "not an order"),
            (Some(r#"{"order_id":"A-1"}"#), "missing field `quantity`"),
            (Some(r#"{"order_id":"A-1","quantity":-1}"#), "not an order"),
            (Some(r#"{"order_id":"A-1","quantity":"2"}"#), "not an order"),
            (Some(r#"{"order_id":"","quantity":1}"#), "order_id is empty"),
            (Some(r#"{"order_id":"A-1","quantity":0}"#), "quantity is 0"),
        ];
        for (body, reason) in rejected {
            let err = parse_order(body).unwrap_err();
            assert!(err.contains(reason), "{body:?}: {err}");
        }
    }

    #[test]
    fn shout_upper_cases_ascii_and_keeps_every_other_byte() {
        let mut response = Vec::new();
        // Not UTF-8 (0xff, a lone 0x80) and a NUL: none of it may be lost or replaced.
        let event = include_bytes!("../events/non-utf8.bin");
        // `Handler::call`, not `shout.call`: a function also has the (unstable) `Fn::call`.
        Handler::call(&mut shout, event, &context(), &mut response).unwrap();
        assert_eq!(response, b"HELLO, \xff\xfe L\xc3\xa9AMBDA \x00\x80 BYTES\n");
    }
}

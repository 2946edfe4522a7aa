//! `lambda_blocking_rt::json` around a typed function, called through the `Handler` trait with arbitrary
//! event bytes, as the invoke loop calls it.
//!
//! The function echoes its event, except that an event named `fail` makes it return an error.
//!
//! Invariants:
//! - it never panics;
//! - an event that does not deserialize is answered with errorType `Runtime.InvalidEvent`, the
//!   function is not called and nothing is written to the response;
//! - a valid event reaches the function exactly as serde_json reads it, and the response it
//!   writes reads back as the same value (the round trip loses nothing);
//! - the function's own error comes back unchanged, with nothing written to the response.

#![no_main]

use lambda_blocking_rt::{Context, Error, Handler};
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: String,
    quantity: u64,
    note: Option<String>,
    tags: Vec<String>,
    customer: Customer,
    metadata: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Customer {
    name: String,
    vip: bool,
    discount_percent: Option<u8>,
    addresses: Vec<Address>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Address {
    city: String,
    zip: Option<String>,
}

fuzz_target!(|event: &[u8]| {
    let expected = serde_json::from_slice::<Order>(event);

    let mut seen: Option<Order> = None;
    let mut response = Vec::new();
    let result = lambda_blocking_rt::json(|order: Order, _ctx: &Context| {
        seen = Some(order.clone());
        if order.id == "fail" {
            return Err(Error::new("Order.Refused", "asked to fail"));
        }
        Ok(order)
    })
    .call(event, &Context::default(), &mut response);

    match (expected, result) {
        (Err(_), Err(e)) => {
            assert_eq!(e.error_type(), "Runtime.InvalidEvent", "{e}");
            assert!(!e.message().is_empty());
            assert!(
                seen.is_none(),
                "the function was called with an invalid event"
            );
            assert!(response.is_empty());
        }
        (Err(why), Ok(())) => panic!("an invalid event ({why}) was accepted"),
        (Ok(order), result) => {
            assert_eq!(
                seen.as_ref(),
                Some(&order),
                "the function saw another event"
            );
            if order.id == "fail" {
                let e = result.expect_err("the function's error was lost");
                assert_eq!(e, Error::new("Order.Refused", "asked to fail"));
                assert!(response.is_empty());
            } else {
                result.unwrap_or_else(|e| panic!("a valid event was refused: {e}"));
                let back: Order = serde_json::from_slice(&response)
                    .unwrap_or_else(|e| panic!("the response does not read back: {e}"));
                assert_eq!(back, order, "the round trip changed the event");
            }
        }
    }
});

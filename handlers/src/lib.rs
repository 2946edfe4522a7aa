//! The handlers that ship with `lambda-blocking-rt`. Each module is one function, short enough to copy.
//!
//! | name | what it does |
//! | --- | --- |
//! | [`echo`] | answers with the event, byte for byte |
//! | [`fibonacci`] | `{"n":35}` → `{"n":35,"result":9227465}` |
//! | [`error`] | always fails with errorType `DemoError` |
//! | [`panic`] | panics, to show how a panic is reported |
//! | [`context`] | answers with the invocation's `Context` |
//! | [`hello`] | an API Gateway HTTP API / function URL handler |
//! | [`stream`] | `{"chunks":3,"delay_ms":100}` → `chunk 0\n` … streamed, one line at a time |
//! | [`http_stream`] | a function URL page streamed with status, headers and a cookie |
//! | [`sleep`] | `{"ms":400}` → `{"slept_ms":400}` after 400 ms |

pub mod context;
pub mod echo;
pub mod error;
pub mod fibonacci;
pub mod hello;
pub mod http_stream;
pub mod panic;
pub mod sleep;
pub mod stream;
pub mod web;

/// The `message` field of a JSON event, if it has one.
fn message_field(event: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithMessage {
        message: String,
    }
    serde_json::from_slice::<WithMessage>(event)
        .ok()
        .map(|e| e.message)
}

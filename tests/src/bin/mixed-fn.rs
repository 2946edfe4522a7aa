//! A user's function for the concurrency tests, where one process must serve invocations that
//! do different things at once: `{"name": "a", "ms": 200}` sleeps 200 ms, then answers
//! `{"name": "a", "request_id": "<its own request id>"}`; `{"name": "b", "panic": true}`
//! panics with the message "b panicked on purpose".

use std::process::ExitCode;
use std::time::Duration;

use lambda_blocking_rt::{Context, Error};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Event {
    name: String,
    #[serde(default)]
    ms: u64,
    #[serde(default)]
    panic: bool,
}

#[derive(Serialize)]
struct Answer {
    name: String,
    request_id: String,
}

fn main() -> ExitCode {
    lambda_blocking_rt::run(lambda_blocking_rt::json(|event: Event, ctx: &Context| {
        if event.panic {
            panic!("{} panicked on purpose", event.name);
        }
        std::thread::sleep(Duration::from_millis(event.ms));
        Ok::<_, Error>(Answer {
            name: event.name,
            request_id: ctx.request_id.clone(),
        })
    }))
}

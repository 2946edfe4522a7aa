//! The Lambda function: the API in `lib.rs`, served through the web adapter from any API
//! Gateway REST API, HTTP API or function URL.

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run(lambda_blocking_rt::web::handler(web_api::handle))
}

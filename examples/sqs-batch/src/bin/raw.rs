//! The raw-bytes function: any event, JSON or not, answered with its ASCII letters upper-cased.

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run(sqs_batch::shout)
}

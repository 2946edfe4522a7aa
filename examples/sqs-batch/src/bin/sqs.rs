//! The SQS function: an event source mapping with `ReportBatchItemFailures` invokes it.

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run(lambda_blocking_rt::json(sqs_batch::handle_batch))
}

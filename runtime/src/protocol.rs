//! Names the Lambda Runtime API defines: endpoint paths, header names, environment variables.
//! Everything that speaks the protocol takes its words from here.

/// API version prefix every endpoint lives under.
pub(crate) const API_VERSION: &str = "/2018-06-01";

/// `GET`: long-polls for the next invocation.
pub(crate) const PATH_NEXT: &str = "/runtime/invocation/next";
/// `POST /runtime/invocation/{request-id}/response`: split around the request id.
pub(crate) const PATH_INVOCATION: &str = "/runtime/invocation/";
pub(crate) const PATH_RESPONSE_SUFFIX: &str = "/response";
pub(crate) const PATH_ERROR_SUFFIX: &str = "/error";
/// `POST`: reports a failure before the first `/next`.
pub(crate) const PATH_INIT_ERROR: &str = "/runtime/init/error";

/// The Extensions API (`/2020-01-01/extension/...`) and the Telemetry API, on the same host as
/// the Runtime API.
pub(crate) const PATH_EXTENSION_REGISTER: &str = "/2020-01-01/extension/register";
pub(crate) const PATH_EXTENSION_NEXT: &str = "/2020-01-01/extension/event/next";
pub(crate) const PATH_EXTENSION_INIT_ERROR: &str = "/2020-01-01/extension/init/error";
pub(crate) const PATH_EXTENSION_EXIT_ERROR: &str = "/2020-01-01/extension/exit/error";
pub(crate) const PATH_TELEMETRY: &str = "/2022-07-01/telemetry";
/// Sent on `/register`: the extension's name (an external one's is its file name).
pub(crate) const HEADER_EXTENSION_NAME: &str = "Lambda-Extension-Name";
/// Given by `/register`, sent back on every later call of the extension's.
pub(crate) const HEADER_EXTENSION_IDENTIFIER: &str = "Lambda-Extension-Identifier";
/// Sent on `/register` to ask for the account id in its answer.
pub(crate) const HEADER_EXTENSION_ACCEPT_FEATURE: &str = "Lambda-Extension-Accept-Feature";
/// Sent on `/init/error` and `/exit/error`: `Category.Reason`.
pub(crate) const HEADER_EXTENSION_ERROR_TYPE: &str = "Lambda-Extension-Function-Error-Type";

/// The headers of the `/next` answer the runtime reads, in lower case as `HeaderName`s are kept,
/// so one pass over the answer's headers finds them with `==` (`context::NextHeaders`, whose
/// slots follow this order).
pub(crate) const NEXT_HEADERS: [&str; 8] = [
    "lambda-runtime-aws-request-id",
    "lambda-runtime-deadline-ms",
    "lambda-runtime-invoked-function-arn",
    "lambda-runtime-trace-id",
    "lambda-runtime-aws-tenant-id",
    "lambda-runtime-invocation-id",
    "lambda-runtime-client-context",
    "lambda-runtime-cognito-identity",
];
// Three of them as the protocol writes them: named in error messages, or sent back.
pub(crate) const HEADER_CLIENT_CONTEXT: &str = "Lambda-Runtime-Client-Context";
pub(crate) const HEADER_COGNITO_IDENTITY: &str = "Lambda-Runtime-Cognito-Identity";
/// A nonce per attempt of an invocation; echoed on that attempt's `/response` and `/error`, so
/// Lambda refuses (410) a late answer instead of giving it to a newer attempt with the same id.
pub(crate) const HEADER_INVOCATION_ID: &str = "Lambda-Runtime-Invocation-Id";

/// Sent with every error report, equal to the body's `errorType`.
pub(crate) const HEADER_ERROR_TYPE: &str = "Lambda-Runtime-Function-Error-Type";
/// Streaming: `streaming` on the `/response` POST of a streamed response.
pub(crate) const HEADER_RESPONSE_MODE: &str = "Lambda-Runtime-Function-Response-Mode";
/// Streaming: the trailer with an error after the first byte, the error JSON in base64 (its type
/// goes in the `HEADER_ERROR_TYPE` trailer).
pub(crate) const HEADER_ERROR_BODY: &str = "Lambda-Runtime-Function-Error-Body";
/// Sent with error reports: the X-Ray cause document (JSON), left out when 1 MiB or more.
pub(crate) const HEADER_XRAY_ERROR_CAUSE: &str = "Lambda-Runtime-Function-Xray-Error-Cause";

// Environment.
pub(crate) const ENV_RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";
pub(crate) const ENV_TRACE_ID: &str = "_X_AMZN_TRACE_ID";
pub(crate) const ENV_HANDLER: &str = "_HANDLER";
pub(crate) const ENV_FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
pub(crate) const ENV_MEMORY_SIZE: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
pub(crate) const ENV_FUNCTION_VERSION: &str = "AWS_LAMBDA_FUNCTION_VERSION";
pub(crate) const ENV_LOG_GROUP: &str = "AWS_LAMBDA_LOG_GROUP_NAME";
pub(crate) const ENV_LOG_STREAM: &str = "AWS_LAMBDA_LOG_STREAM_NAME";
pub(crate) const ENV_REGION: &str = "AWS_REGION";
pub(crate) const ENV_INITIALIZATION_TYPE: &str = "AWS_LAMBDA_INITIALIZATION_TYPE";
/// Lambda Managed Instances: how many invocations one process may serve at once.
pub(crate) const ENV_MAX_CONCURRENCY: &str = "AWS_LAMBDA_MAX_CONCURRENCY";

// Error types the runtime itself sends.
pub(crate) const ERROR_INVALID_EVENT: &str = "Runtime.InvalidEvent";
pub(crate) const ERROR_HANDLER_PANIC: &str = "Runtime.HandlerPanic";
pub(crate) const ERROR_NO_SUCH_HANDLER: &str = "Runtime.NoSuchHandler";
pub(crate) const ERROR_RESPONSE_TOO_LARGE: &str = "Function.ResponseSizeTooLarge";
pub(crate) const ERROR_SERIALIZATION: &str = "Runtime.SerializationError";
pub(crate) const ERROR_STREAM_BROKEN: &str = "Runtime.StreamBroken";
/// A response that this runtime can never send (it fails on its own limits, not the network's).
pub(crate) const ERROR_UNSENDABLE_RESPONSE: &str = "Runtime.UnsendableResponse";

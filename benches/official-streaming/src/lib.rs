//! What the three reference functions send: the same 1 MiB as the harness expects, in the same
//! 64 KiB pieces as `lambda-blocking-rt`'s functions in `benches/streaming`.
//!
//! `payload` is a copy of `benches/streaming/src/payload.rs` (this workspace cannot depend on
//! that one); the harness checks every byte of every response, so a drift between the two
//! copies shows up as failures, not as wrong figures.

/// The response's size: 1 MiB.
pub const PAYLOAD_BYTES: usize = 1024 * 1024;
/// Each piece is one `send_data`, one chunk on the wire.
pub const PIECE_BYTES: usize = 64 * 1024;

/// A JSON string of exactly 1 MiB (so the buffered function can return it as JSON unchanged):
/// `"`, then letters and digits with a period of 61 bytes (so a piece out of place does not
/// match), then `"`.
pub fn payload() -> Vec<u8> {
    const ALNUM: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..PAYLOAD_BYTES)
        .map(|i| {
            if i == 0 || i == PAYLOAD_BYTES - 1 {
                b'"'
            } else {
                ALNUM[i % 61]
            }
        })
        .collect()
}

/// The payload, made once and kept for the life of the process, so each piece can be sent as
/// `Bytes::from_static` without a copy.
pub fn static_payload() -> &'static [u8] {
    Box::leak(payload().into_boxed_slice())
}

/// True when `_HANDLER` is `fail`: the function sends its first piece, then fails, so the
/// harness can see how a mid-stream error reaches the Runtime API.
pub fn fail_mode() -> bool {
    std::env::var("_HANDLER").as_deref() == Ok("fail")
}

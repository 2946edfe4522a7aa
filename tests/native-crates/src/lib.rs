//! What every function here shares: the event is raw bytes, the answer a short text the test
//! checks, so a wrong C library (or none) shows as a wrong answer, not only as a crash.

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

//! What the measured functions send, shared by `lambda-blocking-rt`'s functions in `src/bin/`,
//! the harness that checks it, and the official-runtime references: this file is also the
//! library of `benches/official` (its `[lib] path`), so it must stay std-only.

/// The response's size: 1 MiB.
pub const PAYLOAD_BYTES: usize = 1024 * 1024;
/// Each piece is one write (`send_data` in the references), one HTTP chunk on the wire.
pub const PIECE_BYTES: usize = 64 * 1024;

/// A JSON string of exactly 1 MiB (so the official buffered function can return it as JSON
/// unchanged): `"`, then letters and digits with a period of 61 bytes (so a piece out of place
/// does not match), then `"`.
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

/// The payload, made once and kept for the life of the process, so each piece can be sent
/// without a copy (`Bytes::from_static` in the references).
pub fn static_payload() -> &'static [u8] {
    Box::leak(payload().into_boxed_slice())
}

/// True when `_HANDLER` is `fail`: the streaming function sends its first piece, then fails, so
/// the harness can see how a mid-stream error reaches the Runtime API.
pub fn fail_mode() -> bool {
    std::env::var("_HANDLER").as_deref() == Ok("fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_a_json_string_of_exactly_one_mib() {
        let payload = payload();
        assert_eq!(payload.len(), PAYLOAD_BYTES);
        let text: String = serde_json::from_slice(&payload).unwrap();
        assert_eq!(text.len(), PAYLOAD_BYTES - 2);
    }

    #[test]
    fn pieces_differ_so_order_is_checked() {
        let payload = payload();
        let pieces: Vec<&[u8]> = payload.chunks(PIECE_BYTES).collect();
        assert_eq!(pieces.len(), 16);
        assert_ne!(pieces[1], pieces[2]);
    }
}

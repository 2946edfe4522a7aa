//! Functions on crates that compile C, built by `cargo lambda-zip` into static Lambda packages
//! for both architectures: rustls on ring, a bundled SQLite, zstd, a vendored OpenSSL and
//! mimalloc as the global allocator (`tests/native-crates`). Each binary runs as Lambda runs it,
//! against the fake Runtime API, and its answers show the C library did the work.
//!
//! Ignored by `cargo test --workspace`: the binaries come from `scripts/test.sh`'s
//! `native-crates` step, which builds them and runs these tests once per architecture with
//!   `NATIVE_LAMBDA_DIR`  the build's `lambda` directory (`<dir>/<arch>/<bin>/bootstrap`)
//!   `NATIVE_ARCH`        `x86_64` (run natively) or `arm64` (run by qemu-aarch64-static)

use lambda_blocking_rt_tests::{BuiltBinary, Endpoint, FakeApi, PATIENCE, Post};

const SCRIPT: &str = "scripts/test.sh (TEST_STEPS=native-crates)";
/// SHA-256 of `abc` and of nothing (FIPS 180-2's and the well-known empty digest).
const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const SHA256_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Runs `bin` on `events` and returns its answers as text, each checked to be a response, with
/// the function still running after them.
fn answers(bin: &str, events: &[&[u8]]) -> Vec<String> {
    let binary = BuiltBinary::find("NATIVE_LAMBDA_DIR", "NATIVE_ARCH", SCRIPT, bin);
    assert!(
        binary.path.with_extension("zip").is_file(),
        "{bin}: no zip beside {}",
        binary.path.display()
    );
    let api = FakeApi::start();
    let ids = api.push_events(events.iter().copied());
    let mut function = binary.start(&api, &[]);
    let answers: Vec<Post> = api.wait_answers(&ids, PATIENCE);
    let texts = answers
        .iter()
        .map(|post| {
            let text = String::from_utf8_lossy(&post.body).into_owned();
            assert_eq!(post.endpoint, Endpoint::Response, "{bin}: {text}");
            text
        })
        .collect();
    assert!(function.is_running(), "{bin}: {}", function.stderr());
    texts
}

#[test]
#[ignore = "needs the binaries the native-crates step builds"]
fn rustls_on_ring_digests_with_rings_code() {
    let answers = answers("ring-tls", &[b"abc", b""]);
    assert_eq!(answers[0], format!("sha256={SHA256_ABC}"));
    assert_eq!(answers[1], format!("sha256={SHA256_EMPTY}"));
}

#[test]
#[ignore = "needs the binaries the native-crates step builds"]
fn bundled_sqlite_stores_and_counts_the_events_lines() {
    let answers = answers("sqlite", &[b"a\nb\nc", b"one line", b""]);
    for (answer, lines) in answers.iter().zip([3, 1, 0]) {
        assert!(answer.starts_with("sqlite=3."), "{answer}");
        assert!(answer.ends_with(&format!(" lines={lines}")), "{answer}");
    }
}

#[test]
#[ignore = "needs the binaries the native-crates step builds"]
fn zstd_compresses_and_restores_the_event() {
    let text = "a line of text that repeats, as logs do\n".repeat(1600);
    let answers = answers("zstd", &[text.as_bytes()]);
    let fields: Vec<&str> = answers[0].split(' ').collect();
    assert!(fields[0].starts_with("zstd=1."), "{}", answers[0]);
    assert_eq!(fields[1], format!("in={}", text.len()));
    let out: usize = fields[2]
        .strip_prefix("out=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", answers[0]));
    assert!(out * 20 < text.len(), "repetitive text compresses: {out}");
    assert_eq!(fields[3], "same=true");
}

#[test]
#[ignore = "needs the binaries the native-crates step builds"]
fn vendored_openssl_reports_its_version_and_digests() {
    let answers = answers("openssl", &[b"abc"]);
    assert!(answers[0].starts_with("OpenSSL 3."), "{}", answers[0]);
    assert!(
        answers[0].ends_with(&format!(" sha256={SHA256_ABC}")),
        "{}",
        answers[0]
    );
}

#[test]
#[ignore = "needs the binaries the native-crates step builds"]
fn mimalloc_serves_every_allocation_of_the_runtime_and_the_handler() {
    let answers = answers("mimalloc", &[b"abc", b"second"]);
    for (answer, len) in answers.iter().zip([3, 6]) {
        let version = answer
            .strip_prefix("mimalloc=")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("{answer}"));
        assert!(version >= 100, "mi_version() gives e.g. 217: {answer}");
        // 8 MiB of 7s, one byte a page: 2048 pages.
        assert!(
            answer.ends_with(&format!(" words=10000 sum=14336 event={len}")),
            "{answer}"
        );
    }
}

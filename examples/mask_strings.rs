//! The masker's cost per string, by the kinds of values a request log holds:
//! `cargo run --release --example mask_strings [KIND]` (`Masker::mask_text` with the default
//! `[mask]`, 2M strings of each kind, unique or repeated as in `logkit sample`).
use std::time::Instant;

use _core::mask::{Counts, MaskConfig, Masker};

/// A kind of value: its name and the n-th string of it.
type Kind = (&'static str, fn(usize) -> String);

const KINDS: [Kind; 6] = [
    ("request_id", |i| format!("req_{:012x}", i * 7919 + 12345)),
    ("user_id", |i| format!("u_{}", 10000 + i % 5000)),
    ("path", |i| format!("/v1/jobs/{:012x}", i * 104729)),
    ("client_ip", |i| format!("203.0.113.{}", i % 250)),
    ("user_agent", |_| "acme-sdk-js/3.4.1".to_string()),
    ("message", |_| "request started".to_string()),
];

fn main() {
    let masker = Masker::from_config(&MaskConfig::default()).expect("default masker");
    let only = std::env::args().nth(1);
    let mut counts = Counts::default();
    for (name, make) in KINDS {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let strings: Vec<String> = (0..2_000_000).map(make).collect();
        for s in &strings[..1000] {
            std::hint::black_box(masker.mask_text(s, &mut counts));
        }
        let t = Instant::now();
        for s in &strings {
            std::hint::black_box(masker.mask_text(s, &mut counts));
        }
        let ns = t.elapsed().as_secs_f64() / strings.len() as f64 * 1e9;
        println!("{name:<12} {ns:.0} ns");
    }
}

//! The masking prefilter alone, per line: `cargo run --release --example prefilter FILE`
//! (the default `[mask]`; the file's lines in slices of 2048, as a block's slices ask it).
use std::time::Instant;

use _core::lines::split_lines;
use _core::mask::{MaskConfig, Masker};

fn main() {
    let path = std::env::args().nth(1).expect("a file of NDJSON lines");
    let data = std::fs::read(path).expect("readable");
    let lines: Vec<&[u8]> = split_lines(&data).into_iter().map(|(_, l)| l).collect();
    let masker = Masker::from_config(&MaskConfig::default()).expect("default masker");
    let mut best = f64::MAX;
    let mut flagged = 0;
    for _ in 0..7 {
        let t = Instant::now();
        flagged = 0;
        for slice in lines.chunks(2048) {
            flagged += masker
                .needs_masking_all(slice)
                .iter()
                .filter(|&&b| b)
                .count();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{} lines, {flagged} flagged: {:.3} us/line (best of 7)",
        lines.len(),
        best / lines.len() as f64 * 1e6
    );
}

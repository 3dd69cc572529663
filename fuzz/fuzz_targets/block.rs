//! The core's entry point (`Pipeline::process`, what `_core.Core.process` runs) on any bytes.
//! The first byte picks the settings: masking (none, placeholders, pseudonyms with `fields`
//! and user detectors), a line limit, a private key block open before the block, a line the
//! reader refused. The rest is the block. Any panic is a crash (libfuzzer-sys aborts on
//! one, even where the core would catch it as `internal_error`), and so is a block whose
//! lines do not each end as exactly one event or reject.
#![no_main]

use _core::harness::{check_accounting, input, pipeline, Masking};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&settings, data)) = data.split_first() else {
        return;
    };
    let masking = match settings % 3 {
        0 => Masking::None,
        1 => Masking::Placeholder,
        _ => Masking::Pseudonyms,
    };
    let max_line = (settings & 4 != 0).then_some(64);
    let in_key = if settings & 8 != 0 { 40 } else { 0 };
    let input = input(data, max_line, in_key, settings & 16 != 0);
    let out = pipeline(masking)
        .process(&input)
        .expect("a block with the ingest's columns always gives its batches");
    if let Err(error) = check_accounting(&input, &out) {
        panic!("line accounting: {error}");
    }
});

//! Where one core's time goes per line, one phase at a time:
//! `cargo run --release --example phases FILE [FORMAT.toml]` (the alias table: a format file's
//! `[fields]`, by default logkit/formats/generic.toml; without one nothing is normalised).
use std::time::Instant;

use _core::json::{dumps_record, parse_record};
use _core::lines::split_lines;
use _core::normalize::{AliasTable, Normalizer};

fn main() {
    let path = std::env::args().nth(1).expect("a file of NDJSON lines");
    let data = std::fs::read(path).expect("readable");
    let lines = split_lines(&data);
    let format = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "logkit/formats/generic.toml".to_string());
    let table: AliasTable = match std::fs::read_to_string(&format) {
        Ok(text) => _core::normalize::alias_table_from_toml(&text).expect("a format file"),
        Err(_) => {
            eprintln!("no {format}: an empty alias table");
            AliasTable::new()
        }
    };
    let normalizer = Normalizer::new(&Vec::new(), &table).expect("normalizer");
    let n = lines.len() as f64;
    let (mut parse, mut normalize, mut dumps, mut free) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..3 {
        for (_, line) in &lines {
            let t = Instant::now();
            let Ok(record) = parse_record(line) else {
                continue;
            };
            let t1 = Instant::now();
            let event = normalizer.normalize(record);
            let t2 = Instant::now();
            let attrs = dumps_record(&event.attrs);
            let t3 = Instant::now();
            drop(event);
            drop(attrs);
            let t4 = Instant::now();
            parse += (t1 - t).as_secs_f64();
            normalize += (t2 - t1).as_secs_f64();
            dumps += (t3 - t2).as_secs_f64();
            free += (t4 - t3).as_secs_f64();
        }
    }
    let mut tree = 0.0;
    for _ in 0..3 {
        for (_, line) in &lines {
            let t = Instant::now();
            let parsed = std::str::from_utf8(line).ok().map(_core::tree::parse);
            tree += t.elapsed().as_secs_f64();
            drop(parsed);
        }
    }
    println!("tree parse {:6.2} us/line", tree / n / 3.0 * 1e6);
    for (name, s) in [
        ("parse", parse),
        ("normalize", normalize),
        ("dumps", dumps),
        ("free", free),
    ] {
        println!("{name:<10} {:6.2} us/line", s / n / 3.0 * 1e6);
    }
}

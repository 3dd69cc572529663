//! The shapes of trace and span ids (hex runs, UUIDs, W3C traceparents), checked by
//! position: ids are on most lines, read by the converters and looked at again by the masker.

/// Whether every byte is an ASCII hex digit (true of none). No early exit, so that the
/// compiler checks many bytes an instruction: ids are short and nearly always all hex.
pub fn all_hex(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |all, &b| {
        let lower = b | 0x20; // 'A'..='F' as 'a'..='f'; digits stay as they are
        all & ((b.wrapping_sub(b'0') < 10) | (lower.wrapping_sub(b'a') < 6))
    })
}

/// Whether `s` is hex in runs of these lengths, one `-` between runs.
fn hex_runs(s: &[u8], runs: &[usize]) -> bool {
    let mut at = 0;
    for (i, &run) in runs.iter().enumerate() {
        if i > 0 {
            if s.get(at) != Some(&b'-') {
                return false;
            }
            at += 1;
        }
        match s.get(at..at + run) {
            Some(part) if all_hex(part) => at += run,
            _ => return false,
        }
    }
    at == s.len()
}

/// A W3C traceparent's trace and span ids (`00-<32 hex>-<16 hex>-01`, each part hex).
pub fn traceparent(s: &str) -> Option<(&str, &str)> {
    hex_runs(s.as_bytes(), &[2, 32, 16, 2]).then(|| (&s[3..35], &s[36..52]))
}

/// A UUID written with its dashes (8-4-4-4-12 hex).
pub fn is_uuid(s: &str) -> bool {
    hex_runs(s.as_bytes(), &[8, 4, 4, 4, 12])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks by position answer as splitting on `-` and checking each part did.
    fn by_parts(s: &str, runs: &[usize]) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        parts.len() == runs.len()
            && parts
                .iter()
                .zip(runs)
                .all(|(p, &n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    #[test]
    fn hex_by_position_is_hex_by_parts() {
        for byte in 0..=255u8 {
            assert_eq!(byte.is_ascii_hexdigit(), all_hex(&[byte]), "{byte}");
        }
        let w3c = "00-5759e988bd862e3fe1be46a994272793-0fa34266ccfdba9b-01";
        let uuid = "f4562f41-1616-4689-af58-825fc438fcff";
        let mut cases = vec![w3c.to_string(), uuid.to_string(), String::new(), "-".into()];
        for base in [w3c, uuid] {
            for at in 0..base.len() {
                for c in ['-', 'g', 'G', 'A', '0', '\u{e9}'] {
                    let mut s = base.to_string();
                    s.replace_range(at..at + 1, c.encode_utf8(&mut [0; 4]));
                    cases.push(s);
                }
                cases.push(format!("{}{}", &base[..at], &base[at + 1..]));
            }
            cases.push(format!("{base}-"));
            cases.push(format!("-{base}"));
        }
        for s in &cases {
            assert_eq!(
                by_parts(s, &[2, 32, 16, 2]),
                traceparent(s).is_some(),
                "{s}"
            );
            assert_eq!(by_parts(s, &[8, 4, 4, 4, 12]), is_uuid(s), "{s}");
        }
        assert_eq!(
            Some(("5759e988bd862e3fe1be46a994272793", "0fa34266ccfdba9b")),
            traceparent(w3c)
        );
    }
}

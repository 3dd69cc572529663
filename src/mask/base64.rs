//! Strict base64, as `base64.b64decode(text, validate=True)` (binascii's strict mode in Python
//! 3.11): the `auth` detector masks a `Basic` credential only if it decodes to `user:pass`, so
//! "Basic auth failed" is left alone.

fn value(ch: u8) -> Option<u8> {
    match ch {
        b'A'..=b'Z' => Some(ch - b'A'),
        b'a'..=b'z' => Some(ch - b'a' + 26),
        b'0'..=b'9' => Some(ch - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// The decoded bytes, or None wherever Python raises binascii.Error.
pub fn decode_strict(text: &[u8]) -> Option<Vec<u8>> {
    if text.first() == Some(&b'=') {
        return None; // leading padding
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let (mut quad, mut left, mut pads) = (0u8, 0u8, 0u8);
    let mut padding = false;
    for (i, &ch) in text.iter().enumerate() {
        if ch == b'=' {
            // Python 3.11 accepts padding after a whole quad ("YWJj="); 3.13 refuses it.
            padding = true;
            if quad >= 2 && {
                pads += 1;
                quad + pads >= 4
            } {
                if i + 1 < text.len() {
                    return None; // data after the padding
                }
                return Some(out);
            }
            continue;
        }
        let v = value(ch)?;
        if padding {
            return None; // discontinuous padding
        }
        pads = 0;
        match quad {
            0 => {
                quad = 1;
                left = v;
            }
            1 => {
                quad = 2;
                out.push((left << 2) | (v >> 4));
                left = v & 0x0f;
            }
            2 => {
                quad = 3;
                out.push((left << 4) | (v >> 2));
                left = v & 0x03;
            }
            _ => {
                quad = 0;
                out.push((left << 6) | v);
                left = 0;
            }
        }
    }
    if quad != 0 {
        return None; // incorrect padding, or one character too many
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_credentials_decode() {
        assert_eq!(
            Some(b"user:password".to_vec()),
            decode_strict(b"dXNlcjpwYXNzd29yZA==")
        );
        assert_eq!(Some(b"user:pass".to_vec()), decode_strict(b"dXNlcjpwYXNz"));
        assert_eq!(Some(b"user:pass".to_vec()), decode_strict(b"dXNlcjpwYXNz="));
        assert_eq!(Some(b"abc".to_vec()), decode_strict(b"YWJj="));
    }

    #[test]
    fn what_strict_mode_refuses() {
        for text in [
            &b"YQ="[..],
            b"=YQ",
            b"YQ==YQ==",
            b"YQ=a",
            b"a.b-",
            b"abcde",
            b"YQ===",
            b"Y=",
        ] {
            assert_eq!(
                None,
                decode_strict(text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }
}

//! IPv6 addresses as Python's `ipaddress.IPv6Address` reads and writes them: the `ipv6`
//! detector keeps a candidate only if it parses, and its pseudonym is taken over the
//! compressed form, so one address gets one pseudonym however it was written.

/// An address and its zone (`fe80::1%eth0`).
pub struct Ipv6 {
    hextets: [u16; 8],
    scope: Option<String>,
}

impl Ipv6 {
    /// Parse as Python 3.11's `IPv6Address(text)`; None where it raises.
    pub fn parse(text: &str) -> Option<Ipv6> {
        if text.contains('/') {
            return None;
        }
        let (addr, scope) = match text.split_once('%') {
            None => (text, None),
            Some((addr, scope)) => {
                if scope.is_empty() || scope.contains('%') {
                    return None;
                }
                (addr, Some(scope.to_string()))
            }
        };
        Some(Ipv6 {
            hextets: parse_hextets(addr)?,
            scope,
        })
    }
}

impl std::fmt::Display for Ipv6 {
    /// `str(IPv6Address)`: lowercase hex without leading zeros, the longest run of two or more
    /// zero hextets (the first of equals) as `::`, then `%zone`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (mut best_start, mut best_len) = (usize::MAX, 0usize);
        let (mut start, mut len) = (usize::MAX, 0usize);
        for (i, &h) in self.hextets.iter().enumerate() {
            if h == 0 {
                len += 1;
                if start == usize::MAX {
                    start = i;
                }
                if len > best_len {
                    best_len = len;
                    best_start = start;
                }
            } else {
                len = 0;
                start = usize::MAX;
            }
        }
        let parts: Vec<String> = self.hextets.iter().map(|h| format!("{h:x}")).collect();
        if best_len > 1 {
            let head = parts[..best_start].join(":");
            let tail = parts[best_start + best_len..].join(":");
            write!(f, "{head}::{tail}")?;
        } else {
            write!(f, "{}", parts.join(":"))?;
        }
        if let Some(scope) = &self.scope {
            write!(f, "%{scope}")?;
        }
        Ok(())
    }
}

fn parse_hextet(part: &str) -> Option<u16> {
    if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(part, 16).ok()
}

/// `IPv4Address(text)._ip`: four decimal octets, no leading zeros, each at most 255.
pub fn parse_ipv4(text: &str) -> Option<u32> {
    let octets: Vec<&str> = text.split('.').collect();
    if octets.len() != 4 {
        return None;
    }
    let mut value = 0u32;
    for octet in octets {
        if octet.is_empty() || octet.len() > 3 || !octet.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if octet != "0" && octet.starts_with('0') {
            return None;
        }
        let n: u32 = octet.parse().ok()?;
        if n > 255 {
            return None;
        }
        value = (value << 8) | n;
    }
    Some(value)
}

/// `IPv6Address._ip_int_from_string`, step by step.
fn parse_hextets(text: &str) -> Option<[u16; 8]> {
    if text.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = text.split(':').map(str::to_string).collect();
    if parts.len() < 3 {
        return None;
    }
    if parts[parts.len() - 1].contains('.') {
        let v4 = parse_ipv4(&parts.pop()?)?;
        parts.push(format!("{:x}", (v4 >> 16) & 0xFFFF));
        parts.push(format!("{:x}", v4 & 0xFFFF));
    }
    if parts.len() > 9 {
        return None;
    }
    let mut skip = None;
    for (i, part) in parts.iter().enumerate().take(parts.len() - 1).skip(1) {
        if part.is_empty() {
            if skip.is_some() {
                return None;
            }
            skip = Some(i);
        }
    }
    let n = parts.len();
    let (hi, lo, skipped) = match skip {
        Some(index) => {
            let mut hi = index;
            let mut lo = n - index - 1;
            if parts[0].is_empty() {
                hi -= 1;
                if hi != 0 {
                    return None;
                }
            }
            if parts[n - 1].is_empty() {
                lo -= 1;
                if lo != 0 {
                    return None;
                }
            }
            let used = hi + lo;
            if used >= 8 {
                return None;
            }
            (hi, lo, 8 - used)
        }
        None => {
            if n != 8 || parts[0].is_empty() || parts[n - 1].is_empty() {
                return None;
            }
            (n, 0, 0)
        }
    };
    let mut hextets = [0u16; 8];
    for i in 0..hi {
        hextets[i] = parse_hextet(&parts[i])?;
    }
    for k in 0..lo {
        hextets[hi + skipped + k] = parse_hextet(&parts[n - lo + k])?;
    }
    Some(hextets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> Option<String> {
        Ipv6::parse(text).map(|a| a.to_string())
    }

    #[test]
    fn addresses_python_accepts_and_how_it_writes_them() {
        assert_eq!(Some("::1".into()), canonical("::1"));
        assert_eq!(Some("fe80::1%eth0".into()), canonical("fe80::1%eth0"));
        assert_eq!(
            Some("2001:db8:85a3::8a2e:370:7334".into()),
            canonical("2001:0db8:85a3:0000:0000:8a2e:0370:7334")
        );
        assert_eq!(Some("::ffff:a00:1".into()), canonical("::ffff:10.0.0.1"));
        assert_eq!(Some("::".into()), canonical("::"));
        assert_eq!(Some("1:0:1::".into()), canonical("1:0:1:0:0:0:0:0"));
    }

    #[test]
    fn what_python_rejects() {
        for text in [
            "10:01:02",
            "1:2:3:4:5:6:7",
            ":1:2::",
            "1::2::3",
            "12345::1",
            "::1%",
            "1:2:3:4:5:6:7:8:9",
            "::01.2.3.4",
            "g::1",
        ] {
            assert!(Ipv6::parse(text).is_none(), "{text}");
        }
    }
}

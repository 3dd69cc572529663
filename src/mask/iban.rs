//! International Bank Account Numbers (ISO 13616): where one stands in text, and its check.
//!
//! An IBAN is a country's two letters, two check digits and the country's account number
//! (BBAN) of a fixed length, printed in one run or in groups of four with single spaces. The
//! length per country and the ISO 7064 mod 97-10 check together leave a run of letters and
//! digits that merely looks like one (an order id, an uppercase hex id) a chance of about 1 in
//! 97 of passing, where it has its country's exact length at all.

/// Each IBAN country's length, whole (the SWIFT IBAN registry), by its code, sorted.
#[rustfmt::skip]
const LENGTHS: [(&[u8; 2], usize); 79] = [
    (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AT", 20), (b"AZ", 28), (b"BA", 20),
    (b"BE", 16), (b"BG", 22), (b"BH", 22), (b"BR", 29), (b"BY", 28), (b"CH", 21),
    (b"CR", 22), (b"CY", 28), (b"CZ", 24), (b"DE", 22), (b"DK", 18), (b"DO", 28),
    (b"EE", 20), (b"EG", 29), (b"ES", 24), (b"FI", 18), (b"FO", 18), (b"FR", 27),
    (b"GB", 22), (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GR", 27), (b"GT", 28),
    (b"HR", 21), (b"HU", 28), (b"IE", 22), (b"IL", 23), (b"IQ", 23), (b"IS", 26),
    (b"IT", 27), (b"JO", 30), (b"KW", 30), (b"KZ", 20), (b"LB", 28), (b"LC", 32),
    (b"LI", 21), (b"LT", 20), (b"LU", 20), (b"LV", 21), (b"LY", 25), (b"MC", 27),
    (b"MD", 24), (b"ME", 22), (b"MK", 19), (b"MR", 27), (b"MT", 31), (b"MU", 30),
    (b"NL", 18), (b"NO", 15), (b"PK", 24), (b"PL", 28), (b"PS", 29), (b"PT", 25),
    (b"QA", 29), (b"RO", 24), (b"RS", 22), (b"SA", 24), (b"SC", 31), (b"SD", 18),
    (b"SE", 24), (b"SI", 19), (b"SK", 24), (b"SM", 27), (b"ST", 25), (b"SV", 28),
    (b"TL", 23), (b"TN", 24), (b"TR", 26), (b"UA", 29), (b"VA", 22), (b"VG", 24),
    (b"XK", 20),
];

/// The longest IBAN of any country.
const LONGEST: usize = 34;

/// The end of an IBAN that begins at `p` of `b`, None if none does. Its letters are
/// uppercase; it stands alone (no letter, digit or `_` before or after it); printed in
/// groups, every group but the last has four characters and one space after it.
pub fn iban_at(b: &[u8], p: usize) -> Option<usize> {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    if p > 0 && word(&b[p - 1]) {
        return None;
    }
    let code = b.get(p..p + 2)?;
    let length = LENGTHS
        .binary_search_by(|(c, _)| c.as_slice().cmp(code))
        .map(|i| LENGTHS[i].1)
        .ok()?;
    let grouped = b.get(p + 4) == Some(&b' ');
    let mut chars = [0u8; LONGEST];
    let mut at = p;
    for (n, slot) in chars[..length].iter_mut().enumerate() {
        if grouped && n > 0 && n % 4 == 0 {
            if b.get(at) != Some(&b' ') {
                return None;
            }
            at += 1;
        }
        let c = *b.get(at)?;
        let fits = match n {
            0 | 1 => c.is_ascii_uppercase(),
            2 | 3 => c.is_ascii_digit(),
            _ => c.is_ascii_uppercase() || c.is_ascii_digit(),
        };
        if !fits {
            return None;
        }
        *slot = c;
        at += 1;
    }
    if b.get(at).is_some_and(word) {
        return None;
    }
    checks(&chars[..length]).then_some(at)
}

/// ISO 7064 mod 97-10 over the IBAN with its first four characters moved to the end, each
/// letter read as two digits (A = 10 ... Z = 35): 1 for a valid one.
fn checks(iban: &[u8]) -> bool {
    let (head, rest) = iban.split_at(4);
    let remainder = rest.iter().chain(head).fold(0u32, |r, &c| {
        if c.is_ascii_digit() {
            (r * 10 + u32::from(c - b'0')) % 97
        } else {
            (r * 100 + u32::from(c - b'A') + 10) % 97
        }
    });
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Option<&str> {
        let p = text.find(|c: char| c.is_ascii_uppercase())?;
        iban_at(text.as_bytes(), p).map(|end| &text[p..end])
    }

    #[test]
    fn the_registrys_examples_pass_in_one_run_and_in_groups() {
        for iban in [
            "DE89370400440532013000",
            "GB29NWBK60161331926819",
            "NL91ABNA0417164300",
            "FR1420041010050500013M02606",
            "NO9386011117947",
            "MT84MALT011000012345MTLCAST001S",
            "BE68539007547034",
        ] {
            assert_eq!(Some(iban), found(&format!("paid to {iban}.")), "{iban}");
            let grouped = iban
                .as_bytes()
                .chunks(4)
                .map(|g| std::str::from_utf8(g).unwrap());
            let grouped = grouped.collect::<Vec<_>>().join(" ");
            assert_eq!(Some(grouped.as_str()), found(&format!("to {grouped}, ok")));
        }
    }

    #[test]
    fn a_wrong_check_length_country_or_neighbour_is_no_iban() {
        for text in [
            "DE89370400440532013001",    // check fails
            "DE8937040044053201300",     // a character short
            "DE893704004405320130000",   // one too many: glued to the next
            "ZZ89370400440532013000",    // no such country
            "xDE89370400440532013000",   // glued to a letter before
            "DE89 3704 0044 0532013000", // groups, then none
            "DE89 37040044 0532 0130 00",
            "de89370400440532013000",
        ] {
            let p = text.find("DE").or(text.find("ZZ")).unwrap_or(0);
            assert_eq!(None, iban_at(text.as_bytes(), p), "{text}");
        }
    }

    #[test]
    fn the_lengths_are_sorted_for_the_search() {
        assert!(LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(LENGTHS.iter().all(|&(_, n)| (15..=LONGEST).contains(&n)));
    }
}

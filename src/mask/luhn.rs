//! Card numbers: the Luhn check, the group layouts cards are printed in, and the search for a
//! card among the digit groups of a run (`card` in logkit/mask.py).

/// The Luhn checksum over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let mut total = 0u32;
    let mut double = false;
    for &ch in digits.iter().rev() {
        let mut d = u32::from(ch - b'0');
        if double {
            d = if d > 4 { d * 2 - 9 } else { d * 2 };
        }
        total += d;
        double = !double;
    }
    total.is_multiple_of(10)
}

/// 13 to 19 digits, a first digit of a major network (2-6), and a valid Luhn check: the first
/// digit rule keeps epoch times in ms/µs/ns (they start with 1 until 2033) from being cards.
pub fn is_card_number(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && (b'2'..=b'6').contains(&digits[0]) && luhn(digits)
}

/// Group lengths as cards are written: one run, 4-4-4-4 (the last group 1-4 digits, a fifth of
/// 1-3 for 19 digits), or Amex/Diners 4-6-5 and 4-6-4.
pub fn card_layout(groups: &[usize]) -> bool {
    match groups {
        [_] => true,
        [4, 6, 5] | [4, 6, 4] => true,
        [4, 4, 4, 4, last] => *last <= 3,
        [4, 4, 4, last] => *last <= 4,
        _ => false,
    }
}

/// The cards in a run of digit groups (digits with single spaces or dashes between them), as
/// byte spans of `run`: from each group, the longest run of at most five whole groups laid out
/// like a card whose digits pass; at most five, so a long run of numbers stays linear.
pub fn cards_in_run(run: &str) -> Vec<(usize, usize)> {
    let bytes = run.as_bytes();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push((start, i));
        } else {
            i += 1;
        }
    }
    let mut cards = Vec::new();
    let mut digits = Vec::with_capacity(24);
    let mut lengths = Vec::with_capacity(5);
    let mut i = 0;
    while i < groups.len() {
        let mut found = None;
        for j in (i + 1..=groups.len().min(i + 5)).rev() {
            let window = &groups[i..j];
            lengths.clear();
            lengths.extend(window.iter().map(|(a, b)| b - a));
            if !card_layout(&lengths) {
                continue;
            }
            let (first, last) = (window[0].0, window[window.len() - 1].1);
            digits.clear();
            digits.extend(bytes[first..last].iter().filter(|b| b.is_ascii_digit()));
            if is_card_number(&digits) {
                found = Some((j, first, last));
                break;
            }
        }
        match found {
            Some((j, first, last)) => {
                cards.push((first, last));
                i = j;
            }
            None => i += 1,
        }
    }
    cards
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_a_changed_digit() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(luhn(b"378282246310005"));
    }

    #[test]
    fn epoch_times_are_not_cards_because_of_their_first_digit() {
        assert!(luhn(b"1000000000000008"));
        assert!(!is_card_number(b"1000000000000008"));
    }

    #[test]
    fn layouts_as_cards_are_printed() {
        assert!(card_layout(&[16]));
        assert!(card_layout(&[4, 4, 4, 4]));
        assert!(card_layout(&[4, 6, 5]));
        assert!(card_layout(&[4, 4, 4, 1]));
        assert!(card_layout(&[4, 4, 4, 4, 3]));
        assert!(!card_layout(&[2, 2, 2, 2, 2, 2, 2, 2]));
        assert!(!card_layout(&[4, 4, 4, 5]));
    }

    #[test]
    fn the_card_among_other_groups_is_found() {
        let run = "12 4111 1111 1111 1111 99";
        assert_eq!(vec![(3, 22)], cards_in_run(run));
        assert!(cards_in_run("41 11 11 11 11 11 11 11").is_empty());
    }
}

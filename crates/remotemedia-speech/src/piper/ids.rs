//! A sentence's phonemes as a voice's ids, as Piper makes them: language-switch marks such as
//! `(en)` removed, each clause followed by its terminator (and a space after `, : ;` and an
//! ellipsis), the text decomposed (NFD) into code points, each mapped through the voice's
//! `phoneme_id_map`, then `^ _ id _ id _ … $` (`_` is padding). Symbols the voice does not know
//! are left out.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// Phoneme → ids, from a voice's `phoneme_id_map`.
pub type PhonemeIds = HashMap<char, Vec<i64>>;

/// One sentence's phoneme text: each clause's phonemes with its terminator.
pub fn sentence_phonemes(clauses: &[(String, &str)]) -> String {
    let mut text = String::new();
    for (k, (phonemes, terminator)) in clauses.iter().enumerate() {
        text.push_str(&without_language_marks(phonemes));
        text.push_str(terminator);
        let last = k + 1 == clauses.len();
        if matches!(*terminator, "," | ":" | ";") || (terminator.is_empty() && !last) {
            text.push(' ');
        }
    }
    text
}

/// `(en)`, `(fr)`: where espeak switched language.
fn without_language_marks(phonemes: &str) -> String {
    let mut out = String::with_capacity(phonemes.len());
    let mut rest = phonemes;
    while let Some(open) = rest.find('(') {
        match rest[open..].find(')') {
            Some(len) if len > 1 => {
                out.push_str(&rest[..open]);
                rest = &rest[open + len + 1..];
            }
            _ => break,
        }
    }
    out.push_str(rest);
    out
}

/// The ids of one sentence's phoneme text; also the symbols the voice does not know.
pub fn ids(text: &str, map: &PhonemeIds) -> (Vec<i64>, Vec<char>) {
    let (bos, eos, pad) = (lookup(map, '^'), lookup(map, '$'), lookup(map, '_'));
    let mut out = Vec::with_capacity(2 * text.len() + 3);
    out.extend_from_slice(bos);
    out.extend_from_slice(pad);
    let mut unknown = Vec::new();
    for c in text.nfd() {
        match map.get(&c) {
            Some(ids) => {
                out.extend_from_slice(ids);
                out.extend_from_slice(pad);
            }
            None => unknown.push(c),
        }
    }
    out.extend_from_slice(eos);
    (out, unknown)
}

fn lookup(map: &PhonemeIds, c: char) -> &[i64] {
    map.get(&c).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joe_like_map() -> PhonemeIds {
        // The joe voice's ids for these symbols (see tests/piper.rs for the whole voice).
        [
            ('_', 0),
            ('^', 1),
            ('$', 2),
            (' ', 3),
            (',', 8),
            ('.', 10),
            ('h', 20),
            ('ə', 59),
            ('l', 24),
            ('ˈ', 120),
            ('o', 27),
            ('ʊ', 100),
            ('ð', 41),
            ('ɛ', 61),
            ('ɹ', 88),
        ]
        .into_iter()
        .map(|(c, id)| (c, vec![id]))
        .collect()
    }

    #[test]
    fn a_sentence_becomes_piper_ids() {
        let text = sentence_phonemes(&[("həlˈoʊ ðˈɛɹ".to_string(), ".")]);
        assert_eq!(text, "həlˈoʊ ðˈɛɹ.");
        // Piper's own ids for "Hello there." with the joe voice.
        let (ids, unknown) = ids(&text, &joe_like_map());
        assert_eq!(
            ids,
            [
                1, 0, 20, 0, 59, 0, 24, 0, 120, 0, 27, 0, 100, 0, 3, 0, 41, 0, 120, 0, 61, 0, 88, 0, 10, 0, 2
            ]
        );
        assert!(unknown.is_empty());
    }

    #[test]
    fn clauses_marks_and_unknown_symbols() {
        let text = sentence_phonemes(&[("(en)hə(fr)".to_string(), ","), ("lo".to_string(), "")]);
        assert_eq!(text, "hə, lo");
        let (ids, unknown) = ids("hx", &joe_like_map());
        assert_eq!((ids, unknown), (vec![1, 0, 20, 0, 2], vec!['x']));
        assert_eq!(sentence_phonemes(&[("a".into(), ""), ("b".into(), "")]), "a b");
    }
}

//! Text cut into sentences of clauses, as espeak-ng (and so Piper) cuts it: a clause ends at
//! `. ? ! , : ;` followed by a space (closing quotes and brackets may come between) or the end of
//! the text, and at an ellipsis; a sentence ends at `. ? !` and at the end of the text. Two
//! corrections over Piper: a period after a common abbreviation (`Dr.`, `Mr.`) or followed by a
//! lowercase word ends nothing, and a clause after an ellipsis is kept apart by a space.

/// One clause: its words and the punctuation that ended it (`""` for an ellipsis or the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The clause's words, without its terminator.
    pub text: String,
    /// `.`, `?`, `!`, `,`, `:`, `;` or `""`.
    pub terminator: &'static str,
}

/// Abbreviations whose period ends no sentence.
const ABBREVIATIONS: [&str; 14] = [
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "mt", "no", "fig", "approx",
];

fn terminator(c: char) -> Option<&'static str> {
    Some(match c {
        '.' => ".",
        '?' => "?",
        '!' => "!",
        ',' => ",",
        ':' => ":",
        ';' => ";",
        _ => return None,
    })
}

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '»' | '”' | '’')
}

/// The sentences of `text`, each a list of clauses (clauses with no letter or digit are dropped).
pub fn sentences(text: &str) -> Vec<Vec<Clause>> {
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let mut sentences = Vec::new();
    let mut sentence: Vec<Clause> = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    let push = |current: &mut String, sentence: &mut Vec<Clause>, terminator: &'static str| {
        let words = current.split_whitespace().collect::<Vec<_>>().join(" ");
        current.clear();
        if words.chars().any(char::is_alphanumeric) {
            sentence.push(Clause {
                text: words,
                terminator,
            });
        }
    };
    while i < chars.len() {
        let c = chars[i];
        // An ellipsis ("..." or "…") ends a clause, not a sentence.
        let dots = chars[i..].iter().take_while(|&&d| d == '.').count();
        if c == '…' || dots >= 3 {
            push(&mut current, &mut sentence, "");
            i += if c == '…' { 1 } else { dots };
            continue;
        }
        let Some(mark) = terminator(c) else {
            current.push(c);
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < chars.len() && is_closing(chars[j]) {
            j += 1;
        }
        let at_break = j == chars.len() || chars[j] == ' ';
        if !at_break || (mark == "." && !ends_sentence(&current, &chars[j..])) {
            current.push(c);
            i += 1;
            continue;
        }
        push(&mut current, &mut sentence, mark);
        if matches!(mark, "." | "?" | "!") && !sentence.is_empty() {
            sentences.push(std::mem::take(&mut sentence));
        }
        i = j;
    }
    push(&mut current, &mut sentence, "");
    if !sentence.is_empty() {
        sentences.push(sentence);
    }
    sentences
}

/// Whether a period after `before` and followed by `after` ends a sentence: not after a common
/// abbreviation, and not when the next word starts in lowercase.
fn ends_sentence(before: &str, after: &[char]) -> bool {
    let word = before
        .rsplit(' ')
        .next()
        .unwrap_or("")
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if ABBREVIATIONS.contains(&word.as_str()) {
        return false;
    }
    let next = after.iter().find(|c| **c != ' ');
    !next.is_some_and(|c| c.is_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> Vec<Vec<(String, &'static str)>> {
        sentences(text)
            .into_iter()
            .map(|s| s.into_iter().map(|c| (c.text, c.terminator)).collect())
            .collect()
    }

    fn owned(s: &[&[(&str, &'static str)]]) -> Vec<Vec<(String, &'static str)>> {
        s.iter()
            .map(|c| c.iter().map(|(t, m)| (t.to_string(), *m)).collect())
            .collect()
    }

    #[test]
    fn sentences_end_at_full_stops_and_clauses_at_commas() {
        assert_eq!(
            shown("Hello there. How are you, today?"),
            owned(&[&[("Hello there", ".")], &[("How are you", ","), ("today", "?")]])
        );
        assert_eq!(
            shown("One: two; three!"),
            owned(&[&[("One", ":"), ("two", ";"), ("three", "!")]])
        );
    }

    #[test]
    fn numbers_abbreviations_and_lowercase_words_do_not_end_a_sentence() {
        assert_eq!(
            shown("It costs 3.50, e.g. a lot. Dr. Smith came."),
            owned(&[
                &[("It costs 3.50", ","), ("e.g. a lot", ".")],
                &[("Dr. Smith came", ".")]
            ])
        );
    }

    #[test]
    fn quotes_ellipses_and_a_missing_final_mark() {
        assert_eq!(
            shown("\"Stop.\" Then... nothing\nmore"),
            owned(&[&[("\"Stop", ".")], &[("Then", ""), ("nothing more", "")]])
        );
        assert_eq!(shown("   "), owned(&[]));
        assert_eq!(shown("?!"), owned(&[]));
    }
}

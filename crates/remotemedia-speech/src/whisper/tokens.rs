//! Whisper's tokens as text: the model's `vocabulary.txt` (one token per line, id = line number)
//! holds byte-level BPE strings (GPT-2's byte-to-character map: printable bytes stand for
//! themselves, the others for characters from U+0100 on). A transcript is its text tokens' strings
//! joined, mapped back to bytes, read as UTF-8.

use std::collections::HashMap;
use std::path::Path;

/// End of text.
pub const EOT: u32 = 50_256;
/// Start of transcript.
pub const SOT: u32 = 50_257;
/// No speech (its probability at the start decides whether a window is silence).
pub const NO_SPEECH: u32 = 50_361;
/// No timestamps.
pub const NO_TIMESTAMPS: u32 = 50_362;
/// The first timestamp token (0.00 s; one per 20 ms).
pub const TIMESTAMP_BEGIN: u32 = 50_363;

/// A model's vocabulary.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    tokens: Vec<String>,
    bytes: HashMap<char, u8>,
}

/// GPT-2's map from characters back to the bytes they stand for.
fn byte_decoder() -> HashMap<char, u8> {
    let printable =
        |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    let mut map = HashMap::with_capacity(256);
    let mut extra = 0u32;
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            extra += 1;
            char::from_u32(255 + extra).unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        map.insert(c, b);
    }
    map
}

impl Vocabulary {
    /// Reads `vocabulary.txt`.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Ok(Self::from_lines(text.lines()))
    }

    /// A vocabulary of these token strings, in id order.
    pub fn from_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            tokens: lines.into_iter().map(str::to_string).collect(),
            bytes: byte_decoder(),
        }
    }

    /// How many tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether it holds no token.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The text of `ids` (special tokens and timestamps are left out).
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids.iter().filter(|&&id| id < EOT) {
            if let Some(token) = self.tokens.get(id as usize) {
                bytes.extend(token.chars().filter_map(|c| self.bytes.get(&c)));
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_strings_become_text() {
        // "Ġ" (U+0120) stands for a space; "Ã©" for the two bytes of "é".
        let vocab = Vocabulary::from_lines(["Ġhello", "Ġcaf", "Ã©", "."]);
        assert_eq!(vocab.decode(&[0, 1, 2, 3]), " hello café.");
        // Special and timestamp tokens are not text; unknown ids are skipped.
        assert_eq!(vocab.decode(&[SOT, 0, TIMESTAMP_BEGIN, 3, 999, EOT]), " hello.");
        assert_eq!(byte_decoder().len(), 256);
    }
}

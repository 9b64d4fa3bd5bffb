//! IPA phonemes from `espeak-ng`, run as a separate process (espeak-ng is GPL-3: it is called,
//! never linked). One process per voice language serves many clauses: started without a text
//! argument, espeak-ng reads standard input a line at a time and answers each line at once. A
//! fixed sentinel line after each clause marks where its answer ends (a clause may answer with
//! several lines, or an empty one).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The program run.
pub const PROGRAM: &str = "espeak-ng";

/// What to install when espeak-ng is missing.
pub const INSTALL: &str =
    "install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng; macOS: brew install espeak-ng)";

/// A line whose phonemes mark the end of an answer.
const SENTINEL: &str = "zzxq qxzz";

/// espeak-ng reads at most 999 bytes a line; longer clauses are cut at a word.
const MAX_LINE: usize = 900;

/// A running `espeak-ng -q --ipa -v VOICE`.
pub struct Espeak {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    sentinel: String,
}

impl Espeak {
    /// Starts espeak-ng for `voice` (an espeak voice name such as `en-us`).
    pub fn start(voice: &str) -> Result<Self, String> {
        let mut child = Command::new(PROGRAM)
            .args(["-q", "--ipa", "-v", voice])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {PROGRAM} ({e}): {INSTALL}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(format!("{PROGRAM} started without pipes"));
        };
        let mut espeak = Self {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            sentinel: String::new(),
        };
        espeak.write_line(SENTINEL)?;
        espeak.sentinel = espeak.read_line()?;
        if espeak.sentinel.is_empty() {
            return Err(format!(
                "{PROGRAM} -v {voice} gives no phonemes: is the voice `{voice}` installed?"
            ));
        }
        Ok(espeak)
    }

    fn write_line(&mut self, line: &str) -> Result<(), String> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("{PROGRAM} stopped: {e}"))
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(format!("{PROGRAM} stopped answering")),
            Ok(_) => Ok(line.trim().to_string()),
            Err(e) => Err(format!("{PROGRAM} answered unreadably: {e}")),
        }
    }

    /// The IPA phonemes of one clause (its words, without the terminator), words separated by
    /// spaces.
    pub fn phonemes(&mut self, clause: &str) -> Result<String, String> {
        let mut words = Vec::new();
        for part in lines_of(clause) {
            self.write_line(&part)?;
            self.write_line(SENTINEL)?;
            loop {
                let line = self.read_line()?;
                if line == self.sentinel {
                    break;
                }
                words.extend(line.split_whitespace().map(str::to_string));
            }
        }
        Ok(words.join(" "))
    }
}

/// `clause` as lines espeak-ng takes whole: no line breaks, at most [`MAX_LINE`] bytes each, cut
/// between words; a leading `-` cannot be read as an option (the text goes through standard
/// input, never the command line).
fn lines_of(clause: &str) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in clause.split_whitespace() {
        let last = lines.last_mut().expect("one line at least");
        if !last.is_empty() && last.len() + 1 + word.len() > MAX_LINE {
            lines.push(String::new());
        }
        let last = lines.last_mut().expect("one line at least");
        if !last.is_empty() {
            last.push(' ');
        }
        // A single word longer than a line is cut at a character boundary.
        let mut cut = word.len().min(MAX_LINE);
        while !word.is_char_boundary(cut) {
            cut -= 1;
        }
        last.push_str(&word[..cut]);
    }
    lines.retain(|l| !l.is_empty());
    lines
}

impl Drop for Espeak {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether espeak-ng can be started here.
pub fn available() -> bool {
    Command::new(PROGRAM)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_clauses_are_cut_between_words() {
        let clause = "word ".repeat(400);
        let lines = lines_of(&clause);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= MAX_LINE && !l.starts_with(' ')));
        assert_eq!(lines.join(" ").split(' ').count(), 400);
    }

    #[test]
    fn phonemes_of_clauses_in_turn() {
        if !available() {
            eprintln!("espeak-ng is not installed: skipped");
            return;
        }
        let mut espeak = Espeak::start("en-us").unwrap();
        assert_eq!(espeak.phonemes("Hello there").unwrap(), "həlˈoʊ ðˈɛɹ");
        // Read from standard input, a leading minus is a word, not an option.
        assert_eq!(espeak.phonemes("-5 degrees").unwrap(), "mˈaɪnəs fˈaɪv dᵻɡɹˈiːz");
        assert_eq!(espeak.phonemes("").unwrap(), "");
        assert_eq!(espeak.phonemes("How are you").unwrap(), "hˈaʊ ɑːɹ juː");
    }
}

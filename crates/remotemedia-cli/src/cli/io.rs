//! Reading input items and writing outputs as JSON.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use remotemedia::Value;

use super::{CliError, InputFormat};

/// Reads the whole input text: a file, `-` for stdin, or (no `--input`) stdin when it is not a
/// terminal.
pub fn read_input_text(input: Option<&Path>) -> Result<String, CliError> {
    let mut text = String::new();
    match input {
        Some(path) if path == Path::new("-") => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
        }
        Some(path) => {
            text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read input `{}`: {e}", path.display())))?;
        }
        None if !std::io::stdin().is_terminal() => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
        }
        None => {}
    }
    Ok(text)
}

/// Parses input text into items (see [`InputFormat`]).
pub fn parse_inputs(text: &str, format: InputFormat) -> Result<Vec<Value>, CliError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let items = |json: serde_json::Value| -> Result<Vec<Value>, CliError> {
        match Value::from_json(json).map_err(|e| CliError::usage(format!("invalid input: {e}")))? {
            list @ Value::List(_) => Ok(list.into_list().unwrap_or_default()),
            single => Ok(vec![single]),
        }
    };
    match format {
        InputFormat::Jsonl => parse_lines(text),
        // Raw PCM never gets here (see `raw_source`).
        InputFormat::S16le
        | InputFormat::S32le
        | InputFormat::F32le
        | InputFormat::Mulaw
        | InputFormat::Alaw => Err(CliError::usage("raw PCM input is read as audio, not as text")),
        InputFormat::Json => items(
            remotemedia::parse_json_text(text).map_err(|e| CliError::usage(format!("invalid input: {e}")))?,
        ),
        InputFormat::Auto => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => {
                remotemedia::check_integers(text)
                    .map_err(|e| CliError::usage(format!("invalid input: {e}")))?;
                items(json)
            }
            // Nested past serde_json's limit: one document, reported as such.
            Err(e) if e.to_string().starts_with("recursion limit") => Err(CliError::usage(format!(
                "invalid input: {}",
                remotemedia::json_parse_error(&e)
            ))),
            Err(_) => parse_lines(text),
        },
    }
}

/// Parses one JSON Lines line (1-based `number`, for messages).
pub fn parse_line(line: &str, number: usize) -> Result<Value, CliError> {
    let json = remotemedia::parse_json_text(line).map_err(|e| {
        let message = e.strip_prefix("invalid JSON: ").unwrap_or(&e).to_string();
        CliError::usage(format!("invalid input on line {number}: {message}"))
    })?;
    Value::from_json(json).map_err(|e| CliError::usage(format!("invalid input on line {number}: {e}")))
}

fn parse_lines(text: &str) -> Result<Vec<Value>, CliError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| parse_line(line, i + 1))
        .collect()
}

/// Whether a `--input` / `--output` path names a WAV file (by its extension).
pub fn is_wav_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

/// One value as compact JSON text.
pub fn to_json_text(value: &Value) -> Result<String, CliError> {
    let json = value
        .to_json()
        .map_err(|e| CliError::runtime(format!("cannot write an output as JSON: {e}")))?;
    serde_json::to_string(&json)
        .map_err(|e| CliError::runtime(format!("cannot write an output as JSON: {e}")))
}

/// Where text outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextOut {
    /// Standard output.
    Stdout,
    /// Standard error (when audio takes stdout).
    Stderr,
    /// A file.
    File(String),
}

impl TextOut {
    /// The destination's name, for messages.
    pub fn label(&self) -> &str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
            Self::File(path) => path,
        }
    }

    /// Writes `text` and flushes (a file is replaced when `append` is false).
    pub fn write_text(&self, text: &str, append: bool) -> std::io::Result<()> {
        match self {
            Self::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            Self::Stderr => {
                let mut out = std::io::stderr().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            Self::File(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(append)
                .truncate(!append)
                .write(true)
                .open(path)
                .and_then(|mut f| f.write_all(text.as_bytes())),
        }
    }

    /// Writes one line (appended to a file) and flushes.
    pub fn write_line(&self, line: &str) -> Result<(), CliError> {
        self.write_text(&format!("{line}\n"), true)
            .map_err(|e| CliError::runtime(format!("cannot write to {}: {e}", self.label())))
    }
}

/// Writes every output (a JSON array, or JSON Lines) to `out`.
pub fn write_outputs(outputs: &[Value], out: &TextOut, jsonl: bool) -> Result<(), CliError> {
    let mut text = String::new();
    if jsonl {
        for v in outputs {
            text.push_str(&to_json_text(v)?);
            text.push('\n');
        }
    } else {
        let items = outputs.iter().map(to_json_text).collect::<Result<Vec<_>, _>>()?;
        text = format!("[{}]\n", items.join(","));
    }
    out.write_text(&text, false).map_err(|e| match out {
        TextOut::File(path) => CliError::runtime(format!("cannot write output `{path}`: {e}")),
        _ => CliError::runtime(format!("cannot write to {}: {e}", out.label())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(text: &str, format: InputFormat) -> Vec<Value> {
        parse_inputs(text, format).expect("valid input")
    }

    #[test]
    fn auto_detects_arrays_single_values_and_lines() {
        assert_eq!(
            ints("[1, 2.0]", InputFormat::Auto),
            vec![Value::Int(1), Value::Float(2.0)]
        );
        assert_eq!(ints("42", InputFormat::Auto), vec![Value::Int(42)]);
        assert_eq!(ints("1\n\n[2]\n{\"a\":3}\n", InputFormat::Auto).len(), 3);
        assert_eq!(ints("  \n", InputFormat::Auto), Vec::<Value>::new());
        assert_eq!(
            ints("[1,2]", InputFormat::Jsonl),
            vec![Value::list([Value::Int(1), Value::Int(2)])]
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let err = parse_inputs("1\n2\nnope\n", InputFormat::Auto).expect_err("line 3");
        assert!(format!("{err:?}").contains("invalid input on line 3"), "{err:?}");
    }
}

//! Many files through one pipeline: inputs (files, folders, glob patterns) expanded to audio
//! files, each run as its own session with fresh node instances, `jobs` at a time, with one result
//! per file in input order.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use remotemedia_core::{Pipeline, Value};

use crate::feed::{AudioChunks, RunError, run_to_report};
use crate::progress::{Progress, ProgressDisplay, ProgressMode};
use crate::sink::{AudioSink, OutputEncoding, SinkTarget};
use crate::source::{AudioFileSource, IoError, has_audio_extension, head_of, looks_like_audio};

/// File extensions taken from a folder as audio (besides files whose content looks like audio).
pub const AUDIO_EXTENSIONS: [&str; 16] = [
    "wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "m4a", "m4b", "mp4", "aac", "aif", "aiff", "aifc",
    "caf", "alac",
];

/// One input file, and the name its outputs take under an output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The file.
    pub path: PathBuf,
    /// Its path relative to the folder it was found in (its file name when given directly).
    pub relative: PathBuf,
}

/// A problem with the inputs themselves (before any file runs).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A path that does not exist and is not a glob pattern.
    #[error("`{0}` does not exist")]
    Missing(String),
    /// A glob pattern that matches nothing, or is malformed.
    #[error("`{pattern}`: {message}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// A folder that cannot be listed.
    #[error("cannot list `{}`: {source}", path.display())]
    List {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Whether `arg` is a glob pattern (`*`, `?` or `[` in a path that does not exist).
pub fn is_pattern(arg: &Path) -> bool {
    arg.to_str().is_some_and(|a| a.contains(['*', '?', '['])) && !arg.exists()
}

/// Expands `args` into the audio files to run, in order, without repeats: a file is taken as
/// given (whatever its content: a file that is not audio gets its own error line); a folder is
/// walked recursively, in name order, for audio files (by extension, or by content for files
/// without a known extension); a glob pattern (`*`, `?`, `[…]`, `**`) is expanded the same way.
pub fn expand_inputs(args: &[PathBuf]) -> Result<Vec<InputFile>, InputError> {
    let mut files = Vec::new();
    for arg in args {
        if let Some(pattern) = arg.to_str().filter(|_| is_pattern(arg)) {
            let matches = glob::glob(pattern).map_err(|e| InputError::Pattern {
                pattern: pattern.to_string(),
                message: e.to_string(),
            })?;
            let mut found = false;
            for path in matches.flatten() {
                found = true;
                add_path(&path, &mut files)?;
            }
            if !found {
                return Err(InputError::Pattern {
                    pattern: pattern.to_string(),
                    message: "matches no file".into(),
                });
            }
        } else {
            if !arg.exists() {
                return Err(InputError::Missing(arg.display().to_string()));
            }
            add_path(arg, &mut files)?;
        }
    }
    let mut seen = HashSet::new();
    files.retain(|f: &InputFile| seen.insert(f.path.clone()));
    Ok(files)
}

fn add_path(path: &Path, files: &mut Vec<InputFile>) -> Result<(), InputError> {
    if path.is_dir() {
        walk(path, path, files)
    } else {
        files.push(InputFile {
            path: path.to_path_buf(),
            relative: path
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| path.to_path_buf()),
        });
        Ok(())
    }
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<InputFile>) -> Result<(), InputError> {
    let listing = std::fs::read_dir(dir).map_err(|source| InputError::List {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries: Vec<PathBuf> = listing.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        // Symbolic links to folders are not followed (no cycles); links to files are.
        let is_link = path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink());
        if path.is_dir() {
            if !is_link {
                walk(root, &path, files)?;
            }
        } else if path.is_file() && is_audio_candidate(&path) {
            let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            files.push(InputFile { path, relative });
        }
    }
    Ok(())
}

/// A folder's file is taken when its extension is an audio one, or (with another extension, or
/// none) when its content starts like audio.
fn is_audio_candidate(path: &Path) -> bool {
    has_audio_extension(path) || head_of(path).is_ok_and(|head| looks_like_audio(&head))
}

/// Output file names under `dir`, one per input, that never collide: the input's relative path
/// with the extension replaced, and `-2`, `-3`… added where two inputs would share a name (`a.wav`
/// and `a.flac`, say). Assigned in input order, so they do not depend on `--jobs`.
pub fn output_paths(files: &[InputFile], dir: &Path, encoding: OutputEncoding) -> Vec<PathBuf> {
    let mut taken = HashSet::new();
    files
        .iter()
        .map(|f| {
            let base = f.relative.with_extension("");
            let mut n = 1;
            loop {
                let mut name = base.clone().into_os_string();
                if n > 1 {
                    name.push(format!("-{n}"));
                }
                name.push(".");
                name.push(encoding.extension());
                let candidate = dir.join(name);
                if taken.insert(candidate.clone()) {
                    break candidate;
                }
                n += 1;
            }
        })
        .collect()
}

/// How many files run at once, and where audio outputs go.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Files run at once (at least 1).
    pub jobs: usize,
    /// The chunk length files are fed in, in milliseconds.
    pub chunk_ms: u32,
    /// Where audio outputs go (one file per input); `None` keeps them among the outputs.
    pub output_dir: Option<PathBuf>,
    /// How audio outputs are stored under `output_dir`.
    pub encoding: OutputEncoding,
    /// Stop at the first failed file (no new file starts; running ones are dropped).
    pub fail_fast: bool,
}

/// The result of one file.
#[derive(Debug)]
pub struct FileResult {
    /// The input file.
    pub file: PathBuf,
    /// The audio output written for it, if any.
    pub output: Option<PathBuf>,
    /// Its non-audio outputs (all outputs without an output folder), or why it failed.
    pub outcome: Result<Vec<Value>, String>,
}

impl FileResult {
    /// The file's JSON Lines record: `{"file": …, "outputs": […]}` (with `"output": path` when
    /// audio was written), or `{"file": …, "error": …}`. A file name that is not UTF-8 is shown
    /// with U+FFFD in place of its undecodable bytes.
    pub fn to_json(&self) -> Result<serde_json::Value, String> {
        let mut record = serde_json::Map::new();
        record.insert("file".into(), self.file.to_string_lossy().into());
        match &self.outcome {
            Ok(outputs) => {
                if let Some(output) = &self.output {
                    record.insert("output".into(), output.to_string_lossy().into());
                }
                let outputs = outputs
                    .iter()
                    .map(Value::to_json)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("cannot write an output as JSON: {e}"))?;
                record.insert("outputs".into(), outputs.into());
            }
            Err(error) => {
                record.insert("error".into(), error.clone().into());
            }
        }
        Ok(record.into())
    }
}

/// How a many-files run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEnd {
    /// Every file ran.
    Completed,
    /// A file failed and `fail_fast` stopped the run.
    FailedFast,
    /// `on_result` asked to stop (its output went away, say).
    Stopped,
}

impl BatchOptions {
    /// The files run at once when none is asked for: the engine's threads.
    pub fn default_jobs() -> usize {
        remotemedia_core::threads::engine_threads().unwrap_or(1).max(1)
    }
}

/// [`run_files`] with its progress shown on stderr (a bar, per `mode`), started before the first
/// file and finished after the last: the one runner the CLI and the Python extension drive.
/// Returns how the run ended and whether the bar was shown; `progress` holds the counts (and the
/// summary) after, even when the caller stops waiting (the CLI on Ctrl-C).
pub async fn run_files_shown<F>(
    pipeline: &Pipeline,
    files: &[InputFile],
    options: &BatchOptions,
    progress: Arc<Progress>,
    mode: ProgressMode,
    on_result: F,
) -> (BatchEnd, bool)
where
    F: FnMut(FileResult) -> bool,
{
    progress.set_files(files.len());
    let display = ProgressDisplay::start(Arc::clone(&progress), mode);
    let end = run_files(pipeline, files, options, &progress, on_result).await;
    let shown = display.is_some();
    if let Some(display) = display {
        display.finish();
    }
    (end, shown)
}

/// Runs `pipeline` over every file, `options.jobs` at a time, calling `on_result` for each file in
/// input order (so the results do not depend on `jobs`); `on_result` returns whether to go on. A
/// failed file is reported and the others go on, unless `fail_fast`. Files not reported when it
/// stops early are dropped (their runs cancelled).
pub async fn run_files<F>(
    pipeline: &Pipeline,
    files: &[InputFile],
    options: &BatchOptions,
    progress: &Progress,
    mut on_result: F,
) -> BatchEnd
where
    F: FnMut(FileResult) -> bool,
{
    progress.set_files(files.len());
    let outputs = match &options.output_dir {
        Some(dir) => output_paths(files, dir, options.encoding)
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None; files.len()],
    };
    // Owned items (not references) keep the future `Send` for any caller's executor.
    let runs = futures::stream::iter(files.iter().cloned().zip(outputs)).map(|(file, output)| async move {
        let result = run_file(pipeline, &file, output, options, progress).await;
        progress.file_done(result.outcome.is_ok());
        result
    });
    let mut results = runs.buffered(options.jobs.max(1));
    while let Some(result) = results.next().await {
        let failed = result.outcome.is_err();
        if !on_result(result) {
            return BatchEnd::Stopped;
        }
        if failed && options.fail_fast {
            return BatchEnd::FailedFast;
        }
    }
    BatchEnd::Completed
}

/// Opens a file source (on a blocking thread: probing reads the file).
pub async fn open_file(path: &Path, chunk_ms: u32) -> Result<AudioFileSource, IoError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || AudioFileSource::open(&path, chunk_ms))
        .await
        .unwrap_or_else(|e| {
            Err(IoError::Unsupported {
                path: PathBuf::new(),
                message: format!("the decoder stopped unexpectedly: {e}"),
            })
        })
}

/// Runs `pipeline` over an audio file held in memory (as [`run_files`] runs each file; `name`
/// stands for its path in the result and in error messages). Its audio outputs stay among the
/// outputs (no output folder).
pub async fn run_bytes(
    pipeline: &Pipeline,
    name: &Path,
    bytes: Vec<u8>,
    chunk_ms: u32,
    progress: &Progress,
) -> FileResult {
    let shown = name.display().to_string();
    let open = async move {
        tokio::task::spawn_blocking(move || AudioFileSource::from_bytes(bytes, &shown, chunk_ms))
            .await
            .unwrap_or_else(|e| {
                Err(IoError::Unsupported {
                    path: PathBuf::new(),
                    message: format!("the decoder stopped unexpectedly: {e}"),
                })
            })
    };
    run_one(pipeline, name, open, None, OutputEncoding::Wav, progress).await
}

async fn run_file(
    pipeline: &Pipeline,
    file: &InputFile,
    output: Option<PathBuf>,
    options: &BatchOptions,
    progress: &Progress,
) -> FileResult {
    let open = open_file(&file.path, options.chunk_ms);
    run_one(pipeline, &file.path, open, output, options.encoding, progress).await
}

/// One file's run: the source `open` gives, its audio outputs to `output` when given.
async fn run_one(
    pipeline: &Pipeline,
    file: &Path,
    open: impl Future<Output = Result<AudioFileSource, IoError>>,
    output: Option<PathBuf>,
    encoding: OutputEncoding,
    progress: &Progress,
) -> FileResult {
    let result = async {
        let source = open.await.map_err(|e| e.to_string())?;
        let mut sink = output
            .clone()
            .map(|path| AudioSink::new(SinkTarget::File(path), encoding));
        let chunks: AudioChunks = Box::new(source);
        let report = run_to_report(pipeline, chunks, sink.as_mut(), progress)
            .await
            .map_err(|e| match e {
                RunError::Input(e) => e.to_string(),
                other => other.to_string(),
            })?;
        let wrote = match sink {
            Some(sink) => sink.finish().map_err(|e| e.to_string())?,
            None => false,
        };
        Ok((report.outputs, wrote))
    }
    .await;
    match result {
        Ok((outputs, wrote)) => FileResult {
            file: file.to_path_buf(),
            output: output.filter(|_| wrote),
            outcome: Ok(outputs),
        },
        Err(error) => FileResult {
            file: file.to_path_buf(),
            output: None,
            outcome: Err(error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &str, relative: &str) -> InputFile {
        InputFile {
            path: path.into(),
            relative: relative.into(),
        }
    }

    #[test]
    fn output_names_never_collide() {
        let files = [
            input("in/a.wav", "a.wav"),
            input("in/a.flac", "a.flac"),
            input("in/sub/a.wav", "sub/a.wav"),
            input("other/a.wav", "a.wav"),
        ];
        let names = output_paths(&files, Path::new("out"), OutputEncoding::Wav);
        let names: Vec<String> = names.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            ["out/a.wav", "out/a-2.wav", "out/sub/a.wav", "out/a-3.wav"]
        );
    }

    #[test]
    fn folders_are_walked_for_audio_and_patterns_expanded() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).expect("dirs");
        std::fs::write(root.join("b.wav"), b"not really").expect("write");
        std::fs::write(root.join("sub/c.FLAC"), b"x").expect("write");
        std::fs::write(root.join("notes.txt"), b"text").expect("write");
        std::fs::write(root.join("noext"), b"RIFF\0\0\0\0WAVEfmt ").expect("write");
        let found = expand_inputs(&[root.to_path_buf()]).expect("expanded");
        let relative: Vec<String> = found.iter().map(|f| f.relative.display().to_string()).collect();
        assert_eq!(relative, ["b.wav", "noext", "sub/c.FLAC"]);

        let pattern = format!("{}/*.wav", root.display());
        let found = expand_inputs(&[pattern.into(), root.join("b.wav")]).expect("glob");
        assert_eq!(found, [input(&root.join("b.wav").display().to_string(), "b.wav")]);

        let none = format!("{}/*.mp3", root.display());
        let err = expand_inputs(&[none.clone().into()])
            .expect_err("no match")
            .to_string();
        assert_eq!(err, format!("`{none}`: matches no file"));
        let missing = expand_inputs(&["no/such/file.wav".into()])
            .expect_err("missing")
            .to_string();
        assert_eq!(missing, "`no/such/file.wav` does not exist");
    }
}

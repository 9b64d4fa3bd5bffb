//! Argument parsing, logging set-up and dispatch.

mod audio;
mod commands;
mod contract;
mod error;
mod io;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

pub use error::CliError;

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    the pipeline failed while running (a node error), or the output could not be written
  2    bad usage, an unreadable or invalid manifest, or bad input data
  3    many files (`run` with several inputs, a folder or a pattern): at least one file failed
       (each failure is its own JSON line; the other files' results are complete)
  130  interrupted (Ctrl-C); results already written stay valid

Logs go to stderr: -v (info), -vv (debug), -vvv (trace), or RUST_LOG (e.g. RUST_LOG=remotemedia_core=debug).

Python nodes run on RustPython, or CPython when RustPython cannot load them (runtime_hint: auto);
REMOTEMEDIA_PYTHON_INTERPRETER=auto|rustpython|cpython overrides every node's hint.
REMOTEMEDIA_THREADS=N caps the engine's threads (as --threads does).";

/// Run remotemedia pipelines described by a manifest (JSON or YAML, version v1).
#[derive(Debug, Parser)]
#[command(name = "remotemedia-runtime", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// More logging on stderr (repeat for more); RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// The engine's worker threads, and the default of `--jobs` (default: REMOTEMEDIA_THREADS,
    /// else every core). Give each process its share when several share a machine.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline over a batch of inputs, an audio file, or many audio files, and print every output.
    Run {
        /// The manifest (.json, .yaml or .yml).
        manifest: PathBuf,
        /// Input items: a JSON array or JSON Lines, from a file or `-` for stdin. An audio file
        /// (WAV, AIFF, FLAC, MP3, Ogg Vorbis/Opus, AAC/ALAC in M4A, CAF; recognised by its
        /// content) is decoded and streamed in chunks of `--chunk-ms`. Repeat it, or give a folder
        /// (searched recursively for audio files) or a glob pattern, to run every file on its own:
        /// one JSON line per file. Without it, stdin is read when it is not a terminal; otherwise
        /// the pipeline gets no input.
        #[arg(short, long, value_name = "PATH|DIR|GLOB|-")]
        input: Vec<PathBuf>,
        /// How to read the input: `auto` takes a document that is one JSON array as its items,
        /// one other JSON value as a single item, and anything else as JSON Lines; `s16le`,
        /// `s32le`, `f32le`, `mulaw`, `alaw` read raw interleaved PCM (with `--sample-rate` and
        /// `--channels`).
        #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
        input_format: InputFormat,
        #[command(flatten)]
        audio: AudioInput,
        /// Where to write the outputs (default: stdout). With a `.wav` path (or with
        /// `--output-format`), the audio outputs go there, in order, and every other output to
        /// stdout (to stderr when the audio takes stdout).
        #[arg(short, long, value_name = "PATH|-")]
        output: Option<String>,
        #[command(flatten)]
        audio_output: AudioOutput,
        /// Write outputs as JSON Lines instead of one JSON array.
        #[arg(long)]
        jsonl: bool,
        #[command(flatten)]
        many: ManyFiles,
        /// Print per-node metrics (items in/out, total/mean/max time) on stderr after the run.
        #[arg(long)]
        metrics: bool,
    },
    /// Stream JSON Lines from stdin through a pipeline; each output is written as soon as it is produced.
    Stream {
        /// The manifest (.json, .yaml or .yml).
        manifest: PathBuf,
        /// How stdin is read: JSON Lines (`auto`, `jsonl`), or raw interleaved PCM (`s16le`,
        /// `s32le`, `f32le`, `mulaw`, `alaw`, with `--sample-rate` and `--channels`), processed
        /// chunk by chunk as it arrives.
        #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
        input_format: InputFormat,
        #[command(flatten)]
        audio: AudioInput,
        /// Where audio outputs go with `--output-format` (default: stdout, and then every other
        /// output goes to stderr as JSON Lines).
        #[arg(short, long, value_name = "PATH|-")]
        output: Option<String>,
        #[command(flatten)]
        audio_output: AudioOutput,
    },
    /// Serve pipelines over WebSocket (live sessions) and HTTP (one-shot runs): docs/protocol.md.
    Serve(ServeArgs),
    /// Check a manifest without running it: prints one OK line, or every problem, one per line.
    Validate {
        /// The manifest (.json, .yaml or .yml).
        manifest: PathBuf,
    },
    /// List every node type with its params, types and defaults.
    Nodes {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of manifest v1 (with the params of every node type).
    Schema,
    /// Print the contract the Python package reads (node specs, audio formats and bounds, server
    /// defaults, environment variable names, runtime hints, shared messages), as JSON.
    Contract,
}

/// How `run` reads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// A JSON array (its items), another JSON value (one item), or JSON Lines.
    Auto,
    /// One JSON document: an array's items, or a single item.
    Json,
    /// One JSON value per line.
    Jsonl,
    /// Raw PCM, 16-bit signed little-endian.
    S16le,
    /// Raw PCM, 32-bit signed little-endian.
    S32le,
    /// Raw PCM, 32-bit float little-endian.
    F32le,
    /// Raw G.711 µ-law.
    Mulaw,
    /// Raw G.711 A-law.
    Alaw,
}

impl InputFormat {
    /// The raw PCM encoding this format names, if it is one.
    pub fn raw(self) -> Option<remotemedia_io::RawFormat> {
        raw_format(&self)
    }
}

/// How audio input is streamed: the chunk length, and the layout of raw PCM.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct AudioInput {
    /// Audio input (an audio file, or raw PCM) goes through the pipeline in chunks of this many
    /// milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=60_000))]
    pub chunk_ms: u32,
    /// The sample rate of raw PCM input, in Hz (required with a raw `--input-format`; 1000 to
    /// 1536000).
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(
        i64::from(remotemedia::MIN_INPUT_SAMPLE_RATE)..=i64::from(remotemedia::MAX_INPUT_SAMPLE_RATE)
    ))]
    pub sample_rate: Option<u32>,
    /// The channel count of raw PCM input (interleaved).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=i64::from(remotemedia::MAX_INPUT_CHANNELS)))]
    pub channels: u16,
}

/// `serve`'s options. The token is read from `--token-file` or `REMOTEMEDIA_TOKEN`, never from the
/// command line (which other users of the machine can see).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The manifests to serve, each under its `metadata.name`.
    #[arg(required = true)]
    pub manifests: Vec<PathBuf>,
    /// Where to listen (default loopback only; a non-loopback address needs a token).
    #[arg(long, value_name = "ADDR:PORT", default_value = remotemedia_server::DEFAULT_BIND)]
    pub bind: std::net::SocketAddr,
    /// A file holding the bearer token clients must present (trailing whitespace ignored).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Listen on a non-loopback address without a token.
    #[arg(long)]
    pub insecure: bool,
    /// Most WebSocket sessions at once (one more gets 503).
    #[arg(long, value_name = "N", default_value_t = remotemedia_server::defaults::MAX_SESSIONS as u32, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sessions: u32,
    /// Largest WebSocket message and HTTP request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = remotemedia_server::defaults::MAX_MESSAGE_BYTES as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_message_bytes: u64,
    /// Close a WebSocket session that sends nothing for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = remotemedia_server::defaults::IDLE_TIMEOUT_S)]
    pub idle_timeout: f64,
    /// Output frames held for a client that reads slower than the pipeline produces; when they
    /// are all waiting, the pipeline waits too (backpressure).
    #[arg(long, value_name = "N", default_value_t = remotemedia_server::defaults::OUTPUT_QUEUE as u32, value_parser = clap::value_parser!(u32).range(1..))]
    pub output_queue: u32,
    /// A client that takes nothing it was sent for this many seconds is disconnected (`error`
    /// `slow_consumer`, close 4429). A client that keeps reading is never cut off.
    #[arg(long, value_name = "SECS", default_value_t = remotemedia_server::defaults::SLOW_CONSUMER_TIMEOUT_S)]
    pub slow_consumer_timeout: f64,
    /// The longest an HTTP run may take, in seconds; past it the run is stopped and answered 503
    /// (`timeout`).
    #[arg(long, value_name = "SECS", default_value_t = remotemedia_server::defaults::RUN_TIMEOUT_S)]
    pub run_timeout: f64,
    /// On SIGINT/SIGTERM, how long to wait for open sessions and HTTP runs to finish before exiting.
    #[arg(long, value_name = "SECS", default_value_t = remotemedia_server::defaults::SHUTDOWN_TIMEOUT_S)]
    pub shutdown_timeout: f64,
}

/// The raw PCM format a flag value names, by its name (`remotemedia_io::RawFormat::NAMES` is the
/// one list of raw formats and their names).
fn raw_format(value: &impl ValueEnum) -> Option<remotemedia_io::RawFormat> {
    value
        .to_possible_value()
        .and_then(|v| remotemedia_io::RawFormat::from_name(v.get_name()))
}

/// How audio outputs are written.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct AudioOutput {
    /// Write audio outputs in this format, as they are produced: `wav` (a file's header is fixed
    /// up at the end; on a pipe its sizes say "unknown length", as ffmpeg and sox write), or raw
    /// interleaved PCM (`s16le`, `s32le`, `f32le`, `mulaw`, `alaw`).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output_format: Option<OutputFormat>,
}

/// Audio output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// WAV in the audio's own sample format (16-bit, 32-bit or float).
    Wav,
    /// Raw PCM, 16-bit signed little-endian.
    S16le,
    /// Raw PCM, 32-bit signed little-endian.
    S32le,
    /// Raw PCM, 32-bit float little-endian.
    F32le,
    /// Raw G.711 µ-law.
    Mulaw,
    /// Raw G.711 A-law.
    Alaw,
}

impl OutputFormat {
    /// The sink encoding this format names.
    pub fn encoding(self) -> remotemedia_io::OutputEncoding {
        raw_format(&self).map_or(
            remotemedia_io::OutputEncoding::Wav,
            remotemedia_io::OutputEncoding::Raw,
        )
    }
}

/// Running many files, and showing progress.
#[derive(Debug, Clone, clap::Args)]
pub struct ManyFiles {
    /// Files run at once (default: `--threads`, else the number of cores). Results come in input order whatever
    /// this is.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,
    /// Write each file's audio outputs to this folder, one file per input named after it (the
    /// input's path under the folder it was found in; `-2`, `-3`… where names would collide).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Stop at the first file that fails (by default every file runs and each failure is reported).
    #[arg(long)]
    pub fail_fast: bool,
    /// Show a progress bar on stderr: `auto` when stderr is a terminal.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
}

/// When to show a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// When stderr is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ProgressArg {
    /// The progress mode this names.
    pub fn mode(self) -> remotemedia_io::ProgressMode {
        use remotemedia_io::ProgressMode;
        match self {
            Self::Auto => ProgressMode::Auto,
            Self::Always => ProgressMode::Always,
            Self::Never => ProgressMode::Never,
        }
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // The decoders' own log lines (symphonia: "skipped junk", "probe reached EOF") repeat what our
    // error messages say; they show only when RUST_LOG asks for them.
    let quiet = [
        "symphonia_core",
        "symphonia_metadata",
        "symphonia_format_riff",
        "symphonia_format_ogg",
        "symphonia_format_isomp4",
        "symphonia_format_caf",
        "symphonia_bundle_mp3",
        "symphonia_bundle_flac",
        "symphonia_codec_aac",
        "symphonia_codec_alac",
        "symphonia_codec_vorbis",
        "symphonia_codec_pcm",
        "symphonia_codec_adpcm",
    ]
    .map(|target| format!(",{target}=off"))
    .concat();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("{default}{quiet}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}

/// Parses arguments, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    // Node panics are caught and reported as node errors; keep the default hook's backtrace
    // banner out of the user's terminal (it is still logged at debug level).
    std::panic::set_hook(Box::new(|info| tracing::debug!("panic: {info}")));

    if let Some(threads) = cli.threads.and_then(|n| std::num::NonZeroUsize::new(n as usize)) {
        // Nothing has fixed the count yet in this process.
        let _ = remotemedia::threads::set_engine_threads(threads);
    }
    let threads = match remotemedia::threads::engine_threads() {
        Ok(threads) => threads,
        Err(message) => return CliError::usage(message).report(),
    };
    let runtime = match remotemedia::threads::build_runtime(threads) {
        Ok(rt) => rt,
        Err(e) => return CliError::runtime(format!("cannot start the async runtime: {e}")).report(),
    };
    tracing::info!(workers = runtime.metrics().num_workers(), "engine started");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(commands::dispatch(cli.command))
    }));
    // Do not wait for blocking threads still busy with an abandoned call (a Python node past its
    // `timeout_ms` cannot be interrupted): the outcome is known, so exit now.
    runtime.shutdown_background();
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => err.report(),
        Err(_) => {
            CliError::runtime("internal error: the runtime panicked (run with -vv for details)").report()
        }
    }
}

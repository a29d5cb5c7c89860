//! waligate's own diagnostics (`tracing` events) on stderr.
//!
//! A run without `WALIGATE_LOG` reports warnings and errors only, as
//! `waligate: warning: MESSAGE`, through [`Warnings`]: tracing-subscriber's
//! formatter first sets up a span registry, which cost about 40 µs and 15
//! page faults of every start (2% of a WASI hello's) for spans no normal run
//! records. `WALIGATE_LOG` (a level, or targets with levels such as
//! `debug` or `wali_core=trace,info`) gets that formatter, and with it the
//! records of the `log` crate (cranelift's). Its filter is
//! tracing-subscriber's `Targets`, which needs no regular expressions:
//! `EnvFilter`'s regex engine grew the binary, and with it the relocations
//! the dynamic loader applies at every start.

use std::fmt::{Debug, Write};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Metadata, span};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the subscriber for this process.
pub fn init() {
    if let Some(Ok(filter)) = std::env::var("WALIGATE_LOG").ok().map(|v| v.parse::<Targets>()) {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .without_time()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_max_level(tracing::Level::TRACE)
            .finish()
            .with(filter)
            .init();
        return;
    }
    let _ = tracing::subscriber::set_global_default(Warnings);
}

/// Warnings and errors, one line each on stderr.
struct Warnings;

impl tracing::Subscriber for Warnings {
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::WARN)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN
    }

    fn event(&self, event: &Event<'_>) {
        let kind = if *event.metadata().level() == Level::ERROR { "error" } else { "warning" };
        let mut line = Line(String::new());
        event.record(&mut line);
        eprintln!("waligate: {kind}: {}", line.0);
    }

    // Spans are below WARN everywhere in waligate: none is ever entered.
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// An event's message, then its other fields as ` name=value`.
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = if field.name() == "message" {
            write!(self.0, "{value:?}")
        } else {
            write!(self.0, " {}={value:?}", field.name())
        };
    }
}

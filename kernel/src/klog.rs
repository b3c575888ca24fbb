//! The kernel log: the `log` crate's macros, written to the log port (COM2) with
//! a timestamp and level, filtered by `log=LEVEL` on the command line.

use core::fmt::Write;

use k42_cmdline::{Cmdline, LogLevel};
use log::{LevelFilter, Metadata, Record};

struct SerialLogger;

static LOGGER: SerialLogger = SerialLogger;

impl log::Log for SerialLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let us = k42_hal::time::uptime_us();
        k42_hal::serial::with_log(|port| {
            let _ = writeln!(
                port,
                "[{:5}.{:06}] {:5} {}: {}",
                us / 1_000_000,
                us % 1_000_000,
                record.level(),
                record.target(),
                record.args()
            );
        });
    }

    fn flush(&self) {}
}

fn filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warn => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::Trace => LevelFilter::Trace,
    }
}

/// Installs the logger at the level the command line asks for.
pub fn init(cmdline: &Cmdline<'_>) {
    let _ = log::set_logger(&LOGGER);
    match cmdline.log_level() {
        Ok(level) => log::set_max_level(filter(level)),
        Err(bad) => {
            log::set_max_level(LevelFilter::Info);
            log::warn!("ignoring {bad}; using log=info");
        }
    }
}

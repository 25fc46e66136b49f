//! Limits and the per-scan Budget that enforces them.
//!
//! The names and meanings follow amavisd-new so administrators recognise them. One [`Budget`] is
//! created per scan and every stage charges it *while* it decodes: a decompressor reads through
//! [`Budget::read_to_end`], which stops at the first limit instead of decompressing first and
//! checking after. When a limit trips, the budget records an `Unchecked` finding naming it, and
//! the hard limits (files, quota, time) stop all further decoding for the message; what was
//! already extracted is still scanned.

use crate::report::{Finding, UncheckedReason};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::time::{Duration, Instant};

/// Scan limits. Defaults are amavisd-new's Debian defaults where amavisd-new has the limit, and
/// ClamAV's where only ClamAV has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Maximum nesting depth, MIME and archives alike (amavisd-new `$MAXLEVELS`, 14).
    pub max_levels: u32,
    /// Maximum number of objects per message (amavisd-new `$MAXFILES`, 1500).
    pub max_files: u32,
    /// Expansion quota floor in bytes (amavisd-new `$MIN_EXPANSION_QUOTA`, 100 KiB).
    pub min_quota: u64,
    /// Expansion quota: at least this many times the message size (`$MIN_EXPANSION_FACTOR`, 5).
    pub min_factor: u64,
    /// Expansion quota ceiling for the `max_factor` term (`$MAX_EXPANSION_QUOTA`, 300 MiB).
    pub max_quota: u64,
    /// Expansion quota: at most this many times the message size (`$MAX_EXPANSION_FACTOR`, 500).
    pub max_factor: u64,
    /// Largest single decoded object in bytes (ClamAV `MaxFileSize`, 100 MB).
    pub max_object_size: u64,
    /// Largest decompressed/compressed ratio for one archive member, checked once the member
    /// has produced 1 MiB (a 1 GB member of zeros compresses about 1000:1).
    pub max_ratio: u64,
    /// Wall-clock budget for one scan, in milliseconds (ClamAV `MaxScanTime` is 120 s).
    pub max_time_ms: u64,
    /// Maximum header fields per header block (ClamAV's mail parser stops at 1,024).
    pub max_headers: u32,
    /// Messages larger than this are `oversized` (amavisd-new `$message_size_limit`); 0 = none.
    pub max_message_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_levels: 14,
            max_files: 1500,
            min_quota: 100 * 1024,
            min_factor: 5,
            max_quota: 300 * 1024 * 1024,
            max_factor: 500,
            max_object_size: 100 * 1024 * 1024,
            max_ratio: 250,
            max_time_ms: 60_000,
            max_headers: 2_000,
            max_message_size: 0,
        }
    }
}

impl Limits {
    /// The expansion quota for a message of `size` bytes, exactly as amavisd-new computes it:
    /// `max(min_quota, size * min_factor, min(max_quota, size * max_factor))`.
    ///
    /// ```
    /// let limits = mailwarden::Limits::default();
    /// assert_eq!(limits.quota(1_000), 500_000);
    /// assert_eq!(limits.quota(100), 100 * 1024);
    /// assert_eq!(limits.quota(10 << 20), 300 << 20);
    /// ```
    pub fn quota(&self, size: u64) -> u64 {
        let low = self.min_quota.max(size.saturating_mul(self.min_factor));
        low.max(self.max_quota.min(size.saturating_mul(self.max_factor)))
    }

    /// Checks the values for consistency.
    pub fn validate(&self) -> crate::Result<()> {
        use crate::error::{Error, ErrorKind};
        let bad = |what: &str| Err(Error::new(ErrorKind::InvalidSetting, what.to_string()));
        if self.max_levels == 0 {
            return bad("limits.max_levels must be at least 1");
        }
        if self.max_files == 0 {
            return bad("limits.max_files must be at least 1");
        }
        if self.max_object_size == 0 {
            return bad("limits.max_object_size must be at least 1");
        }
        if self.max_time_ms == 0 {
            return bad("limits.max_time_ms must be at least 1");
        }
        if self.max_ratio == 0 {
            return bad("limits.max_ratio must be at least 1");
        }
        Ok(())
    }
}

/// Size of the chunks a decompressor is read in.
const CHUNK: usize = 64 * 1024;
/// Output a member must produce before the ratio cap applies.
const RATIO_GRACE: u64 = 1024 * 1024;

/// A reader over compressed bytes that counts how many a decoder has taken, for
/// [`Budget::read_to_end_with`]. Clone the counter with [`CountingReader::counter`] before
/// handing the reader to the decoder.
#[derive(Debug)]
pub struct CountingReader<'a> {
    data: &'a [u8],
    taken: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<'a> CountingReader<'a> {
    /// A counting reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        CountingReader {
            data,
            taken: std::rc::Rc::new(std::cell::Cell::new(0)),
        }
    }

    /// A function returning the bytes taken so far.
    pub fn counter(&self) -> impl Fn() -> u64 + use<> {
        let taken = self.taken.clone();
        move || taken.get()
    }
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read(buf)?;
        self.taken.set(self.taken.get() + n as u64);
        Ok(n)
    }
}

impl std::io::BufRead for CountingReader<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(self.data)
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.data.len());
        self.data = &self.data[amt..];
        self.taken.set(self.taken.get() + amt as u64);
    }
}

/// How reading through the budget ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The whole stream was read.
    Complete,
    /// A limit stopped the read; the reason was recorded as an `Unchecked` finding.
    Limited(UncheckedReason),
    /// The stream is corrupt; what was read before the error is returned.
    Corrupt,
}

/// The per-scan budget: counts levels, objects, decoded bytes and time.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    quota: u64,
    used: u64,
    files: u32,
    deadline: Instant,
    stopped: Option<UncheckedReason>,
    findings: Vec<Finding>,
}

impl Budget {
    /// A fresh budget for a message of `message_size` bytes.
    pub fn new(limits: &Limits, message_size: u64) -> Self {
        Budget {
            quota: limits.quota(message_size),
            limits: limits.clone(),
            used: 0,
            files: 0,
            deadline: Instant::now() + Duration::from_millis(limits.max_time_ms),
            stopped: None,
            findings: Vec::new(),
        }
    }

    /// The limits this budget enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The expansion quota in bytes.
    pub fn quota(&self) -> u64 {
        self.quota
    }

    /// Bytes charged so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Objects counted so far.
    pub fn files(&self) -> u32 {
        self.files
    }

    /// Whether a hard limit (files, quota, time) stopped all further decoding.
    pub fn is_exhausted(&self) -> bool {
        self.stopped.is_some()
    }

    /// The limit that stopped decoding, if any.
    pub fn stopped_by(&self) -> Option<UncheckedReason> {
        self.stopped
    }

    /// Records an unchecked finding without stopping the scan (encrypted member, level too deep,
    /// one object too large, ...).
    pub fn note(&mut self, reason: UncheckedReason, path: &str, detail: impl Into<String>) {
        self.findings.push(Finding::Unchecked {
            reason,
            path: path.to_string(),
            detail: detail.into(),
        });
    }

    /// Records a hard limit and stops all further decoding (only the first one is recorded).
    pub fn stop(&mut self, reason: UncheckedReason, path: &str, detail: impl Into<String>) {
        if self.stopped.is_none() {
            self.stopped = Some(reason);
            self.note(reason, path, detail);
        }
    }

    /// Whether an object at `depth` may be opened. Records `max_levels` when it may not
    /// (once per path).
    pub fn enter_level(&mut self, depth: u32, path: &str) -> bool {
        if depth > self.limits.max_levels {
            let detail = format!(
                "Maximum decoding depth ({}) exceeded",
                self.limits.max_levels
            );
            self.note(UncheckedReason::MaxLevels, path, detail);
            return false;
        }
        true
    }

    /// Counts one new object. Returns false (and stops decoding) past `max_files`.
    pub fn add_object(&mut self, path: &str) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if self.files >= self.limits.max_files {
            let detail = format!(
                "Maximum number of files ({}) exceeded",
                self.limits.max_files
            );
            self.stop(UncheckedReason::MaxFiles, path, detail);
            return false;
        }
        self.files += 1;
        true
    }

    /// Charges `n` decoded bytes. Returns false (and stops decoding) past the quota or the
    /// time budget.
    pub fn charge(&mut self, n: u64, path: &str) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if !self.check_time(path) {
            return false;
        }
        if self.used.saturating_add(n) > self.quota {
            let detail = format!("Exceeded storage quota ({} bytes)", self.quota);
            self.stop(UncheckedReason::MaxQuota, path, detail);
            return false;
        }
        self.used += n;
        true
    }

    /// Checks the wall-clock budget. Returns false (and stops decoding) when it ran out.
    pub fn check_time(&mut self, path: &str) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if Instant::now() >= self.deadline {
            let detail = format!("Scan time budget ({} ms) exceeded", self.limits.max_time_ms);
            self.stop(UncheckedReason::MaxTime, path, detail);
            return false;
        }
        true
    }

    /// How many more bytes one object may grow to: the smaller of the per-object cap and what is
    /// left of the quota.
    pub fn room(&self) -> u64 {
        self.limits
            .max_object_size
            .min(self.quota.saturating_sub(self.used))
    }

    /// Reads a decompressing stream to its end, charging every chunk as it is produced.
    ///
    /// Stops at the first limit: the quota or time (which stop the whole scan), the per-object
    /// size cap, or the compression-ratio cap (`compressed` is the input size; 0 disables the
    /// ratio check). What was read before the limit is returned with the outcome, so it is still
    /// scanned. Never reads more than one chunk past what it charged.
    pub fn read_to_end(
        &mut self,
        reader: impl Read,
        compressed: u64,
        path: &str,
    ) -> (Vec<u8>, ReadOutcome) {
        self.read_to_end_with(reader, move || compressed, path)
    }

    /// Like [`Budget::read_to_end`], but the compression ratio is taken against `consumed()`,
    /// the compressed bytes the decoder has taken so far (see [`CountingReader`]), rather than
    /// against the whole input. A 2 GB deflate bomb is then stopped after its first MiB of
    /// output, not after it has grown to the ratio times the whole compressed size.
    pub fn read_to_end_with(
        &mut self,
        mut reader: impl Read,
        consumed: impl Fn() -> u64,
        path: &str,
    ) -> (Vec<u8>, ReadOutcome) {
        let mut out = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return (out, ReadOutcome::Complete),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return (out, ReadOutcome::Corrupt),
            };
            let total = out.len() as u64 + n as u64;
            if total > self.limits.max_object_size {
                let detail = format!(
                    "Object larger than max_object_size ({} bytes)",
                    self.limits.max_object_size
                );
                self.note(UncheckedReason::MaxObjectSize, path, detail);
                return (out, ReadOutcome::Limited(UncheckedReason::MaxObjectSize));
            }
            let compressed = if total > RATIO_GRACE { consumed() } else { 0 };
            if compressed > 0 && total / compressed > self.limits.max_ratio {
                let detail = format!(
                    "Compression ratio above max_ratio ({}:1)",
                    self.limits.max_ratio
                );
                self.note(UncheckedReason::MaxRatio, path, detail);
                return (out, ReadOutcome::Limited(UncheckedReason::MaxRatio));
            }
            if !self.charge(n as u64, path) {
                let reason = self.stopped.unwrap_or(UncheckedReason::MaxQuota);
                return (out, ReadOutcome::Limited(reason));
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// Takes the unchecked findings recorded so far.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_follows_amavisd_formula() {
        let l = Limits::default();
        // Small message: the floor.
        assert_eq!(l.quota(0), 100 * 1024);
        // 1 MB message: 500 MB capped at 300 MiB, but at least 5 MB.
        assert_eq!(l.quota(1 << 20), 300 << 20);
        // 1 GB message: min factor dominates.
        assert_eq!(l.quota(1 << 30), 5 << 30);
    }

    #[test]
    fn read_stops_at_quota_and_records_it() {
        let l = Limits {
            max_quota: 0,
            min_quota: 100_000,
            ..Limits::default()
        };
        let mut b = Budget::new(&l, 10);
        let zeros = std::io::repeat(0).take(10_000_000);
        let (data, outcome) = b.read_to_end(zeros, 0, "1");
        assert_eq!(outcome, ReadOutcome::Limited(UncheckedReason::MaxQuota));
        assert!(data.len() as u64 <= 100_000);
        assert!(b.is_exhausted());
        assert!(!b.charge(1, "2"));
        let f = b.take_findings();
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn ratio_cap_applies_after_grace() {
        let mut b = Budget::new(&Limits::default(), 100 << 20);
        let zeros = std::io::repeat(0).take(50 << 20);
        let (_, outcome) = b.read_to_end(zeros, 1000, "1 a.zip/z");
        assert_eq!(outcome, ReadOutcome::Limited(UncheckedReason::MaxRatio));
        assert!(
            !b.is_exhausted(),
            "the ratio cap stops one member, not the scan"
        );
    }

    #[test]
    fn ratio_against_consumed_input_stops_early() {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..16 {
            enc.write_all(&[0u8; 1 << 20]).unwrap();
        }
        let packed = enc.finish().unwrap();
        let mut b = Budget::new(&Limits::default(), 100 << 20);
        let input = CountingReader::new(&packed);
        let consumed = input.counter();
        let decoder = flate2::bufread::DeflateDecoder::new(input);
        let (data, outcome) = b.read_to_end_with(decoder, consumed, "1 z");
        assert_eq!(outcome, ReadOutcome::Limited(UncheckedReason::MaxRatio));
        assert!(data.len() < 2 << 20, "stopped after {} bytes", data.len());
    }

    #[test]
    fn levels_and_files() {
        let l = Limits {
            max_files: 2,
            ..Limits::default()
        };
        let mut b = Budget::new(&l, 0);
        assert!(b.enter_level(14, "x"));
        assert!(!b.enter_level(15, "x"));
        assert!(b.add_object("a"));
        assert!(b.add_object("b"));
        assert!(!b.add_object("c"));
        assert_eq!(b.stopped_by(), Some(UncheckedReason::MaxFiles));
    }
}

//! Token storage: a small trait and the embedded file store.
//!
//! # The file store
//!
//! One file holds the totals, the tokens (sorted by hash) and the ids of learned messages,
//! ending with a checksum. A learner takes an exclusive `flock` on `<db>.lock`, reads the
//! database into memory, applies its changes, and commits by writing `<db>.tmp`, `fsync`ing
//! it, renaming it over the database and `fsync`ing the directory. So:
//!
//! - a crash or kill at any moment leaves either the old or the new database, never a mix
//!   (rename is atomic); a stale `<db>.tmp` is overwritten by the next learner;
//! - readers never lock: each opens whichever file the name points to and reads a complete,
//!   checksummed snapshot, however many readers there are and while a learner works;
//! - a database damaged some other way (a truncated copy, a bad disk) fails its checksum and
//!   is reported as an error, never half-read.
//!
//! Expiry runs at commit: tokens not learned for `max_age_days` are dropped, and when more
//! than `max_tokens` remain the least recently learned (then the rarest) go until three
//! quarters of `max_tokens` are left, SpamAssassin's expiry target.
//!
//! A shared store (Redis) implements the same [`TokenStore`] trait.

use super::classifier::Totals;
use super::tokenizer::Token;
use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How often a token was learned, and when last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Spam messages that contained the token.
    pub spam: u32,
    /// Ham messages that contained the token.
    pub ham: u32,
    /// When the token was last learned (seconds since the Unix epoch).
    pub atime: u32,
}

/// The class of a learned message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Unwanted mail.
    Spam,
    /// Wanted mail.
    Ham,
}

impl Class {
    fn code(self) -> u32 {
        match self {
            Class::Spam => 1,
            Class::Ham => 2,
        }
    }

    fn from_code(c: u32) -> Option<Class> {
        match c {
            1 => Some(Class::Spam),
            2 => Some(Class::Ham),
            _ => None,
        }
    }
}

/// Read access to a token database.
pub trait TokenRead: Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe {
    /// Messages learned.
    fn totals(&self) -> Totals;
    /// A token's counts (zero when unknown).
    fn counts(&self, token: Token) -> Counts;
    /// Number of tokens.
    fn len(&self) -> usize;
    /// Whether the database holds no tokens.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Calls `f` for every token, in hash order.
    fn for_each(&self, f: &mut dyn FnMut(Token, Counts));
}

/// A learner's exclusive, in-memory view of the database; nothing is visible to readers
/// before [`Transaction::commit`].
pub trait Transaction: TokenRead {
    /// Adds `spam` and `ham` (negative to unlearn, saturating at zero) to a token's counts
    /// and stamps it with `now`.
    fn update(&mut self, token: Token, spam: i32, ham: i32, now: u64);
    /// Adds to the message totals (saturating at zero).
    fn add_totals(&mut self, spam: i64, ham: i64);
    /// The class a message id was learned as.
    fn seen(&self, id: u64) -> Option<Class>;
    /// Records (or with `None` forgets) the class a message id was learned as, with one
    /// copy.
    fn set_seen(&mut self, id: u64, class: Option<Class>);
    /// How many times a learned message's tokens are in the counts (0 when not learned).
    fn copies(&self, id: u64) -> u32;
    /// Records how many times a learned message's tokens are in the counts (1 to
    /// [`MAX_COPIES`]; no effect on an id not learned).
    fn set_copies(&mut self, id: u64, copies: u32);
    /// Number of learned message ids.
    fn seen_len(&self) -> usize;
    /// Applies expiry now; returns the number of tokens removed.
    fn expire(&mut self, expiry: &Expiry, now: u64) -> usize;
    /// Makes the changes durable and visible to new readers; the transaction stays open
    /// for more changes.
    fn commit(&mut self) -> Result<()>;
}

/// A token storage backend.
pub trait TokenStore:
    Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe + fmt::Debug
{
    /// A consistent read-only snapshot of the current database.
    fn snapshot(&self) -> Result<Arc<dyn TokenRead>>;
    /// A value that changes whenever a commit changes the database (`None`: no database
    /// yet). Cheap: readers poll it to know when to take a new snapshot.
    fn version(&self) -> Result<Option<u64>>;
    /// Starts the one write transaction (waits while another learner holds it).
    fn begin(&self) -> Result<Box<dyn Transaction>>;
}

/// When tokens expire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Expiry {
    /// Tokens not learned for this many days are dropped (0: never by age).
    pub max_age_days: u32,
    /// Most tokens kept; beyond it the least recently learned go until 75% remain (0: no cap).
    pub max_tokens: usize,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            max_age_days: 365,
            max_tokens: 1_000_000,
        }
    }
}

const MAGIC: &[u8; 8] = b"MWBAYES1";
const HEADER: usize = 8 + 8 * 4;
const TOKEN_REC: usize = 20;
const SEEN_REC: usize = 16;

fn fnv(data: &[u8]) -> u64 {
    // Word-at-a-time FNV-style mixing: a checksum against torn or truncated files, not a MAC.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn corrupt(path: &Path, why: &str) -> Error {
    Error::new(
        ErrorKind::Bayes,
        format!(
            "{}: not a valid mailwarden Bayes database ({why})",
            path.display()
        ),
    )
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("bounds checked by caller"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("bounds checked by caller"))
}

/// Most copies of one message a database holds (see [`Transaction::set_copies`]).
pub const MAX_COPIES: u32 = 64;

/// A learned message: its id, its class, and how many times its tokens are in the counts
/// (1, more after train-on-error passes: [`super::Learner::retrain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The message id hash ([`super::message_id`]).
    pub id: u64,
    /// What it was learned as.
    pub class: Class,
    /// How many times its tokens are counted.
    pub copies: u32,
}

/// A database read into memory: the snapshot readers use.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    totals: Totals,
    keys: Vec<Token>,
    counts: Vec<Counts>,
    seen: Vec<Seen>,
}

impl Snapshot {
    /// Parses and verifies a database image.
    fn parse(bytes: &[u8], path: &Path) -> Result<Snapshot> {
        if bytes.len() < HEADER + 8 || &bytes[..8] != MAGIC {
            return Err(corrupt(path, "bad header"));
        }
        let body = &bytes[..bytes.len() - 8];
        if fnv(body) != u64_at(bytes, bytes.len() - 8) {
            return Err(corrupt(path, "checksum mismatch"));
        }
        let spam = u64_at(bytes, 8);
        let ham = u64_at(bytes, 16);
        let ntokens = usize::try_from(u64_at(bytes, 24)).map_err(|_| corrupt(path, "size"))?;
        let nseen = usize::try_from(u64_at(bytes, 32)).map_err(|_| corrupt(path, "size"))?;
        let expect = ntokens
            .checked_mul(TOKEN_REC)
            .and_then(|t| nseen.checked_mul(SEEN_REC).and_then(|s| t.checked_add(s)))
            .and_then(|n| n.checked_add(HEADER + 8));
        if expect != Some(bytes.len()) {
            return Err(corrupt(path, "length does not match the counts"));
        }
        let mut snap = Snapshot {
            totals: Totals { spam, ham },
            keys: Vec::with_capacity(ntokens),
            counts: Vec::with_capacity(ntokens),
            seen: Vec::with_capacity(nseen),
        };
        let mut at = HEADER;
        for _ in 0..ntokens {
            let key = u64_at(bytes, at);
            if snap.keys.last().is_some_and(|&k| k >= key) {
                return Err(corrupt(path, "tokens out of order"));
            }
            snap.keys.push(key);
            snap.counts.push(Counts {
                spam: u32_at(bytes, at + 8),
                ham: u32_at(bytes, at + 12),
                atime: u32_at(bytes, at + 16),
            });
            at += TOKEN_REC;
        }
        for _ in 0..nseen {
            let id = u64_at(bytes, at);
            let class = Class::from_code(u32_at(bytes, at + 8))
                .ok_or_else(|| corrupt(path, "bad message class"))?;
            // Copies beyond the first (0 in databases written before train-on-error).
            let extra = u32_at(bytes, at + 12);
            if extra >= MAX_COPIES {
                return Err(corrupt(path, "bad message copy count"));
            }
            snap.seen.push(Seen {
                id,
                class,
                copies: extra + 1,
            });
            at += SEEN_REC;
        }
        Ok(snap)
    }

    /// The learned messages.
    pub fn seen(&self) -> &[Seen] {
        &self.seen
    }
}

impl TokenRead for Snapshot {
    fn totals(&self) -> Totals {
        self.totals
    }

    fn counts(&self, token: Token) -> Counts {
        match self.keys.binary_search(&token) {
            Ok(i) => self.counts[i],
            Err(_) => Counts::default(),
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn for_each(&self, f: &mut dyn FnMut(Token, Counts)) {
        for (k, c) in self.keys.iter().zip(&self.counts) {
            f(*k, *c);
        }
    }
}

/// The embedded file store (see the module docs).
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
    expiry: Expiry,
}

impl FileStore {
    /// A store at `path` (the file is created by the first commit).
    pub fn new(path: impl Into<PathBuf>, expiry: Expiry) -> FileStore {
        FileStore {
            path: path.into(),
            expiry,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// Reads the current database (empty when there is none yet).
    pub fn load(&self) -> Result<Snapshot> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Snapshot::parse(&bytes, &self.path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Snapshot::default()),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }

    /// Starts the write transaction with its concrete type.
    pub fn begin_file(&self) -> Result<FileTransaction> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let lock_path = self.sibling(".lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        lock_exclusive(&lock).map_err(|e| Error::io(&lock_path, e))?;
        let snap = self.load()?;
        let mut tokens = HashMap::with_capacity(snap.keys.len() + 1024);
        for (k, c) in snap.keys.iter().zip(&snap.counts) {
            tokens.insert(*k, *c);
        }
        Ok(FileTransaction {
            store: self.clone(),
            _lock: lock,
            totals: snap.totals,
            tokens,
            seen: snap
                .seen
                .iter()
                .map(|s| (s.id, (s.class, s.copies)))
                .collect(),
        })
    }
}

impl TokenStore for FileStore {
    fn snapshot(&self) -> Result<Arc<dyn TokenRead>> {
        Ok(Arc::new(self.load()?))
    }

    fn version(&self) -> Result<Option<u64>> {
        match std::fs::metadata(&self.path) {
            Ok(m) => {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as u64);
                #[cfg(unix)]
                let ino = std::os::unix::fs::MetadataExt::ino(&m);
                #[cfg(not(unix))]
                let ino = 0u64;
                Ok(Some(mtime ^ ino.rotate_left(32) ^ m.len().rotate_left(17)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }

    fn begin(&self) -> Result<Box<dyn Transaction>> {
        Ok(Box::new(self.begin_file()?))
    }
}

/// Waits for the exclusive learner lock (released when the file is closed, also when the
/// process dies).
#[cfg(unix)]
fn lock_exclusive(file: &std::fs::File) -> std::io::Result<()> {
    rustix::fs::flock(file, rustix::fs::FlockOperation::LockExclusive).map_err(std::io::Error::from)
}

/// Platforms without `flock`: one learner at a time is the caller's duty.
#[cfg(not(unix))]
fn lock_exclusive(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// The file store's write transaction: the database in memory plus the learner lock.
#[derive(Debug)]
pub struct FileTransaction {
    store: FileStore,
    _lock: std::fs::File,
    totals: Totals,
    tokens: HashMap<Token, Counts>,
    seen: HashMap<u64, (Class, u32)>,
}

impl FileTransaction {
    /// The database image: header, sorted tokens, sorted ids, checksum.
    fn image(&self) -> Vec<u8> {
        let mut keys: Vec<(&Token, &Counts)> = self.tokens.iter().collect();
        keys.sort_unstable_by_key(|(k, _)| **k);
        let mut seen: Vec<(&u64, &(Class, u32))> = self.seen.iter().collect();
        seen.sort_unstable_by_key(|(k, _)| **k);
        let mut out =
            Vec::with_capacity(HEADER + keys.len() * TOKEN_REC + seen.len() * SEEN_REC + 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.totals.spam.to_le_bytes());
        out.extend_from_slice(&self.totals.ham.to_le_bytes());
        out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
        out.extend_from_slice(&(seen.len() as u64).to_le_bytes());
        for (k, c) in keys {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&c.spam.to_le_bytes());
            out.extend_from_slice(&c.ham.to_le_bytes());
            out.extend_from_slice(&c.atime.to_le_bytes());
        }
        for (id, (class, copies)) in seen {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&class.code().to_le_bytes());
            out.extend_from_slice(&copies.saturating_sub(1).to_le_bytes());
        }
        let sum = fnv(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }
}

impl TokenRead for FileTransaction {
    fn totals(&self) -> Totals {
        self.totals
    }

    fn counts(&self, token: Token) -> Counts {
        self.tokens.get(&token).copied().unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.tokens.len()
    }

    fn for_each(&self, f: &mut dyn FnMut(Token, Counts)) {
        let mut keys: Vec<_> = self.tokens.iter().collect();
        keys.sort_unstable_by_key(|(k, _)| **k);
        for (k, c) in keys {
            f(*k, *c);
        }
    }
}

fn add_sat(v: u32, d: i32) -> u32 {
    if d >= 0 {
        v.saturating_add(d as u32)
    } else {
        v.saturating_sub(d.unsigned_abs())
    }
}

impl Transaction for FileTransaction {
    fn update(&mut self, token: Token, spam: i32, ham: i32, now: u64) {
        let now = u32::try_from(now).unwrap_or(u32::MAX);
        if spam <= 0 && ham <= 0 {
            if let Some(c) = self.tokens.get_mut(&token) {
                c.spam = add_sat(c.spam, spam);
                c.ham = add_sat(c.ham, ham);
                if c.spam == 0 && c.ham == 0 {
                    self.tokens.remove(&token);
                }
            }
            return;
        }
        let c = self.tokens.entry(token).or_default();
        c.spam = add_sat(c.spam, spam);
        c.ham = add_sat(c.ham, ham);
        c.atime = now;
    }

    fn add_totals(&mut self, spam: i64, ham: i64) {
        let add = |v: u64, d: i64| {
            if d >= 0 {
                v.saturating_add(d as u64)
            } else {
                v.saturating_sub(d.unsigned_abs())
            }
        };
        self.totals.spam = add(self.totals.spam, spam);
        self.totals.ham = add(self.totals.ham, ham);
    }

    fn seen(&self, id: u64) -> Option<Class> {
        self.seen.get(&id).map(|s| s.0)
    }

    fn set_seen(&mut self, id: u64, class: Option<Class>) {
        match class {
            Some(c) => {
                self.seen.insert(id, (c, 1));
            }
            None => {
                self.seen.remove(&id);
            }
        }
    }

    fn copies(&self, id: u64) -> u32 {
        self.seen.get(&id).map_or(0, |s| s.1)
    }

    fn set_copies(&mut self, id: u64, copies: u32) {
        if let Some(s) = self.seen.get_mut(&id) {
            s.1 = copies.clamp(1, MAX_COPIES);
        }
    }

    fn seen_len(&self) -> usize {
        self.seen.len()
    }

    fn expire(&mut self, expiry: &Expiry, now: u64) -> usize {
        let before = self.tokens.len();
        if expiry.max_age_days > 0 {
            let oldest = now.saturating_sub(u64::from(expiry.max_age_days) * 86_400);
            self.tokens.retain(|_, c| u64::from(c.atime) >= oldest);
        }
        if expiry.max_tokens > 0 && self.tokens.len() > expiry.max_tokens {
            let keep = expiry.max_tokens * 3 / 4;
            let mut order: Vec<(u32, u32, Token)> = self
                .tokens
                .iter()
                .map(|(k, c)| (c.atime, c.spam.saturating_add(c.ham), *k))
                .collect();
            // Newest first, then most often seen: the first `keep` survive.
            order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
            for (_, _, k) in &order[keep..] {
                self.tokens.remove(k);
            }
        }
        before - self.tokens.len()
    }

    fn commit(&mut self) -> Result<()> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let expiry = self.store.expiry.clone();
        self.expire(&expiry, now);
        let image = self.image();
        let path = &self.store.path;
        let tmp = self.store.sibling(".tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&image)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Make the rename itself durable; not every platform can open a directory.
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        };
        write().map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn store(dir: &Path) -> FileStore {
        FileStore::new(dir.join("bayes.db"), Expiry::default())
    }

    #[test]
    fn roundtrip_and_missing_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        assert_eq!(s.load().unwrap().len(), 0);
        assert_eq!(s.version().unwrap(), None);
        let mut t = s.begin_file().unwrap();
        let now = now();
        t.update(7, 1, 0, now);
        t.update(3, 0, 2, now);
        t.update(3, 1, 0, now);
        t.add_totals(1, 2);
        t.set_seen(99, Some(Class::Spam));
        t.set_seen(5, Some(Class::Ham));
        t.set_copies(5, 3);
        t.set_copies(42, 2); // not learned: no effect
        t.commit().unwrap();
        drop(t);
        let snap = s.load().unwrap();
        assert_eq!(snap.totals(), Totals { spam: 1, ham: 2 });
        assert_eq!(
            snap.counts(3),
            Counts {
                spam: 1,
                ham: 2,
                atime: now as u32
            }
        );
        assert_eq!(snap.counts(8), Counts::default());
        let seen = |id, class, copies| Seen { id, class, copies };
        assert_eq!(
            snap.seen(),
            &[seen(5, Class::Ham, 3), seen(99, Class::Spam, 1)]
        );
        // A transaction reads the copies back; relearning as a class resets them to one.
        let mut t = s.begin_file().unwrap();
        assert_eq!((t.copies(5), t.copies(99), t.copies(42)), (3, 1, 0));
        t.set_copies(99, 1000);
        assert_eq!(t.copies(99), MAX_COPIES);
        t.set_seen(5, Some(Class::Spam));
        assert_eq!(t.copies(5), 1);
        drop(t);
        assert!(s.version().unwrap().is_some());
    }

    /// Databases written before train-on-error have 0 in the spare field of each learned
    /// id: one copy. A count past [`MAX_COPIES`] is damage.
    #[test]
    fn seen_records_without_copies_read_as_one_copy() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let mut t = s.begin_file().unwrap();
        t.set_seen(7, Some(Class::Spam));
        let mut image = t.image();
        drop(t);
        let rec = image.len() - 8 - SEEN_REC;
        assert_eq!(u32_at(&image, rec + 12), 0, "one copy is stored as 0 extra");
        let snap = Snapshot::parse(&image, Path::new("x")).unwrap();
        assert_eq!(snap.seen()[0].copies, 1);
        image[rec + 12..rec + 16].copy_from_slice(&MAX_COPIES.to_le_bytes());
        let n = image.len() - 8;
        let sum = fnv(&image[..n]);
        image[n..].copy_from_slice(&sum.to_le_bytes());
        let err = Snapshot::parse(&image, Path::new("x")).unwrap_err();
        assert!(err.to_string().contains("copy count"), "{err}");
    }

    #[test]
    fn torn_write_leaves_old_database_readable() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let mut t = s.begin_file().unwrap();
        t.update(1, 5, 0, now());
        t.add_totals(5, 0);
        t.commit().unwrap();
        let good = t.image();
        drop(t);
        // A learner killed while writing leaves a partial temporary file: ignored.
        std::fs::write(s.sibling(".tmp"), &good[..good.len() / 2]).unwrap();
        assert_eq!(s.load().unwrap().totals().spam, 5);
        // The next learner replaces it.
        let mut t = s.begin_file().unwrap();
        t.add_totals(1, 0);
        t.commit().unwrap();
        drop(t);
        assert_eq!(s.load().unwrap().totals().spam, 6);
        // A database damaged in place (truncated, flipped byte) is an error, not a panic.
        for cut in [0, 7, HEADER, good.len() - 9, good.len() - 1] {
            std::fs::write(s.path(), &good[..cut]).unwrap();
            let e = s.load().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Bayes, "cut {cut}: {e}");
        }
        let mut flipped = good.clone();
        flipped[HEADER + 9] ^= 0x40;
        std::fs::write(s.path(), &flipped).unwrap();
        assert!(s.load().unwrap_err().to_string().contains("checksum"));
    }

    #[test]
    fn unlearn_saturates_and_removes_empty_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = store(dir.path()).begin_file().unwrap();
        t.update(1, 1, 0, 10);
        t.update(1, -3, -1, 11);
        assert_eq!(t.len(), 0);
        t.add_totals(-5, -5);
        assert_eq!(t.totals(), Totals::default());
    }

    #[test]
    fn expiry_by_age_and_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = store(dir.path()).begin_file().unwrap();
        let day = 86_400u64;
        let now = 1_000 * day;
        t.update(1, 1, 0, now - 400 * day);
        for k in 2..=101u64 {
            t.update(k, 1, 0, now - k * 60);
        }
        let removed = t.expire(
            &Expiry {
                max_age_days: 365,
                max_tokens: 0,
            },
            now,
        );
        assert_eq!(removed, 1);
        assert_eq!(t.counts(1), Counts::default());
        let removed = t.expire(
            &Expiry {
                max_age_days: 0,
                max_tokens: 80,
            },
            now,
        );
        assert_eq!(removed, 40);
        // The newest survive.
        assert_eq!(t.counts(2).spam, 1);
        assert_eq!(t.counts(101), Counts::default());
    }

    #[test]
    fn concurrent_readers_while_one_learns() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let mut last = 0;
                        let mut reads = 0;
                        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                            let snap = s.load().expect("every snapshot is complete");
                            let spam = snap.totals().spam;
                            assert!(spam >= last, "totals went backwards");
                            // Each commit adds one message and its token together.
                            assert_eq!(snap.len() as u64, spam);
                            last = spam;
                            reads += 1;
                        }
                        reads
                    })
                })
                .collect();
            let mut t = s.begin_file().unwrap();
            for k in 0..200u64 {
                t.update(k, 1, 0, now());
                t.add_totals(1, 0);
                t.commit().unwrap();
            }
            drop(t);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            for r in readers {
                assert!(r.join().unwrap() > 0);
            }
        });
        assert_eq!(s.load().unwrap().totals().spam, 200);
    }
}

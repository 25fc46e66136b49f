//! Signature scanning with ClamAV databases.
//!
//! A [`SignatureSet`] is compiled once when the engine is built and matched over every object.
//! Built in, with no files at all: the EICAR test file, found anywhere in any decoded object (a
//! body pattern, so a leading newline or appended data do not hide it, unlike ClamAV's hash
//! signature).
//!
//! Databases load as `clamscan -d` loads them: a file, or every database file in a directory.
//! Formats: `.hdb`/`.hsb` (whole-object hashes), `.ndb` (body patterns), `.ldb` (logical
//! signatures), `.fp`/`.sfp` (allow by hash), `.ign2` (ignore by name), and `.cvd`/`.cld`
//! containers of those. A malformed line is skipped, counted and reported with its file and line;
//! the rest of the file loads. Formats this engine does not implement are counted and listed by
//! [`SignatureSet::describe`].
//!
//! Matching: hashes are computed once per object, only for the kinds and sizes some signature
//! needs, and looked up by (size, hash). Every body pattern's longest fixed run goes into one
//! Aho-Corasick automaton; each hit is verified against the whole pattern.

mod cvd;
mod hdb;
mod ldb;
mod matcher;
mod ndb;
mod normalize;

use crate::filetype::FileType;
use crate::object::{Object, Origin};
use crate::{Error, ErrorKind};
use hdb::HashDb;
use matcher::{Matcher, MatcherBuilder, Memo, PatternFlags};
use memchr::memmem;
use ndb::LineError;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The EICAR anti-virus test file, assembled from two halves so that this source file is not
/// itself detected by scanners that read it.
pub const EICAR: &[u8] = concat!(
    r"X5O!P%@AP[4\PZX54(P^)7CC)7}$",
    "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
)
.as_bytes();

/// The name EICAR is reported under (ClamAV's body signature name).
pub const EICAR_NAME: &str = "Eicar-Test-Signature";

/// A signature that matched an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureMatch {
    /// The signature name.
    pub name: String,
}

/// How many lines of one database format loaded, were malformed, or are not supported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FormatCount {
    loaded: usize,
    bad: usize,
    unsupported: usize,
}

/// Extensions ClamAV loads that this engine does not implement, with what they are.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("cbc", "bytecode"),
    ("cdb", "container metadata"),
    ("crb", "certificate trust"),
    ("cat", "certificate catalog"),
    ("ftm", "file type magic"),
    ("gdb", "global hash allow list"),
    ("hdu", "PUA hashes"),
    ("hsu", "PUA hashes"),
    ("idb", "icon hashes"),
    ("imp", "PE import table hashes"),
    ("info", "database index"),
    ("ldu", "PUA logical"),
    ("mdb", "PE section hashes"),
    ("mdu", "PUA PE section hashes"),
    ("msb", "PE section hashes"),
    ("msu", "PUA PE section hashes"),
    ("ndu", "PUA body"),
    ("pdb", "phishing domains"),
    ("gdb", "phishing"),
    ("wdb", "phishing allow list"),
    ("cfg", "engine configuration"),
    ("ign", "old ignore list"),
    ("yar", "YARA"),
    ("yara", "YARA"),
    ("pwdb", "archive passwords"),
    ("sign", "database signature"),
];

const SUPPORTED: &[&str] = &["hdb", "hsb", "ndb", "ldb", "fp", "sfp", "ign2"];

fn extension(name: &str) -> Option<String> {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

fn is_database(ext: &str) -> bool {
    ext == "cvd"
        || ext == "cld"
        || SUPPORTED.contains(&ext)
        || UNSUPPORTED.iter().any(|(e, _)| *e == ext)
}

/// Whose pattern a compiled body pattern is.
#[derive(Debug, Clone, Copy)]
enum Owner {
    /// An `.ndb` signature (index into `ndb_names`).
    Ndb(u32),
    /// Subsignature `sub` of logical signature `ldb`.
    Ldb { ldb: u32, sub: u8 },
}

/// Everything collected while loading, before compiling.
#[derive(Debug, Default)]
struct Loader {
    counts: BTreeMap<String, FormatCount>,
    errors: Vec<String>,
    error_count: usize,
    hashes: HashDb,
    fp: HashDb,
    ignored: HashSet<String>,
    bodies: Vec<ndb::NdbSig>,
    logical: Vec<ldb::LdbSig>,
    containers: Vec<String>,
}

/// At most this many error lines are kept for [`SignatureSet::describe`]; all are counted.
const MAX_ERRORS_KEPT: usize = 200;

impl Loader {
    fn note(&mut self, ext: &str, file: &str, line: usize, r: Result<(), LineError>) {
        let c = self.counts.entry(ext.to_string()).or_default();
        match r {
            Ok(()) => c.loaded += 1,
            Err(LineError::Bad(m)) => {
                c.bad += 1;
                self.error_count += 1;
                if self.errors.len() < MAX_ERRORS_KEPT {
                    self.errors.push(format!("{file}:{line}: {m}"));
                }
            }
            Err(LineError::Unsupported(m)) => {
                c.unsupported += 1;
                if self.errors.len() < MAX_ERRORS_KEPT {
                    self.errors.push(format!("{file}:{line}: unsupported: {m}"));
                }
            }
        }
    }

    fn load_path(&mut self, path: &Path) -> crate::Result<()> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .and_then(extension)
                        .is_some_and(|e| is_database(&e))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Error::new(
                    ErrorKind::Signatures,
                    format!("{}: no signature database files found", path.display()),
                ));
            }
            for f in files {
                self.load_file(&f)?;
            }
            Ok(())
        } else {
            self.load_file(path)
        }
    }

    fn load_file(&mut self, path: &Path) -> crate::Result<()> {
        let name = path.display().to_string();
        let ext = extension(&name).unwrap_or_default();
        if !is_database(&ext) {
            return Err(Error::new(
                ErrorKind::Signatures,
                format!("{name}: not a ClamAV database (unknown extension `{ext}`)"),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.load_bytes(&name, &ext, &bytes);
        Ok(())
    }

    fn load_bytes(&mut self, file: &str, ext: &str, bytes: &[u8]) {
        if ext == "cvd" || ext == "cld" {
            let mut inner = Vec::new();
            match cvd::unpack(bytes, &mut |name, data| {
                inner.push((name.to_string(), data.to_vec()));
            }) {
                Ok(h) => self.containers.push(format!(
                    "{file}: version {}, {} signatures, built {}",
                    h.version, h.signatures, h.built
                )),
                Err(e) => {
                    self.error_count += 1;
                    self.errors.push(format!("{file}: {e}"));
                }
            }
            for (name, data) in inner {
                if let Some(e) = extension(&name).filter(|e| is_database(e)) {
                    self.load_bytes(&format!("{file}/{name}"), &e, &data);
                }
            }
            return;
        }
        if !SUPPORTED.contains(&ext) {
            let lines = bytes
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
                .count();
            let c = self.counts.entry(ext.to_string()).or_default();
            c.unsupported += lines;
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let r = self.load_line(ext, line);
            self.note(ext, file, i + 1, r);
        }
    }

    fn load_line(&mut self, ext: &str, line: &str) -> Result<(), LineError> {
        match ext {
            "hdb" | "hsb" => {
                let sig = hdb::parse_hash_line(line)?;
                self.hashes.insert(sig);
            }
            "fp" | "sfp" => {
                let sig = hdb::parse_hash_line(line)?;
                self.fp.insert(sig);
            }
            "ign2" => {
                let name = line.split(':').next().unwrap_or("").trim();
                if name.is_empty() {
                    return ndb::bad("empty signature name");
                }
                self.ignored.insert(name.to_string());
            }
            "ndb" => self.bodies.push(ndb::parse_ndb_line(line)?),
            "ldb" => self.logical.push(ldb::parse_ldb_line(line)?),
            _ => return ndb::unsupported(format!("format `.{ext}`")),
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Compiled {
    hashes: HashDb,
    fp: HashDb,
    ndb_names: Vec<String>,
    logical: Vec<ldb::LdbSig>,
    /// Logical signatures with no hex subsignature, evaluated on every view of their target.
    always: Vec<u32>,
    owners: Vec<Owner>,
    matcher: Matcher,
    /// Which target types have at least one body pattern.
    targets: [bool; 16],
    counts: BTreeMap<String, FormatCount>,
    errors: Vec<String>,
    error_count: usize,
    ignored_dropped: usize,
    containers: Vec<String>,
    memo: Mutex<Vec<Memo>>,
}

/// A compiled set of signatures.
///
/// # Cloning
///
/// The compiled databases sit behind one `Arc`: cloning is cheap and clones share them.
///
/// # Fallibility
///
/// Loading fails only when a file or directory cannot be read or holds no database at all; a
/// malformed line is skipped and counted. Scanning never fails and never panics on content.
#[derive(Debug, Clone)]
pub struct SignatureSet {
    eicar: Option<memmem::Finder<'static>>,
    db: Option<Arc<Compiled>>,
}

/// Whether an object of this kind is routed to a ClamAV target type when its raw bytes are
/// scanned.
fn raw_target_applies(target: u8, object: &Object<'_>) -> bool {
    match target {
        0 => true,
        1 => object.detected == FileType::Pe || is_pe(&object.data),
        2 => object.detected == FileType::Ole2,
        4 => matches!(object.origin, Origin::Message | Origin::EmbeddedMessage),
        5 => object.detected == FileType::Image,
        6 => object.detected == FileType::Elf,
        9 => object.detected == FileType::MachO,
        10 => object.detected == FileType::Pdf,
        _ => false,
    }
}

/// An MZ header whose `e_lfanew` points at a `PE\0\0` signature.
fn is_pe(d: &[u8]) -> bool {
    if d.len() < 0x40 || &d[..2] != b"MZ" {
        return false;
    }
    let off = u32::from_le_bytes([d[0x3c], d[0x3d], d[0x3e], d[0x3f]]) as usize;
    off.checked_add(4)
        .and_then(|e| d.get(off..e))
        .is_some_and(|s| s == b"PE\0\0")
}

impl SignatureSet {
    /// Only the built-in signatures.
    pub fn builtin() -> Self {
        SignatureSet {
            eicar: Some(memmem::Finder::new(EICAR).into_owned()),
            db: None,
        }
    }

    /// No signatures at all.
    pub fn empty() -> Self {
        SignatureSet {
            eicar: None,
            db: None,
        }
    }

    /// Loads the signature databases a configuration names (files or directories, as
    /// `clamscan -d`), plus the built-in signatures when it asks for them.
    ///
    /// # Errors
    ///
    /// A path that cannot be read, a file with an extension that is no ClamAV database, a
    /// directory without any database. Malformed lines are not errors: they are skipped,
    /// counted and listed by [`SignatureSet::describe`] with file and line.
    pub fn load(config: &crate::config::SignatureConfig) -> crate::Result<Self> {
        let mut set = if config.builtin {
            Self::builtin()
        } else {
            Self::empty()
        };
        if config.databases.is_empty() {
            return Ok(set);
        }
        let mut loader = Loader::default();
        for path in &config.databases {
            loader.load_path(path)?;
        }
        set.db = Some(Arc::new(Self::compile(loader)?));
        Ok(set)
    }

    /// Loads one database from memory as if read from a file named `file_name` (its extension
    /// picks the format), plus the built-in signatures. For the fuzz targets in `fuzz/`, which
    /// feed the loaders arbitrary bytes without touching the file system.
    ///
    /// # Errors
    ///
    /// An extension that is no ClamAV database, or a set that cannot be compiled.
    #[doc(hidden)]
    pub fn from_database_bytes(file_name: &str, bytes: &[u8]) -> crate::Result<Self> {
        let ext = extension(file_name).unwrap_or_default();
        if !is_database(&ext) {
            return Err(Error::new(
                ErrorKind::Signatures,
                format!("{file_name}: not a ClamAV database (unknown extension `{ext}`)"),
            ));
        }
        let mut loader = Loader::default();
        loader.load_bytes(file_name, &ext, bytes);
        let mut set = Self::builtin();
        set.db = Some(Arc::new(Self::compile(loader)?));
        Ok(set)
    }

    fn compile(mut l: Loader) -> crate::Result<Compiled> {
        let mut dropped = l.hashes.retain_names(&l.ignored);
        let mut mb = MatcherBuilder::default();
        let mut ndb_names = Vec::new();
        let mut owners = Vec::new();
        let mut targets = [false; 16];
        for sig in l.bodies.drain(..) {
            if l.ignored.contains(&sig.name) {
                dropped += 1;
                continue;
            }
            let owner = owners.len() as u32;
            if mb.add(
                sig.elems,
                sig.target,
                sig.offset,
                owner,
                PatternFlags::default(),
            ) {
                targets[usize::from(sig.target) & 15] = true;
                owners.push(Owner::Ndb(ndb_names.len() as u32));
                ndb_names.push(sig.name);
            }
        }
        let mut logical = Vec::new();
        let mut always = Vec::new();
        for sig in l.logical.drain(..) {
            if l.ignored.contains(&sig.name) {
                dropped += 1;
                continue;
            }
            let li = logical.len() as u32;
            targets[usize::from(sig.target) & 15] = true;
            let mut any_hex = false;
            for (si, sub) in sig.subs.iter().enumerate() {
                if let ldb::Sub::Hex(h) = sub {
                    for v in &h.variants {
                        let owner = owners.len() as u32;
                        let flags = PatternFlags {
                            nocase: h.nocase,
                            fullword: h.fullword,
                        };
                        if mb.add(v.clone(), sig.target, h.offset, owner, flags) {
                            owners.push(Owner::Ldb {
                                ldb: li,
                                sub: si as u8,
                            });
                            any_hex = true;
                        }
                    }
                }
            }
            if !any_hex {
                always.push(li);
            }
            logical.push(sig);
        }
        let matcher = mb
            .build()
            .map_err(|e| Error::new(ErrorKind::Signatures, e))?;
        Ok(Compiled {
            hashes: l.hashes,
            fp: l.fp,
            ndb_names,
            logical,
            always,
            owners,
            matcher,
            targets,
            counts: l.counts,
            errors: l.errors,
            error_count: l.error_count,
            ignored_dropped: dropped,
            containers: l.containers,
            memo: Mutex::new(Vec::new()),
        })
    }

    /// What was loaded, for `mailwarden check-config`: one line per item.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!(
            "signatures: {} loaded{}",
            self.len(),
            if self.eicar.is_some() {
                " (including built-in EICAR)"
            } else {
                ""
            }
        )];
        if let Some(db) = &self.db {
            for c in &db.containers {
                out.push(format!("signatures: {c}"));
            }
            for (ext, c) in &db.counts {
                let what = UNSUPPORTED
                    .iter()
                    .find(|(e, _)| e == ext)
                    .map(|(_, w)| format!(" (.{ext}: {w}, not supported)"))
                    .unwrap_or_default();
                out.push(format!(
                    "signatures: .{ext}: {} loaded, {} malformed, {} unsupported{what}",
                    c.loaded, c.bad, c.unsupported
                ));
            }
            if db.ignored_dropped > 0 {
                out.push(format!(
                    "signatures: {} ignored by .ign2",
                    db.ignored_dropped
                ));
            }
            for e in &db.errors {
                out.push(format!("signatures: {e}"));
            }
            if db.error_count > db.errors.len() {
                out.push(format!(
                    "signatures: ... {} more malformed lines",
                    db.error_count - db.errors.len()
                ));
            }
        }
        out
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        usize::from(self.eicar.is_some())
            + self
                .db
                .as_ref()
                .map_or(0, |d| d.hashes.len() + d.ndb_names.len() + d.logical.len())
    }

    /// Whether the set has no signatures.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Matches every signature against one object, appending matches to `out` (each signature
    /// name at most once per object).
    pub fn scan(&self, object: &Object<'_>, out: &mut Vec<SignatureMatch>) {
        let first = out.len();
        let push = |out: &mut Vec<SignatureMatch>, name: &str| {
            if !out[first..].iter().any(|m| m.name == name) {
                out.push(SignatureMatch {
                    name: name.to_string(),
                });
            }
        };
        if let Some(f) = &self.eicar
            && f.find(&object.data).is_some()
        {
            push(out, EICAR_NAME);
        }
        let Some(db) = &self.db else { return };
        let data: &[u8] = &object.data;
        if !db.fp.is_empty() {
            let mut allowed = false;
            db.fp.lookup(data, &mut |_| allowed = true);
            if allowed {
                out.truncate(first);
                return;
            }
        }
        db.hashes.lookup(data, &mut |name| push(out, name));
        let mut memo = db
            .memo
            .lock()
            .ok()
            .and_then(|mut m| m.pop())
            .unwrap_or_default();
        let mut names: Vec<&str> = Vec::new();
        let raw: Vec<u8> = (0..16u8)
            .filter(|&t| db.targets[usize::from(t)] && raw_target_applies(t, object))
            .collect();
        if !raw.is_empty() {
            db.scan_view(data, data.len(), &raw, &mut memo, &mut names);
        }
        let html = object.detected == FileType::Html || object.is_html();
        if db.targets[3] && html {
            let v = normalize::html(data);
            for view in [&v.nocomment, &v.notags, &v.scripts] {
                if !view.is_empty() {
                    db.scan_view(view, data.len(), &[3], &mut memo, &mut names);
                }
            }
        }
        if db.targets[7] && !html && (object.detected == FileType::Text || object.is_text()) {
            let v = normalize::text(data);
            db.scan_view(&v, data.len(), &[7], &mut memo, &mut names);
        }
        for n in names {
            push(out, n);
        }
        if let Ok(mut m) = db.memo.lock() {
            m.push(memo);
        }
    }
}

impl Compiled {
    /// Matches the patterns of `targets` over one view of an object (`size`: the object's own
    /// size, for `FileSize`), adding the names of signatures that match.
    fn scan_view<'s>(
        &'s self,
        view: &[u8],
        size: usize,
        targets: &[u8],
        memo: &mut Memo,
        names: &mut Vec<&'s str>,
    ) {
        let done: std::cell::RefCell<HashSet<u32>> = Default::default();
        let mut counts: BTreeMap<u32, [u32; ldb::MAX_SUBSIGS]> = BTreeMap::new();
        let mut last_hit: HashMap<u32, usize> = HashMap::new();
        self.matcher.scan(
            view,
            memo,
            &mut |_bi, b| {
                targets.contains(&b.target)
                    && match self.owners[b.owner as usize] {
                        Owner::Ndb(n) => !done.borrow().contains(&n),
                        Owner::Ldb { .. } => true,
                    }
            },
            &mut |bi, start| match self.owners[self.matcher.body(bi).owner as usize] {
                Owner::Ndb(n) => {
                    if done.borrow_mut().insert(n) {
                        names.push(&self.ndb_names[n as usize]);
                    }
                }
                Owner::Ldb { ldb, sub } => {
                    // one count per distinct position of a pattern
                    if last_hit.insert(bi, start) != Some(start) {
                        let c = &mut counts.entry(ldb).or_insert([0; ldb::MAX_SUBSIGS])
                            [usize::from(sub)];
                        *c = c.saturating_add(1);
                    }
                }
            },
        );
        for &li in &self.always {
            if targets.contains(&self.logical[li as usize].target) {
                counts.entry(li).or_insert([0; ldb::MAX_SUBSIGS]);
            }
        }
        for (li, mut c) in counts {
            let sig = &self.logical[li as usize];
            if let Some((lo, hi)) = sig.file_size
                && ((size as u64) < lo || (size as u64) > hi)
            {
                continue;
            }
            for (si, sub) in sig.subs.iter().enumerate() {
                if let ldb::Sub::Pcre(p) = sub
                    && p.trigger.as_ref().is_none_or(|t| t.eval(&c).truth)
                {
                    let n = p
                        .regex
                        .find_iter(view)
                        .filter(|m| p.offset.accepts(m.start(), view.len()))
                        .count();
                    c[si] = n.min(u32::MAX as usize) as u32;
                }
            }
            if sig.expr.eval(&c).truth && !names.contains(&sig.name.as_str()) {
                names.push(&sig.name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_sync() {
        fn check<T: Send + Sync + std::panic::UnwindSafe>() {}
        check::<SignatureSet>();
        check::<SignatureMatch>();
    }
}

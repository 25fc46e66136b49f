//! Whole-object hash signatures: `.hdb` / `.hsb` (`Hash:Size:Name[:MinFL[:MaxFL]]`, MD5, SHA1
//! or SHA256 told apart by length, `*` for any size), also used by the `.fp` / `.sfp` allow lists.

use super::ndb::{LineError, bad};
use md5::Digest;
use std::collections::{HashMap, HashSet};

/// Which digest a hash signature uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum HashKind {
    Md5 = 0,
    Sha1 = 1,
    Sha256 = 2,
}

/// A parsed hash line.
#[derive(Debug, Clone)]
pub(crate) struct HashSig {
    pub kind: HashKind,
    pub hash: [u8; 32],
    /// `None`: any size (`*`).
    pub size: Option<u64>,
    pub name: String,
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if !s.len().is_multiple_of(2) || s.len() > 64 {
        return None;
    }
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Parses one hash line.
pub(crate) fn parse_hash_line(line: &str) -> Result<HashSig, LineError> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 3 || f.len() > 5 {
        return bad(format!(
            "expected Hash:Size:Name[:MinFL[:MaxFL]], got {} fields",
            f.len()
        ));
    }
    let kind = match f[0].len() {
        32 => HashKind::Md5,
        40 => HashKind::Sha1,
        64 => HashKind::Sha256,
        n => return bad(format!("hash of {n} hex digits is not MD5, SHA1 or SHA256")),
    };
    let hash = unhex(f[0]).ok_or_else(|| LineError::Bad(format!("bad hex in hash `{}`", f[0])))?;
    let size = if f[1] == "*" {
        None
    } else {
        Some(
            f[1].parse::<u64>()
                .or_else(|_| bad(format!("bad size `{}`", f[1])))?,
        )
    };
    if f[2].is_empty() {
        return bad("empty signature name");
    }
    for fl in &f[3..] {
        if !fl.is_empty() {
            fl.parse::<u32>()
                .or_else(|_| bad(format!("bad functionality level `{fl}`")))?;
        }
    }
    Ok(HashSig {
        kind,
        hash,
        size,
        name: f[2].to_string(),
    })
}

#[derive(Debug, Clone, Default)]
struct KindTable {
    exact: HashMap<(u64, [u8; 32]), u32>,
    any_size: HashMap<[u8; 32], u32>,
    sizes: HashSet<u64>,
}

/// Hash signatures of all three kinds, looked up by (size, hash).
#[derive(Debug, Clone, Default)]
pub(crate) struct HashDb {
    tables: [KindTable; 3],
    names: Vec<String>,
}

impl HashDb {
    pub(crate) fn insert(&mut self, sig: HashSig) {
        let t = &mut self.tables[sig.kind as usize];
        let id = self.names.len() as u32;
        let slot = match sig.size {
            Some(s) => {
                t.sizes.insert(s);
                t.exact.entry((s, sig.hash))
            }
            None => {
                return {
                    if let std::collections::hash_map::Entry::Vacant(v) = t.any_size.entry(sig.hash)
                    {
                        v.insert(id);
                        self.names.push(sig.name);
                    }
                };
            }
        };
        if let std::collections::hash_map::Entry::Vacant(v) = slot {
            v.insert(id);
            self.names.push(sig.name);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Calls `found` with the name of every signature whose hash matches `data`, computing each
    /// digest at most once and only when a signature of that kind and size exists.
    pub(crate) fn lookup<'s>(&'s self, data: &[u8], found: &mut dyn FnMut(&'s str)) {
        let size = data.len() as u64;
        for (k, t) in self.tables.iter().enumerate() {
            if t.any_size.is_empty() && !t.sizes.contains(&size) {
                continue;
            }
            let mut h = [0u8; 32];
            match k {
                0 => h[..16].copy_from_slice(&md5::Md5::digest(data)),
                1 => h[..20].copy_from_slice(&sha1::Sha1::digest(data)),
                _ => h.copy_from_slice(&sha2::Sha256::digest(data)),
            }
            if let Some(&id) = t.exact.get(&(size, h)) {
                found(&self.names[id as usize]);
            }
            if let Some(&id) = t.any_size.get(&h) {
                found(&self.names[id as usize]);
            }
        }
    }

    /// Drops signatures whose name is in `ignored`; returns how many were dropped.
    pub(crate) fn retain_names(&mut self, ignored: &HashSet<String>) -> usize {
        if ignored.is_empty() {
            return 0;
        }
        let mut dropped = 0;
        let names = &self.names;
        for t in &mut self.tables {
            let before = t.exact.len() + t.any_size.len();
            t.exact
                .retain(|_, id| !ignored.contains(&names[*id as usize]));
            t.any_size
                .retain(|_, id| !ignored.contains(&names[*id as usize]));
            dropped += before - t.exact.len() - t.any_size.len();
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_finds_by_kind_and_size() {
        let data = b"hello world";
        let md5 = format!("{:x}", md5::Md5::digest(data));
        let sha1 = format!("{:x}", sha1::Sha1::digest(data));
        let sha256 = format!("{:x}", sha2::Sha256::digest(data));
        let mut db = HashDb::default();
        db.insert(parse_hash_line(&format!("{md5}:11:A")).unwrap());
        db.insert(parse_hash_line(&format!("{sha1}:*:B:73")).unwrap());
        db.insert(parse_hash_line(&format!("{sha256}:12:C")).unwrap());
        let mut got = Vec::new();
        db.lookup(data, &mut |n| got.push(n.to_string()));
        got.sort();
        assert_eq!(got, ["A", "B"]);
        let mut got = Vec::new();
        db.lookup(b"hello worlD", &mut |n| got.push(n.to_string()));
        assert!(got.is_empty());
        assert!(parse_hash_line("abcd:1:X").is_err());
        assert!(parse_hash_line(&format!("{md5}:x:X")).is_err());
        assert!(parse_hash_line(&format!("{md5}:11")).is_err());
    }
}

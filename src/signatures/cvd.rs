//! `.cvd` / `.cld` containers: a 512-byte header (`ClamAV-VDB:time:version:sigs:flevel:md5:
//! dsig:builder:time`, space padded), then a tar archive, gzip-compressed in `.cvd` files and
//! usually plain in `.cld` files, holding ordinary database files.

use std::io::Read;

/// The header length.
pub(crate) const HEADER: usize = 512;
/// Cap on the unpacked size of one container (freshclam's main.cvd unpacks to a few hundred MB).
pub(crate) const MAX_UNPACKED: u64 = 4 << 30;

/// Parsed header fields that `describe` reports.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub version: String,
    pub signatures: String,
    pub built: String,
}

/// Reads the header and calls `entry(name, bytes)` for every regular file in the archive.
pub(crate) fn unpack(bytes: &[u8], entry: &mut dyn FnMut(&str, &[u8])) -> Result<Header, String> {
    if bytes.len() < HEADER || !bytes.starts_with(b"ClamAV-VDB:") {
        return Err("not a CVD/CLD file (no ClamAV-VDB header)".into());
    }
    let head = String::from_utf8_lossy(&bytes[..HEADER]);
    let f: Vec<&str> = head.trim_end_matches([' ', '\0']).split(':').collect();
    if f.len() < 4 {
        return Err("malformed ClamAV-VDB header".into());
    }
    let header = Header {
        built: f[1].to_string(),
        version: f[2].to_string(),
        signatures: f[3].to_string(),
    };
    let body = &bytes[HEADER..];
    let reader: Box<dyn Read> = if body.starts_with(b"\x1f\x8b") {
        Box::new(flate2::read::GzDecoder::new(body))
    } else {
        Box::new(body)
    };
    let mut ar = tar::Archive::new(reader.take(MAX_UNPACKED));
    let entries = ar
        .entries()
        .map_err(|e| format!("reading the archive: {e}"))?;
    for e in entries {
        let mut e = e.map_err(|e| format!("reading the archive: {e}"))?;
        if !e.header().entry_type().is_file() {
            continue;
        }
        let name = e
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut data = Vec::new();
        e.read_to_end(&mut data)
            .map_err(|err| format!("reading {name}: {err}"))?;
        entry(&name, &data);
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a container from `(name, text)` files; `gzip` as in `.cvd`.
    fn build(files: &[(&str, &str)], gzip: bool) -> Vec<u8> {
        let mut tarball = tar::Builder::new(Vec::new());
        for (name, text) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tarball.append_data(&mut h, name, text.as_bytes()).unwrap();
        }
        let tarball = tarball.into_inner().unwrap();
        let mut out = format!(
            "ClamAV-VDB:22 Nov 2026 07-00 +0000:7:{}:90:x:y:test:0",
            files.len()
        )
        .into_bytes();
        out.resize(HEADER, b' ');
        if gzip {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
            gz.write_all(&tarball).unwrap();
            gz.finish().unwrap()
        } else {
            out.extend_from_slice(&tarball);
            out
        }
    }

    #[test]
    fn unpacks_plain_and_gzipped() {
        for gz in [true, false] {
            let c = build(&[("a.ndb", "A:0:*:616263\n"), ("b.hdb", "x")], gz);
            let mut seen = Vec::new();
            let h = unpack(&c, &mut |n, b| seen.push((n.to_string(), b.len()))).unwrap();
            assert_eq!(h.version, "7");
            assert_eq!(seen, [("a.ndb".to_string(), 13), ("b.hdb".to_string(), 1)]);
        }
        assert!(unpack(b"garbage", &mut |_, _| {}).is_err());
        let mut bad = build(&[("a.ndb", "A:0:*:616263\n")], true);
        bad.truncate(HEADER + 10);
        assert!(unpack(&bad, &mut |_, _| {}).is_err());
    }
}

//! Helpers shared by the integration tests: test payloads built at run time, so the repository
//! never holds a live test virus, and the corpus location.
#![allow(dead_code)]

use mailwarden::signatures::EICAR;

/// Base64 without line breaks.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Uuencoded lines (no begin/end).
pub fn uuencode(data: &[u8]) -> String {
    let enc = |v: u8| if v == 0 { '`' } else { (v + 32) as char };
    let mut out = String::new();
    for line in data.chunks(45) {
        out.push((line.len() as u8 + 32) as char);
        for c in line.chunks(3) {
            let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
            out.push(enc(b[0] >> 2));
            out.push(enc((b[0] << 4 | b[1] >> 4) & 63));
            out.push(enc((b[1] << 2 | b[2] >> 6) & 63));
            out.push(enc(b[2] & 63));
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// A whole yEnc block.
pub fn yenc(data: &[u8], name: &str) -> Vec<u8> {
    let mut out = format!("=ybegin line=128 size={} name={name}\n", data.len()).into_bytes();
    for &c in data {
        let e = c.wrapping_add(42);
        if matches!(e, 0 | b'\n' | b'\r' | b'=') {
            out.push(b'=');
            out.push(e.wrapping_add(64));
        } else {
            out.push(e);
        }
    }
    out.extend_from_slice(format!("\n=yend size={}", data.len()).as_bytes());
    out
}

/// A whole BinHex 4.0 block (CRCs left zero: the decoder does not need them).
pub fn binhex(data: &[u8], name: &str) -> String {
    const A: &[u8; 64] = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
    let mut raw = vec![name.len() as u8];
    raw.extend_from_slice(name.as_bytes());
    raw.push(0);
    raw.extend_from_slice(b"TEXTttxt");
    raw.extend_from_slice(&[0, 0]);
    raw.extend_from_slice(&(data.len() as u32).to_be_bytes());
    raw.extend_from_slice(&0u32.to_be_bytes());
    raw.extend_from_slice(&[0, 0]);
    raw.extend_from_slice(data);
    raw.extend_from_slice(&[0, 0, 0, 0]);
    // Escape the run-length marker.
    let mut rle = Vec::new();
    for &c in &raw {
        rle.push(c);
        if c == 0x90 {
            rle.push(0);
        }
    }
    let mut out = String::from("(This file must be converted with BinHex 4.0)\n:");
    let (mut acc, mut bits) = (0u32, 0);
    for &c in &rle {
        acc = acc << 8 | u32::from(c);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(A[(acc >> bits) as usize & 63] as char);
        }
    }
    if bits > 0 {
        out.push(A[(acc << (6 - bits)) as usize & 63] as char);
    }
    out.push(':');
    out
}

/// Replaces the payload placeholders of a fixture.
pub fn substitute(text: &[u8]) -> Vec<u8> {
    let b64 = base64(EICAR);
    let garbage: String = b64
        .trim_end_matches('=')
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            if i % 10 == 9 {
                vec![c, '!', '#']
            } else {
                vec![c]
            }
        })
        .collect();
    let pairs: Vec<(&[u8], Vec<u8>)> = vec![
        (b"{{EICAR}}", EICAR.to_vec()),
        (b"{{EICAR_B64}}", b64.clone().into_bytes()),
        (b"{{EICAR_B64_GARBAGE}}", garbage.into_bytes()),
        (b"{{EICAR_UU}}", uuencode(EICAR).into_bytes()),
        (b"{{EICAR_YENC}}", yenc(EICAR, "eicar.com")),
        (b"{{EICAR_BINHEX}}", binhex(EICAR, "eicar.com").into_bytes()),
        (b"{{LATIN1_E_ACUTE}}", vec![0xe9]),
    ];
    let mut out = text.to_vec();
    for (from, to) in pairs {
        while let Some(at) = memchr::memmem::find(&out, from) {
            out.splice(at..at + from.len(), to.iter().copied());
        }
    }
    out
}

/// LF line ends to CRLF (bare CRs and existing CRLFs kept).
pub fn to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 20);
    for (i, &c) in data.iter().enumerate() {
        if c == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(c);
    }
    out
}

/// The unpacked SpamAssassin public corpus, if available: `MAILWARDEN_CORPUS`, else
/// `target/corpus` unpacked from `../shared` on demand.
pub fn corpus_dir() -> Option<std::path::PathBuf> {
    if let Ok(dir) = std::env::var("MAILWARDEN_CORPUS") {
        let dir = std::path::PathBuf::from(dir);
        if dir.is_dir() {
            return Some(dir);
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dest = root.join("target/corpus");
    if root.join("target/corpus.complete").exists() {
        return Some(dest);
    }
    let script = root.join("../shared/tools/unpack-corpus.sh");
    if script.exists() {
        let ok = std::process::Command::new("bash")
            .arg(&script)
            .arg(&dest)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(dest);
        }
    }
    None
}

/// Every `.eml` file below `dir`, sorted.
pub fn eml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .expect("readable corpus dir")
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

//! Criterion benchmarks of the unpack stage on generated archive-heavy mail.
//!
//! The input is 240 messages built here (no files): each carries one container of a rotating
//! kind, with text, HTML and binary members and EICAR in one message of every eight, at
//! depth 1 to 4:
//!
//! - `zip-in-zip`: a zip holding a zip holding documents;
//! - `tar.gz`: a tar of six members, gzip-compressed;
//! - `bz2`: one document, bzip2-compressed;
//! - `docx`: an OOXML-shaped zip (`[Content_Types].xml`, `word/document.xml`);
//! - `eml-zip`: a forwarded message (message/rfc822) whose attachment is a zip;
//! - `gz-tar-zip`: a zip inside a tar inside gzip.
//!
//! Benchmarks (names `area/case/variant`):
//!
//! - `unpack/containers/<kind>`: the unpackers alone (`archive::unpacker_for(..).unpack`,
//!   recursively over what they emit) on the raw containers, prebuilt, with a fresh budget each;
//! - `unpack/mail/defaults`: the whole `Engine::scan` of the messages (MIME, decode, unpack,
//!   match, score).
//!
//! Both assert their result inside the loop: the member count, and the number of messages found
//! to carry EICAR, so a broken unpacker cannot look fast.

use criterion::{Criterion, Throughput, black_box};
use mailwarden::archive::{Unpack, unpacker_for};
use mailwarden::object::{Object, Origin};
use mailwarden::{Budget, Category, Engine, Envelope, Limits};
use std::io::Write;
use std::time::Duration;

const KINDS: [&str; 6] = [
    "zip-in-zip",
    "tar.gz",
    "bz2",
    "docx",
    "eml-zip",
    "gz-tar-zip",
];

/// Some text of `n` bytes that compresses like mail text does (about 3:1).
fn text(seed: usize, n: usize) -> Vec<u8> {
    let words = [
        "invoice ",
        "the ",
        "attached ",
        "please ",
        "find ",
        "report ",
        "quarter ",
        "numbers ",
        "meeting ",
        "\r\n",
        "regards ",
        "total: ",
        "1,234.56 ",
        "EUR ",
        "<b>",
        "</b>",
    ];
    let mut x = seed as u64 * 0x9e37_79b9 + 1;
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(words[(x % words.len() as u64) as usize].as_bytes());
    }
    out.truncate(n);
    out
}

/// Pseudo-random bytes (a binary that does not compress).
fn binary(seed: usize, n: usize) -> Vec<u8> {
    let mut x = seed as u64 | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn zip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(name.as_str(), opts).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

fn tar(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_path(name).expect("tar path");
        h.set_cksum();
        b.append(&h, &data[..]).expect("tar append");
    }
    b.into_inner().expect("tar finish")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip finish")
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).expect("bzip2");
    e.finish().expect("bzip2 finish")
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len() * 4 / 3 + data.len() / 38);
    for (i, c) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            s.push_str("\r\n");
        }
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        s.push(A[(n >> 18) as usize & 63] as char);
        s.push(A[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

fn mail(subject: &str, name: &str, ctype: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "From: sender@example.org\r\nTo: rcpt@example.net\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
         Subject: {subject}\r\nMessage-ID: <{subject}@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n--=_b\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\r\nPlease find the file attached.\r\n\
         --=_b\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{}\r\n--=_b--\r\n",
        base64(data)
    )
    .into_bytes()
}

/// One generated container.
struct Container {
    /// Its bytes.
    data: Vec<u8>,
    /// Attachment file name.
    name: String,
    /// Declared MIME type.
    ty: &'static str,
    /// Members at every level that the unpackers must emit.
    members: usize,
    /// For `eml-zip`: the forwarded message that carries the zip (the whole-scan benchmark
    /// sends it as message/rfc822; the unpacker benchmark gets the zip).
    forwarded: Option<Vec<u8>>,
}

/// One container of kind `k` (index into [`KINDS`]).
fn container(i: usize, k: usize, eicar: bool) -> Container {
    let c = |data, name, ty, members| Container {
        data,
        name,
        ty,
        members,
        forwarded: None,
    };
    let mut docs: Vec<(String, Vec<u8>)> = vec![
        (format!("report-{i}.txt"), text(i, 12_000)),
        (format!("page-{i}.html"), text(i + 1, 6_000)),
        (format!("data-{i}.bin"), binary(i, 3_000)),
    ];
    if eicar {
        let mut p = text(i + 2, 500);
        p.extend_from_slice(mailwarden::signatures::EICAR);
        docs.push((format!("tool-{i}.com"), p));
    }
    let n = docs.len();
    match KINDS[k] {
        "zip-in-zip" => {
            let inner = zip(&docs);
            let outer = zip(&[
                ("inner.zip".into(), inner),
                ("readme.txt".into(), text(i + 3, 2_000)),
            ]);
            c(outer, format!("files-{i}.zip"), "application/zip", n + 2)
        }
        "tar.gz" => {
            let mut all = docs.clone();
            all.push(("notes.txt".into(), text(i + 4, 4_000)));
            all.push(("more.txt".into(), text(i + 5, 4_000)));
            let t = tar(&all);
            c(
                gzip(&t),
                format!("files-{i}.tar.gz"),
                "application/gzip",
                n + 3,
            )
        }
        "bz2" => {
            let doc = if eicar {
                docs.pop().unwrap().1
            } else {
                text(i, 20_000)
            };
            c(
                bzip2(&doc),
                format!("doc-{i}.txt.bz2"),
                "application/x-bzip2",
                1,
            )
        }
        "docx" => {
            let mut all = vec![
                (
                    "[Content_Types].xml".to_string(),
                    b"<?xml version=\"1.0\"?><Types/>".to_vec(),
                ),
                ("word/document.xml".into(), text(i, 15_000)),
            ];
            all.extend(docs);
            let name = format!("letter-{i}.docx");
            let ty = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
            c(zip(&all), name, ty, n + 2)
        }
        "eml-zip" => {
            let z = zip(&docs);
            let inner = mail(&format!("fwd-{i}"), "files.zip", "application/zip", &z);
            Container {
                forwarded: Some(inner),
                ..c(z, format!("fwd-{i}.zip"), "application/zip", n)
            }
        }
        "gz-tar-zip" => {
            let z = zip(&docs);
            let t = tar(&[
                ("bundle.zip".into(), z),
                ("list.txt".into(), text(i + 6, 3_000)),
            ]);
            c(
                gzip(&t),
                format!("bundle-{i}.tgz"),
                "application/gzip",
                n + 3,
            )
        }
        _ => unreachable!(),
    }
}

/// Unpacks `data` and everything inside it, as the engine's worklist does; returns the number of
/// members emitted.
fn unpack_all(data: &[u8], limits: &Limits) -> usize {
    let mut budget = Budget::new(limits, data.len() as u64);
    let mut work: Vec<Object<'static>> = vec![Object {
        depth: 1,
        ..Object::new("1", Origin::MimePart, data.to_vec())
    }];
    let mut members = 0;
    while let Some(o) = work.pop() {
        let Some(u) = unpacker_for(o.detected) else {
            continue;
        };
        let mut out = Unpack {
            budget: &mut budget,
            children: Vec::new(),
            findings: Vec::new(),
            unsupported_unchecked: true,
        };
        u.unpack(&o, &mut out);
        members += out.children.len();
        work.extend(out.children);
    }
    members
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let limits = Limits::default();
    let engine = Engine::with_defaults();
    let env = Envelope::new().recipient("rcpt@example.net");

    let mut messages = Vec::new();
    let mut containers: Vec<Vec<(Vec<u8>, usize)>> = vec![Vec::new(); KINDS.len()];
    let mut infected = 0;
    for i in 0..240 {
        let k = i % KINDS.len();
        let eicar = i % 8 == 0;
        infected += usize::from(eicar);
        let Container {
            data,
            name,
            ty,
            members,
            forwarded,
        } = container(i, k, eicar);
        let msg = if let Some(inner) = forwarded {
            format!(
                "From: sender@example.org\r\nTo: rcpt@example.net\r\n\
                 Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: fwd {i}\r\n\
                 Message-ID: <f{i}@example.org>\r\nMIME-Version: 1.0\r\n\
                 Content-Type: message/rfc822\r\n\r\n"
            )
            .into_bytes()
            .into_iter()
            .chain(inner)
            .collect()
        } else {
            mail(&format!("m{i}"), &name, ty, &data)
        };
        messages.push(msg);
        containers[k].push((data, members));
    }
    let bytes: u64 = messages.iter().map(|m| m.len() as u64).sum();
    eprintln!(
        "input: {} generated messages, {:.1} MB, {infected} carrying EICAR",
        messages.len(),
        bytes as f64 / 1e6
    );

    for (k, kind) in KINDS.iter().enumerate() {
        let set = &containers[k];
        let expected: usize = set.iter().map(|(_, n)| n).sum();
        assert_eq!(
            set.iter()
                .map(|(d, _)| unpack_all(d, &limits))
                .sum::<usize>(),
            expected,
            "{kind}: member count"
        );
        let size: u64 = set.iter().map(|(d, _)| d.len() as u64).sum();
        let mut g = c.benchmark_group("unpack/containers");
        g.throughput(Throughput::Bytes(size));
        g.bench_function(*kind, |b| {
            b.iter(|| {
                let n: usize = set
                    .iter()
                    .map(|(d, _)| unpack_all(black_box(d), &limits))
                    .sum();
                assert_eq!(n, expected);
                n
            })
        });
        g.finish();
    }

    let mut g = c.benchmark_group("unpack/mail");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("defaults", |b| {
        b.iter(|| {
            let mut found = 0;
            for m in &messages {
                let r = engine.scan(black_box(m), &env);
                assert!(
                    r.unchecked().next().is_none(),
                    "nothing here is over a limit"
                );
                if r.category == Category::Virus {
                    found += 1;
                }
            }
            assert_eq!(found, infected, "every EICAR found, at every depth");
            found
        })
    });
    g.finish();
    c.final_summary();
}

//! TNEF (`winmail.dat`, `application/ms-tnef`): Outlook's wrapper around attachments, which
//! amavisd-new and MIMEDefang open with Convert::TNEF.
//!
//! The stream is a signature (`0x223E9F78`), a key, then attributes: a level byte (1 message,
//! 2 attachment), a 32-bit id (low half the attribute, high half its type), a 32-bit length,
//! the data and a 16-bit checksum. An attachment starts with `attAttachRendData`; its
//! `attAttachTitle` names it (often an 8.3 short name) and `attAttachData` holds its bytes.
//! The attachment's MAPI property block (`attAttachment`) is read for the names Outlook
//! shows and saves under: `PR_ATTACH_LONG_FILENAME` (the member's name, as Convert::TNEF's
//! `longname`, which amavisd-new uses), `PR_ATTACH_FILENAME` and `PR_DISPLAY_NAME`; the title
//! and those are its other names, which the banned rules check too. Other attributes are
//! skipped. A length running past the end ends the walk with UNCHECKED `undecodable`; what
//! was complete is still emitted.

use super::{Unpack, Unpacker};
use crate::object::Object;
use crate::report::UncheckedReason;

/// The TNEF unpacker.
pub struct TnefUnpacker;

const SIGNATURE: u32 = 0x223e_9f78;
const LEVEL_ATTACHMENT: u8 = 2;
const ATT_ATTACH_DATA: u16 = 0x800f;
const ATT_ATTACH_TITLE: u16 = 0x8010;
const ATT_ATTACH_REND_DATA: u16 = 0x9002;
const ATT_ATTACHMENT: u16 = 0x9005;

/// MAPI properties naming an attachment, in the order a reader prefers them.
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PR_ATTACH_FILENAME: u16 = 0x3704;
const PR_DISPLAY_NAME: u16 = 0x3001;

/// One attachment: its title, the names its MAPI properties give, and its data (a range of
/// the input).
#[derive(Debug, Default, PartialEq)]
struct Attachment {
    title: Option<String>,
    /// (property id, name) from the attachment's MAPI property block.
    mapi_names: Vec<(u16, String)>,
    data: Option<(usize, usize)>,
}

/// The last path component of a name, trimmed; `None` when nothing is left.
fn base_name(raw: &str) -> Option<String> {
    let name = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// The naming properties of a MAPI property block (MS-OXTNEF `attAttachment`): a count,
/// then per property its type and id, a name for named properties, and its value(s), each
/// padded to four bytes. Reading stops at the first property it cannot size.
fn mapi_names(d: &[u8]) -> Vec<(u16, String)> {
    let u32_at = |p: usize| -> Option<usize> {
        let b = d.get(p..p.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let pad = |n: usize| n.checked_add(3).map(|v| v & !3);
    let mut names = Vec::new();
    let Some(count) = u32_at(0) else {
        return names;
    };
    let mut p = 4usize;
    // Every property takes at least 8 bytes, so the length bounds the loop as well.
    for _ in 0..count.min(d.len() / 8) {
        let Some(tag) = u32_at(p) else { break };
        let (kind, id) = ((tag & 0xffff) as u16, (tag >> 16) as u16);
        p += 4;
        if id >= 0x8000 {
            // Named: a GUID, then a number or a UTF-16 name.
            let Some(named) = u32_at(p + 16) else { break };
            p += 20;
            if named == 1 {
                let Some(len) = u32_at(p).and_then(pad) else {
                    break;
                };
                p = match p.checked_add(4 + len) {
                    Some(n) => n,
                    None => break,
                };
            } else {
                p += 4;
            }
        }
        let multi = kind & 0x1000 != 0;
        let fixed = match kind & !0x1000 {
            0x0002 | 0x0003 | 0x0004 | 0x000a | 0x000b => Some(4),
            0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => Some(8),
            0x0048 => Some(16),
            0x001e | 0x001f | 0x0102 | 0x000d => None,
            _ => break,
        };
        match fixed {
            Some(size) => {
                let n = if multi {
                    let Some(n) = u32_at(p) else { break };
                    p += 4;
                    n
                } else {
                    1
                };
                p = match n.checked_mul(size).and_then(|b| p.checked_add(b)) {
                    Some(next) if next <= d.len() => next,
                    _ => break,
                };
            }
            None => {
                let Some(n) = u32_at(p) else { break };
                p += 4;
                for _ in 0..n.min(d.len()) {
                    let Some(len) = u32_at(p) else { return names };
                    let Some(value) = d.get(p + 4..(p + 4).saturating_add(len)) else {
                        return names;
                    };
                    if matches!(
                        id,
                        PR_ATTACH_LONG_FILENAME | PR_ATTACH_FILENAME | PR_DISPLAY_NAME
                    ) {
                        let text = if kind & !0x1000 == 0x001f {
                            let units: Vec<u16> = value
                                .chunks_exact(2)
                                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                                .take_while(|&u| u != 0)
                                .collect();
                            String::from_utf16_lossy(&units)
                        } else {
                            let v = value.split(|&b| b == 0).next().unwrap_or(value);
                            String::from_utf8_lossy(v).into_owned()
                        };
                        if let Some(name) = base_name(&text) {
                            names.push((id, name));
                        }
                    }
                    p = match pad(len).and_then(|l| (p + 4).checked_add(l)) {
                        Some(next) => next,
                        None => return names,
                    };
                }
            }
        }
    }
    names
}

/// Walks the attributes. Returns the attachments and, if the stream broke, where.
fn parse(d: &[u8]) -> (Vec<Attachment>, Option<String>) {
    let mut attachments: Vec<Attachment> = Vec::new();
    if d.len() < 6 || u32::from_le_bytes([d[0], d[1], d[2], d[3]]) != SIGNATURE {
        return (attachments, Some("missing TNEF signature".into()));
    }
    let mut pos = 6usize;
    // Every attribute takes at least 11 bytes, so the loop ends within len/11 steps.
    while pos < d.len() {
        let Some(head) = d.get(pos..pos + 9) else {
            return (attachments, Some(format!("truncated attribute at {pos}")));
        };
        let level = head[0];
        let id = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
        let len = u32::from_le_bytes([head[5], head[6], head[7], head[8]]) as usize;
        let start = pos + 9;
        let Some(end) = start.checked_add(len).filter(|&e| e + 2 <= d.len()) else {
            return (
                attachments,
                Some(format!(
                    "attribute at {pos} runs past the end ({len} bytes)"
                )),
            );
        };
        if level == LEVEL_ATTACHMENT {
            match (id & 0xffff) as u16 {
                ATT_ATTACH_REND_DATA => attachments.push(Attachment::default()),
                ATT_ATTACH_TITLE => {
                    if attachments.is_empty() {
                        attachments.push(Attachment::default());
                    }
                    let raw = &d[start..end];
                    let raw = raw.split(|&b| b == 0).next().unwrap_or(raw);
                    if let Some(a) = attachments.last_mut() {
                        a.title = base_name(&String::from_utf8_lossy(raw));
                    }
                }
                ATT_ATTACHMENT => {
                    if attachments.is_empty() {
                        attachments.push(Attachment::default());
                    }
                    if let Some(a) = attachments.last_mut() {
                        a.mapi_names = mapi_names(&d[start..end]);
                    }
                }
                ATT_ATTACH_DATA => {
                    if attachments.last().is_none_or(|a| a.data.is_some()) {
                        attachments.push(Attachment::default());
                    }
                    if let Some(a) = attachments.last_mut() {
                        a.data = Some((start, end));
                    }
                }
                _ => {}
            }
        }
        pos = end + 2;
    }
    (attachments, None)
}

impl Unpacker for TnefUnpacker {
    fn name(&self) -> &'static str {
        "tnef"
    }

    fn unpack(&self, object: &Object<'_>, out: &mut Unpack<'_>) {
        let d: &[u8] = &object.data;
        let (attachments, broken) = parse(d);
        if let Some(why) = broken {
            let container = object.member_path("");
            out.budget.note(
                UncheckedReason::Undecodable,
                container.trim_end_matches('/'),
                format!("corrupt TNEF: {why}"),
            );
        }
        for (i, a) in attachments.iter().enumerate() {
            let Some((start, end)) = a.data else { continue };
            // Every name once: the long file name first (what Outlook saves under), then the
            // title, then the other MAPI names.
            let rank = |id: u16| match id {
                PR_ATTACH_LONG_FILENAME => 0,
                PR_ATTACH_FILENAME => 2,
                _ => 3,
            };
            let mut ranked: Vec<(u8, &String)> = a
                .mapi_names
                .iter()
                .map(|(id, n)| (rank(*id), n))
                .chain(a.title.iter().map(|t| (1, t)))
                .collect();
            ranked.sort_by_key(|(r, _)| *r);
            let mut names: Vec<String> = Vec::new();
            for (_, n) in ranked {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
            let name = if names.is_empty() {
                format!("attachment-{}", i + 1)
            } else {
                names.remove(0)
            };
            let path = object.member_path(&name);
            // A copy, but charged like any decoded output.
            let (data, _) = out.budget.read_to_end(&d[start..end], 0, &path);
            if !out.emit_named(object, &name, names, data) || out.budget.is_exhausted() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
        let mut v = vec![level];
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        let sum = data.iter().map(|&b| u32::from(b)).sum::<u32>() as u16;
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    #[test]
    fn attachments_and_truncation() {
        let mut d = SIGNATURE.to_le_bytes().to_vec();
        d.extend_from_slice(&[1, 0]);
        d.extend(attr(1, 0x0001_8004, b"subject\0"));
        d.extend(attr(2, 0x0006_9002, &[0; 14]));
        d.extend(attr(2, 0x0001_8010, b"C:\\x\\report.exe\0"));
        d.extend(attr(2, 0x0006_800f, b"MZdata"));
        d.extend(attr(2, 0x0006_9002, &[0; 14]));
        d.extend(attr(2, 0x0006_800f, b"second"));
        let (a, broken) = parse(&d);
        assert_eq!(broken, None);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].title.as_deref(), Some("report.exe"));
        let (s, e) = a[0].data.unwrap();
        assert_eq!(&d[s..e], b"MZdata");
        assert_eq!(a[1].title, None);

        // Truncate inside the last attribute: the first attachment survives.
        let cut = &d[..d.len() - 5];
        let (a, broken) = parse(cut);
        assert!(broken.is_some());
        assert_eq!(a[0].title.as_deref(), Some("report.exe"));
        assert!(a.iter().filter(|a| a.data.is_some()).count() == 1);

        // Hostile length.
        let mut h = SIGNATURE.to_le_bytes().to_vec();
        h.extend_from_slice(&[1, 0, 2, 0x0f, 0x80, 6, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(parse(&h).1.is_some());
        assert!(parse(b"junk").1.is_some());
    }

    /// A property block: a PT_LONG, a named PT_BOOLEAN, PR_ATTACH_FILENAME (PT_STRING8),
    /// PR_ATTACH_LONG_FILENAME (PT_UNICODE).
    fn mapi_block() -> Vec<u8> {
        let mut m = 4u32.to_le_bytes().to_vec();
        m.extend_from_slice(&0x3705_0003u32.to_le_bytes());
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&0x8005_000bu32.to_le_bytes());
        m.extend_from_slice(&[1; 16]);
        m.extend_from_slice(&0u32.to_le_bytes());
        m.extend_from_slice(&0x8123u32.to_le_bytes());
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&0x3704_001eu32.to_le_bytes());
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&16u32.to_le_bytes());
        m.extend_from_slice(b"C:\\REPORT~1.EXE\0");
        m.resize(m.len().next_multiple_of(4), 0);
        m.extend_from_slice(&0x3707_001fu32.to_le_bytes());
        m.extend_from_slice(&1u32.to_le_bytes());
        let long: Vec<u8> = "dir/report.exe\0"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        m.extend_from_slice(&(long.len() as u32).to_le_bytes());
        m.extend_from_slice(&long);
        m
    }

    #[test]
    fn mapi_names_and_hostile_blocks() {
        let m = mapi_block();
        assert_eq!(
            mapi_names(&m),
            [
                (PR_ATTACH_FILENAME, "REPORT~1.EXE".to_string()),
                (PR_ATTACH_LONG_FILENAME, "report.exe".to_string())
            ]
        );
        // Cut anywhere, or any byte changed: no panic, and never more than was there.
        for cut in 0..m.len() {
            assert!(mapi_names(&m[..cut]).len() <= 2);
        }
        for i in 0..m.len() {
            for x in [0x00, 0x80, 0xff] {
                let mut h = m.clone();
                h[i] = x;
                assert!(mapi_names(&h).len() <= 2);
            }
        }
        let huge = [0xff_u8; 64];
        assert!(mapi_names(&huge).is_empty());
    }
}

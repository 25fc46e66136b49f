//! TNEF (`winmail.dat`, `application/ms-tnef`): Outlook's wrapper around attachments, which
//! amavisd-new and MIMEDefang open with Convert::TNEF.
//!
//! The stream is a signature (`0x223E9F78`), a key, then attributes: a level byte (1 message,
//! 2 attachment), a 32-bit id (low half the attribute, high half its type), a 32-bit length,
//! the data and a 16-bit checksum. An attachment starts with `attAttachRendData`; its
//! `attAttachTitle` names it and `attAttachData` holds its bytes. Other attributes (the MAPI
//! property block included) are skipped. A length running past the end ends the walk with
//! UNCHECKED `undecodable`; what was complete is still emitted.

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

/// One attachment: its title and its data (a range of the input).
#[derive(Debug, Default, PartialEq)]
struct Attachment {
    title: Option<String>,
    data: Option<(usize, usize)>,
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
                    let title = String::from_utf8_lossy(raw);
                    let title = title.rsplit(['/', '\\']).next().unwrap_or("").trim();
                    if let Some(a) = attachments.last_mut() {
                        a.title = (!title.is_empty()).then(|| title.to_string());
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
            let name = a
                .title
                .clone()
                .unwrap_or_else(|| format!("attachment-{}", i + 1));
            let path = object.member_path(&name);
            // A copy, but charged like any decoded output.
            let (data, _) = out.budget.read_to_end(&d[start..end], 0, &path);
            if !out.emit(object, &name, data) || out.budget.is_exhausted() {
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
}

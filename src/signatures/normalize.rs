//! ClamAV's text normalizations, the data target types 3 (HTML) and 7 (text) are matched on.
//!
//! - Text (7): whitespace runs become one space, `A-Z` is lowercased, other control bytes and
//!   every byte >= 0x80 are dropped.
//! - HTML (3): three views: the document lowercased with comments removed, character entities
//!   decoded and whitespace collapsed; the same with tags stripped; the contents of `<script>`
//!   elements.

/// At most this much of an HTML object is normalized (ClamAV's MaxHTMLNormalize is 40 MB; its
/// tag-stripped view stops at 8 MB).
pub(crate) const MAX_HTML: usize = 8 << 20;
/// At most this much of a text object is normalized (MaxScriptNormalize, 20 MB).
pub(crate) const MAX_TEXT: usize = 20 << 20;

/// Target 7: the normalized text view.
pub(crate) fn text(data: &[u8]) -> Vec<u8> {
    let data = &data[..data.len().min(MAX_TEXT)];
    let mut out = Vec::with_capacity(data.len());
    let mut space = false;
    for &b in data {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => space = true,
            0x21..=0x7e => {
                if space {
                    out.push(b' ');
                    space = false;
                }
                out.push(b.to_ascii_lowercase());
            }
            _ => {}
        }
    }
    if space {
        out.push(b' ');
    }
    out
}

fn entity(name: &[u8]) -> Option<u32> {
    if let Some(num) = name.strip_prefix(b"#") {
        let (digits, radix) = match num.first() {
            Some(b'x' | b'X') => (&num[1..], 16),
            _ => (num, 10),
        };
        let s = std::str::from_utf8(digits).ok()?;
        return u32::from_str_radix(s, radix).ok();
    }
    Some(match name {
        b"amp" => '&' as u32,
        b"lt" => '<' as u32,
        b"gt" => '>' as u32,
        b"quot" => '"' as u32,
        b"apos" => '\'' as u32,
        b"nbsp" => 0xa0,
        _ => return None,
    })
}

/// Pushes a decoded character: ASCII as a lowercase byte, anything else as UTF-8.
fn push_char(out: &mut Vec<u8>, c: u32) {
    if c < 0x80 {
        out.push((c as u8).to_ascii_lowercase());
    } else if let Some(ch) = char::from_u32(c) {
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
}

/// The three HTML views.
pub(crate) struct HtmlViews {
    pub nocomment: Vec<u8>,
    pub notags: Vec<u8>,
    pub scripts: Vec<u8>,
}

/// Target 3: the normalized HTML views.
pub(crate) fn html(data: &[u8]) -> HtmlViews {
    let data = &data[..data.len().min(MAX_HTML)];
    let mut v = HtmlViews {
        nocomment: Vec::with_capacity(data.len()),
        notags: Vec::with_capacity(data.len() / 2),
        scripts: Vec::new(),
    };
    let mut i = 0;
    let mut in_script = false;
    let mut space_nc = false;
    let mut space_nt = false;
    while i < data.len() {
        let b = data[i];
        if data[i..].starts_with(b"<!--") {
            i = memchr::memmem::find(&data[i + 4..], b"-->").map_or(data.len(), |p| i + 4 + p + 3);
            continue;
        }
        if b == b'<' {
            let end = memchr::memchr(b'>', &data[i..]).map_or(data.len(), |p| i + p + 1);
            let tag = data[i..end].to_ascii_lowercase();
            if space_nc {
                v.nocomment.push(b' ');
                space_nc = false;
            }
            let mut ts = false;
            for &c in &tag {
                if c.is_ascii_whitespace() {
                    ts = true;
                } else {
                    if ts {
                        v.nocomment.push(b' ');
                        ts = false;
                    }
                    v.nocomment.push(c);
                }
            }
            if tag.starts_with(b"<script") {
                in_script = true;
            } else if tag.starts_with(b"</script") {
                in_script = false;
            }
            space_nt = true;
            i = end;
            continue;
        }
        let mut decoded = Vec::new();
        if b == b'&' {
            let semi = data[i + 1..]
                .iter()
                .take(12)
                .position(|&c| c == b';')
                .map(|p| i + 1 + p);
            if let Some(c) = semi.and_then(|s| entity(&data[i + 1..s])) {
                push_char(&mut decoded, c);
                i = semi.map_or(i + 1, |s| s + 1);
            } else {
                decoded.push(b);
                i += 1;
            }
        } else {
            decoded.push(b.to_ascii_lowercase());
            i += 1;
        }
        for c in decoded {
            if c.is_ascii_whitespace() {
                space_nc = true;
                space_nt = true;
                if in_script && v.scripts.last().is_some_and(|&l| l != b' ') {
                    v.scripts.push(b' ');
                }
                continue;
            }
            if space_nc {
                v.nocomment.push(b' ');
                space_nc = false;
            }
            v.nocomment.push(c);
            if space_nt && !v.notags.is_empty() {
                v.notags.push(b' ');
            }
            space_nt = false;
            v.notags.push(c);
            if in_script {
                v.scripts.push(c);
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_view() {
        assert_eq!(text(b"Hello \t\r\n  WORLD\x01\xe9!"), b"hello world!");
    }

    #[test]
    fn html_views() {
        let v =
            html(b"<HTML><!-- hidden --><B>Bad&amp;Evil</B>\n  <script>Var  X=1</script></HTML>");
        assert_eq!(
            v.nocomment,
            b"<html><b>bad&evil</b> <script>var x=1</script></html>"
        );
        assert_eq!(v.notags, b"bad&evil var x=1");
        assert_eq!(v.scripts, b"var x=1");
        let v = html(b"&#x41;&#66;&nbsp;&bogus; <!-- unterminated");
        assert_eq!(v.notags, "ab\u{a0}&bogus;".as_bytes());
    }
}

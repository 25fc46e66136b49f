#!/usr/bin/env python3
"""Malformed and re-encoded variants of corpus messages, for comparing mailwarden's rule hits
with SpamAssassin's on mail that is not clean (benches/compare/rules_mutants.sh).

    python3 tests/rules_sa/mutate.py LIST OUTDIR [MUTATION...]

LIST names one message file per line. Each mutation writes OUTDIR/MUTATION/<file name> for
every message it applies to (a message it does not apply to, say a boundary mutation of a
single-part message, is skipped). Deterministic: the same input gives the same output.
Works on bytes, never through a MIME library, so the damage is exactly what is described.
"""

import base64
import os
import quopri
import re
import sys


def split(msg):
    """(header block with its final newline, separator, body); separator is the blank line."""
    m = re.search(rb"\r?\n\r?\n", msg)
    if not m:
        return msg, b"", b""
    return msg[: m.start() + 1], msg[m.start() + 1 : m.end()], msg[m.end() :]


def fields(head):
    """The header block as a list of fields, each with its continuation lines."""
    out = []
    for line in head.splitlines(keepends=True):
        if out and line[:1] in (b" ", b"\t"):
            out[-1] += line
        else:
            out.append(line)
    return out


def field_index(fs, name):
    name = name.lower() + b":"
    for i, f in enumerate(fs):
        if f.lower().startswith(name):
            return i
    return None


def boundary(head):
    m = re.search(rb'boundary\s*=\s*"?([^";\r\n]+)"?', head, re.I)
    return m.group(1).strip() if m else None


def crlf(msg):
    return re.sub(rb"\r?\n", b"\r\n", msg)


def bare_cr(msg):
    # Only the body: a header block ending in bare CRs is one unparsable line everywhere.
    head, sep, body = split(msg)
    return head + sep + re.sub(rb"\r?\n", b"\r", body) if body else None


def unfold_refold(msg):
    """Every field unfolded, then Subject and To folded at each space with a tab."""
    head, sep, body = split(msg)
    out = []
    for f in fields(head):
        f = re.sub(rb"\r?\n[ \t]+", b" ", f)
        if f.lower().startswith((b"subject:", b"to:")):
            name, value = f.split(b":", 1)
            f = name + b":" + value.rstrip(b"\r\n").replace(b" ", b"\n\t") + b"\n"
            f = f.replace(b":\n\t", b": ", 1)
        out.append(f)
    return b"".join(out) + sep + body


def duplicate_headers(msg):
    """Subject, From and Content-Type each given twice (the copy after the original)."""
    head, sep, body = split(msg)
    fs = fields(head)
    done = False
    for name in (b"subject", b"from", b"content-type"):
        i = field_index(fs, name)
        if i is not None:
            fs.insert(i + 1, fs[i])
            done = True
    return b"".join(fs) + sep + body if done else None


def header_case(msg):
    """Field names in odd case, and no space after the colon."""
    head, sep, body = split(msg)
    out = []
    for f in fields(head):
        m = re.match(rb"([!-9;-~]+):[ \t]?", f)
        if m:
            name = bytes(
                c ^ 0x20 if chr(c).isalpha() and i % 2 else c for i, c in enumerate(m.group(1))
            )
            f = name + b":" + f[m.end() :]
        out.append(f)
    return b"".join(out) + sep + body


def no_final_boundary(msg):
    head, sep, body = split(msg)
    b = boundary(head)
    if not b:
        return None
    close = b"--" + b + b"--"
    i = body.rfind(close)
    return head + sep + body[:i] if i >= 0 else None


def boundary_garbage(msg):
    """Every delimiter line of the top-level boundary followed by spaces and a comment."""
    head, sep, body = split(msg)
    b = boundary(head)
    if not b:
        return None
    pat = re.compile(rb"^(--" + re.escape(b) + rb"(?:--)?)[ \t]*(\r?\n)", re.M)
    new, n = pat.subn(rb"\1   junk\2", body)
    return head + sep + new if n else None


def reencode(msg, how):
    """A single-part text message's body encoded as base64 or quoted-printable."""
    head, sep, body = split(msg)
    fs = fields(head)
    ct = field_index(fs, b"content-type")
    if ct is not None and not re.match(rb"content-type:\s*text/", fs[ct], re.I):
        return None
    if field_index(fs, b"content-transfer-encoding") is not None:
        return None
    if how == "base64":
        data = base64.encodebytes(body)
    else:
        data = quopri.encodestring(body)
    cte = b"Content-Transfer-Encoding: " + how.encode() + b"\n"
    if ct is None:
        fs.append(b"MIME-Version: 1.0\n")
        fs.append(b'Content-Type: text/plain; charset="iso-8859-1"\n')
    fs.append(cte)
    return b"".join(fs) + sep + data


def encoding_case(msg):
    """Content-Transfer-Encoding values upper-cased and padded with spaces."""
    new, n = re.subn(
        rb"(?im)^(content-transfer-encoding:)[ \t]*([A-Za-z0-9-]+)[ \t]*$",
        lambda m: m.group(1) + b"  " + m.group(2).upper() + b"  ",
        msg,
    )
    return new if n else None


def wrapped(msg):
    """The message attached (message/rfc822) to a short multipart/mixed cover note."""
    head, sep, body = split(msg)
    fs = fields(head)
    keep = [f for f in fs if f.lower().startswith((b"from:", b"to:", b"date:", b"subject:"))]
    b = b"==wrap" + str(len(msg)).encode() + b"=="
    out = b"".join(keep)
    out += b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"" + b + b"\"\n\n"
    out += b"--" + b + b"\nContent-Type: text/plain\n\nForwarded message attached.\n"
    out += b"--" + b + b"\nContent-Type: message/rfc822\n\n" + msg
    if not msg.endswith(b"\n"):
        out += b"\n"
    out += b"--" + b + b"--\n"
    return out


def wrapped_base64(msg):
    """The message attached as message/rfc822 in base64 (not allowed by RFC 2046; seen)."""
    b = b"==wrap64" + str(len(msg)).encode() + b"=="
    head, sep, body = split(msg)
    keep = [f for f in fields(head) if f.lower().startswith((b"from:", b"to:", b"subject:"))]
    out = b"".join(keep)
    out += b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"" + b + b"\"\n\n"
    out += b"--" + b + b"\nContent-Type: text/plain\n\nSee the attached message.\n"
    out += b"--" + b + b"\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
    out += base64.encodebytes(msg)
    out += b"--" + b + b"--\n"
    return out


def edit_subject(msg, edit):
    """The message with its (first) Subject field, continuation lines included, replaced by
    `edit(field)`; None when there is no Subject."""
    head, sep, body = split(msg)
    fs = fields(head)
    i = field_index(fs, b"subject")
    if i is None:
        return None
    fs[i] = edit(fs[i])
    return b"".join(fs) + sep + body


def subject_value(field):
    """A Subject field's value, unfolded and trimmed."""
    return re.sub(rb"\r?\n[ \t]+", b" ", field.split(b":", 1)[1]).strip()


def raw_8bit_subject(msg):
    """The Subject's text with an unencoded UTF-8 word appended."""
    return edit_subject(
        msg, lambda f: f.rstrip(b"\r\n") + " r\u00e9sum\u00e9 \u00fcber".encode("utf-8") + b"\n"
    )


def _plain_text_body(msg):
    """(header fields, separator, body) of a single-part text/plain message without a
    transfer encoding, else None."""
    head, sep, body = split(msg)
    fs = fields(head)
    ct = field_index(fs, b"content-type")
    if ct is not None and not re.match(rb"content-type:\s*text/plain", fs[ct], re.I):
        return None
    if field_index(fs, b"content-transfer-encoding") is not None or not body.strip():
        return None
    fs = [f for f in fs if not f.lower().startswith((b"content-type:", b"mime-version:"))]
    return fs, sep, body


def _html_of(text):
    """A text body as simple HTML: paragraphs at blank lines, line breaks, a link for each
    bare http URL, entities for the markup characters."""
    text = text.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
    text = re.sub(rb"(https?://[^\s\"&]+)", rb'<a href="\1">\1</a>', text)
    paras = re.split(rb"\r?\n[ \t]*\r?\n", text)
    out = b"<html><head><title>x</title></head><body>\n"
    for p in paras:
        out += b"<p>" + re.sub(rb"\r?\n", b"<br>\n", p.strip(b"\r\n")) + b"</p>\n"
    return out + b"</body></html>\n"


def as_html(msg):
    """A text/plain message rewritten as text/html."""
    got = _plain_text_body(msg)
    if got is None:
        return None
    fs, sep, body = got
    fs.append(b"MIME-Version: 1.0\nContent-Type: text/html; charset=\"iso-8859-1\"\n")
    return b"".join(fs) + sep + _html_of(body)


def as_alternative(msg):
    """A text/plain message rewritten as multipart/alternative of the text and its HTML."""
    got = _plain_text_body(msg)
    if got is None:
        return None
    fs, sep, body = got
    b = b"==alt" + str(len(msg)).encode() + b"=="
    fs.append(b"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"" + b + b"\"\n")
    out = b"".join(fs) + sep
    out += b"--" + b + b"\nContent-Type: text/plain; charset=\"iso-8859-1\"\n\n" + body
    if not body.endswith(b"\n"):
        out += b"\n"
    out += b"--" + b + b"\nContent-Type: text/html; charset=\"iso-8859-1\"\n\n" + _html_of(body)
    out += b"--" + b + b"--\n"
    return out


def long_lines(msg):
    """A text/plain message's paragraphs each joined into one line (single-part: no line is
    cut by the MIME parser)."""
    got = _plain_text_body(msg)
    if got is None:
        return None
    fs, sep, body = got
    paras = re.split(rb"\r?\n[ \t]*\r?\n", body)
    joined = b"\n\n".join(re.sub(rb"[ \t]*\r?\n[ \t]*", b" ", p.strip()) for p in paras)
    if max(len(p) for p in joined.split(b"\n")) < 1000:
        return None
    return b"".join(fs) + sep + joined + b"\n"


def utf8_body(msg):
    """A text/plain message's 8-bit body read as Latin-1 and sent as UTF-8, declared."""
    got = _plain_text_body(msg)
    if got is None:
        return None
    fs, sep, body = got
    if all(c < 0x80 for c in body):
        body += "\nPr\u00e9sentation: caf\u00e9, na\u00efve, \u00fcber.\n".encode("latin-1")
    fs.append(b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n")
    fs.append(b"Content-Transfer-Encoding: 8bit\n")
    return b"".join(fs) + sep + body.decode("latin-1").encode("utf-8")


def wrapped_twice(msg):
    """The message forwarded, and the forward forwarded."""
    return wrapped(wrapped(msg))


def ctype_odd(msg):
    """Content-Type values in odd case, a comment after the type, parameters spaced out."""
    def fix(m):
        v = m.group(2)
        v = re.sub(rb"^\s*([\w.+-]+/[\w.+-]+)", lambda t: t.group(1).upper() + b" (comment)", v)
        v = re.sub(rb";\s*(\w+)=", lambda t: b" ;  " + t.group(1).upper() + b" = ", v)
        return m.group(1) + v
    new, n = re.subn(rb"(?im)^(content-type:)([^\r\n]*)", fix, msg)
    return new if n else None


def no_mime_version(msg):
    """Every MIME-Version field removed."""
    new, n = re.subn(rb"(?im)^mime-version:[^\n]*\n", b"", msg)
    return new if n else None


def html_entities(msg):
    """A text/plain message as HTML whose letters are numeric character references."""
    got = _plain_text_body(msg)
    if got is None:
        return None
    fs, sep, body = got
    html = _html_of(body)
    out = re.sub(
        rb">([^<]+)<",
        lambda m: b">" + re.sub(rb"[A-Za-z]", lambda c: b"&#%d;" % c.group(0)[0], m.group(1)) + b"<",
        html,
    )
    fs.append(b"MIME-Version: 1.0\nContent-Type: text/html\n")
    return b"".join(fs) + sep + out


def base64_one_line(msg):
    """A single-part text message's body in base64 on one line."""
    out = reencode(msg, "base64")
    if out is None:
        return None
    head, sep, body = split(out)
    return head + sep + body.replace(b"\n", b"") + b"\n"


def conflicting_ctype(msg):
    """A second Content-Type with another value after the first (readers disagree on which
    counts)."""
    head, sep, body = split(msg)
    fs = fields(head)
    i = field_index(fs, b"content-type")
    if i is None or not re.match(rb"content-type:\s*text/plain", fs[i], re.I):
        return None
    fs.insert(i + 1, b"Content-Type: text/html\n")
    return b"".join(fs) + sep + body


def no_separator(msg):
    """The blank line between header and body removed."""
    head, sep, body = split(msg)
    if not body or body[:1] in (b" ", b"\t"):
        return None
    return head + body


def encoded_subject(msg, how):
    """The Subject as RFC 2047 encoded words (UTF-8, split into chunks)."""

    def encode(field):
        text = subject_value(field).decode("latin-1").encode("utf-8")
        words = []
        for k in range(0, len(text), 18):
            chunk = text[k : k + 18]
            if how == "B":
                enc = base64.b64encode(chunk)
            else:
                enc = b"".join(
                    bytes([c]) if chr(c).isalnum() else (b"_" if c == 32 else b"=%02X" % c)
                    for c in chunk
                )
            words.append(b"=?utf-8?" + how.encode() + b"?" + enc + b"?=")
        return b"Subject: " + b"\n ".join(words) + b"\n"

    return edit_subject(msg, encode)


def mixed_eol(msg):
    """Every other line ended with CRLF, the rest with LF (a relay that rewrote some)."""
    lines = re.split(rb"\r?\n", msg)
    out = []
    for k, line in enumerate(lines[:-1]):
        out.append(line + (b"\r\n" if k % 2 else b"\n"))
    out.append(lines[-1])
    return b"".join(out)


def header_junk(msg, line):
    """`line` inserted into the header after the Subject (or first) field: at most one
    stray line, which every reader skips or keeps without ending the header."""
    head, sep, body = split(msg)
    fs = fields(head)
    i = field_index(fs, b"subject")
    fs.insert(1 if i is None else i + 1, line)
    return b"".join(fs) + sep + body


def whitespace_continuation(msg):
    """A whitespace-only continuation line after the Subject (some readers end the header
    there; RFC 5322 makes it part of the field)."""
    return edit_subject(msg, lambda f: f + b" \n")


def ctype_no_semicolon(msg):
    """`Content-Type: text/plain charset=...`: the parameter's semicolon dropped."""
    head, sep, body = split(msg)
    new = re.sub(
        rb"(?im)^(content-type:\s*text/[a-z]+)\s*;\s*(charset=)", rb"\1 \2", head, count=1
    )
    return new + sep + body if new != head else None


def nul_bytes(msg):
    """A NUL byte after every 50th byte of the body."""
    head, sep, body = split(msg)
    if not body:
        return None
    out = b"".join(body[k : k + 50] + b"\0" for k in range(0, len(body), 50))
    return head + sep + out


def long_subject(msg):
    """The Subject made one line of over 1,000 bytes (its words repeated)."""

    def lengthen(field):
        value = subject_value(field) or b"x"
        return b"Subject: " + b" ".join([value] * (1 + 1000 // (len(value) + 1))) + b"\n"

    return edit_subject(msg, lengthen)


def quoted_boundary_spaces(msg):
    """The multipart boundary parameter quoted with blanks around `=`, and a comment."""
    head, sep, body = split(msg)
    b = boundary(head)
    if b is None:
        return None
    new = re.sub(
        rb'boundary\s*=\s*"?' + re.escape(b) + rb'"?',
        b'boundary = "' + b + b'" (a comment)',
        head,
        count=1,
        flags=re.I,
    )
    return new + sep + body if new != head else None


MUTATIONS = {
    "crlf": crlf,
    "bare-cr": bare_cr,
    "refold": unfold_refold,
    "dup-headers": duplicate_headers,
    "header-case": header_case,
    "no-final-boundary": no_final_boundary,
    "boundary-garbage": boundary_garbage,
    "base64-body": lambda m: reencode(m, "base64"),
    "qp-body": lambda m: reencode(m, "quoted-printable"),
    "encoding-case": encoding_case,
    "wrapped": wrapped,
    "wrapped-base64": wrapped_base64,
    "8bit-subject": raw_8bit_subject,
    "as-html": as_html,
    "as-alternative": as_alternative,
    "long-lines": long_lines,
    "utf8-body": utf8_body,
    "wrapped-twice": wrapped_twice,
    "ctype-odd": ctype_odd,
    "no-mime-version": no_mime_version,
    "html-entities": html_entities,
    "base64-one-line": base64_one_line,
    "conflicting-ctype": conflicting_ctype,
    "no-separator": no_separator,
    "subject-b": lambda m: encoded_subject(m, "B"),
    "subject-q": lambda m: encoded_subject(m, "Q"),
    "mixed-eol": mixed_eol,
    "header-junk": lambda m: header_junk(m, b"this line is not a field\n"),
    "header-junk-colon": lambda m: header_junk(m, b"Not A Name: but a colon\n"),
    "ws-continuation": whitespace_continuation,
    "ctype-no-semicolon": ctype_no_semicolon,
    "nul-bytes": nul_bytes,
    "long-subject": long_subject,
    "boundary-spaces": quoted_boundary_spaces,
}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    paths = [p for p in open(sys.argv[1]).read().splitlines() if p]
    names = sys.argv[3:] or list(MUTATIONS)
    for name in names:
        os.makedirs(os.path.join(sys.argv[2], name), exist_ok=True)
        for p in paths:
            with open(p, "rb") as f:
                msg = f.read()
            out = MUTATIONS[name](msg)
            if out is not None and out != msg:
                with open(os.path.join(sys.argv[2], name, os.path.basename(p)), "wb") as f:
                    f.write(out)


if __name__ == "__main__":
    main()

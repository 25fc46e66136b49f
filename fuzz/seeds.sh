#!/usr/bin/env bash
# Builds the seed corpora in fuzz/corpus/<target>/ from the repository's own fixtures (the golden
# MIME corpus, the sample messages) and from small archives, databases, rule and configuration
# files generated here, so no megabytes of seeds are committed. Idempotent: existing files (and
# whatever libFuzzer added to the corpora) are kept.
#
#   bash fuzz/seeds.sh
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
mkdir -p corpus
python3 - "$root" <<'PY'
import bz2, gzip, hashlib, io, lzma, os, struct, sys, tarfile, zipfile, zlib

root = sys.argv[1]
corpus = os.path.join(root, "fuzz", "corpus")

def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# EICAR, built here so no live test virus is committed
eicar = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# messages: the golden corpus and the examples
mails = []
for top in ("tests/golden", "examples/messages"):
    for dirpath, _, files in os.walk(os.path.join(root, top)):
        for f in sorted(files):
            if f.endswith(".eml"):
                mails.append((f, open(os.path.join(dirpath, f), "rb").read()))
for name, data in mails:
    for t in ("scan", "scan_stock", "mime"):
        put(t, name, data)

def zip_of(members, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for n, d in members:
            z.writestr(n, d)
    return b.getvalue()

def tar_of(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.GNU_FORMAT) as t:
        for n, d in members:
            i = tarfile.TarInfo(n)
            i.size = len(d)
            t.addfile(i, io.BytesIO(d))
    return b.getvalue()

def tnef_attr(level, ident, data):
    return (bytes([level]) + struct.pack("<II", ident, len(data)) + data
            + struct.pack("<H", sum(data) & 0xFFFF))

def tnef_of(members):
    d = struct.pack("<I", 0x223E9F78) + b"\x01\x00"
    d += tnef_attr(1, 0x00018004, b"subject\0")
    for n, data in members:
        d += tnef_attr(2, 0x00069002, bytes(14))
        d += tnef_attr(2, 0x00018010, n.encode() + b"\0")
        d += tnef_attr(2, 0x0006800F, data)
    return d

def mapi_long_name(name):
    """An attAttachment MAPI block: PR_ATTACH_METHOD, then PR_ATTACH_LONG_FILENAME."""
    u = (name + "\0").encode("utf-16-le")
    m = struct.pack("<III", 2, 0x37050003, 1)
    m += struct.pack("<III", 0x3707001F, 1, len(u)) + u + bytes(-len(u) % 4)
    return m

def sevenz_of(members, lzma2=True):
    """A minimal 7z: one folder (LZMA2 or copy) holding every member, plain header."""
    def num(n):  # 7z NUMBER, enough for values below 2^14
        return bytes([n]) if n < 0x80 else bytes([0x80 | (n >> 8), n & 0xff])
    data = b"".join(d for _, d in members)
    if lzma2:
        packed = lzma.compress(data, format=lzma.FORMAT_RAW,
                               filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 20}])
        coder = b"\x21\x21" + num(1) + bytes([16])
    else:
        packed, coder = data, b"\x01\x00"
    h = b"\x01\x04"                                              # Header, MainStreamsInfo
    h += b"\x06" + num(0) + num(1) + b"\x09" + num(len(packed)) + b"\x00"  # PackInfo
    h += b"\x07\x0b" + num(1) + b"\x00" + num(1) + coder         # UnpackInfo, one folder
    h += b"\x0c" + num(len(data)) + b"\x00"                      # folder unpack size
    h += b"\x08\x0d" + num(len(members))                          # SubStreamsInfo
    if len(members) > 1:
        h += b"\x09" + b"".join(num(len(d)) for _, d in members[:-1])
    h += b"\x0a\x01" + b"".join(struct.pack("<I", zlib.crc32(d)) for _, d in members)
    h += b"\x00\x00"
    names = b"".join(n.encode("utf-16-le") + b"\0\0" for n, _ in members)
    h += b"\x05" + num(len(members)) + b"\x11" + num(len(names) + 1) + b"\x00" + names
    h += b"\x00\x00"
    start = struct.pack("<QQI", len(packed), len(h), zlib.crc32(h))
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + packed + h

def cab_of(members, method=1):
    """A cabinet, one folder: stored (0), MSZIP (1: blocks sharing their history, as makecab
    writes them) or LZX (3 | 16 << 8: one uncompressed LZX block)."""
    stream = b"".join(d for _, d in members)
    chunks = [stream[i:i + 0x8000] for i in range(0, len(stream), 0x8000)] or [b""]
    blocks = []
    if method == 1:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        for ch in chunks:
            # each block ends the deflate stream; the next refers back into this one
            data = c.compress(ch) + c.flush(zlib.Z_SYNC_FLUSH) + b"\x03\x00"
            blocks.append((b"CK" + data, len(ch)))
    elif method & 0xf == 3:
        if len(stream) % 2:
            stream += b"\n"
            chunks = [stream[i:i + 0x8000] for i in range(0, len(stream), 0x8000)]
        n = len(stream)
        head = struct.pack("<HH", (3 << 12) | ((n >> 12) & 0xfff), (n & 0xfff) << 4) + struct.pack("<III", 1, 1, 1)
        blocks = [(head + chunks[0], len(chunks[0]))] + [(ch, len(ch)) for ch in chunks[1:]]
    else:
        blocks = [(ch, len(ch)) for ch in chunks]
    files, off = b"", 0
    for name, d in members:
        files += struct.pack("<IIHHHH", len(d), off, 0, 0x5921, 0, 0x20) + name.encode() + b"\0"
        off += len(d)
    files_at = 36 + 8
    data_at = files_at + len(files)
    folder = struct.pack("<IHH", data_at, len(blocks), method)
    data = b"".join(struct.pack("<IHH", 0, len(b), u) + b for b, u in blocks)
    total = data_at + len(data)
    head = b"MSCF" + struct.pack("<IIIIIBBHHHHH", 0, total, 0, files_at, 0, 3, 1, 1, len(members), 0, 0x1234, 0)
    return head + folder + files + data

def iso_of(members, joliet=True):
    """An ISO 9660 image: a root directory (primary names, and a Joliet tree when asked)
    holding every member, each in its own sectors."""
    def rec(name, sector, size, flags):
        r = bytearray(33)
        r[2:10] = struct.pack("<I", sector) + struct.pack(">I", sector)
        r[10:18] = struct.pack("<I", size) + struct.pack(">I", size)
        r[25], r[28], r[31], r[32] = flags, 1, 1, len(name)
        r += name
        if len(r) % 2:
            r += b"\0"
        r[0] = len(r)
        return bytes(r)
    data_at = 22
    entries, sector = [], data_at
    for name, d in members:
        entries.append((name, sector, len(d)))
        sector += max(1, (len(d) + 2047) // 2048)
    img = bytearray(sector * 2048)
    def descriptor(at, kind, root):
        s = bytearray(2048)
        s[0], s[1:6], s[6] = kind, b"CD001", 1
        if kind == 2:
            s[88:91] = b"%/E"
        r = rec(b"\0", root, 2048, 2)
        s[156:156 + len(r)] = r
        img[at * 2048:(at + 1) * 2048] = s
    def directory(at, name_of):
        d = rec(b"\0", at, 2048, 2) + rec(b"\1", at, 2048, 2)
        for name, sec, size in entries:
            d += rec(name_of(name), sec, size, 0)
        img[at * 2048:at * 2048 + len(d)] = d
    descriptor(16, 1, 20)
    directory(20, lambda n: n.upper().encode() + b";1")
    term = 17
    if joliet:
        descriptor(17, 2, 21)
        directory(21, lambda n: n.encode("utf-16-be"))
        term = 18
    img[term * 2048] = 255
    img[term * 2048 + 1:term * 2048 + 6] = b"CD001"
    for (name, sec, size), (_, d) in zip(entries, members):
        img[sec * 2048:sec * 2048 + size] = d
    return bytes(img)

def rar5_of(members, method=0):
    """A RAR 5 archive: main header, one file header per member (data as given), end."""
    def vint(v):
        out = bytearray()
        while True:
            b, v = v & 0x7f, v >> 7
            out.append(b | (0x80 if v else 0))
            if not v:
                return bytes(out)
    def block(kind, fields, data=b""):
        flags = 2 if data else 0
        h = vint(kind) + vint(flags) + (vint(len(data)) if data else b"") + fields
        b = vint(len(h)) + h
        return struct.pack("<I", zlib.crc32(b)) + b + data
    out = b"Rar!\x1a\x07\x01\x00" + block(1, vint(0))
    for name, d in members:
        f = vint(4) + vint(len(d)) + vint(0x20) + struct.pack("<I", zlib.crc32(d)) + vint(method << 7)
        f += vint(0) + vint(len(name)) + name.encode()
        out += block(2, f, d)
    return out + block(5, vint(0))

def rar4_of(members):
    """A RAR 1.5-4 archive: marker, archive header, stored file headers, end."""
    def block(kind, flags, fields):
        h = bytes([kind]) + struct.pack("<HH", flags, 7 + len(fields)) + fields
        return struct.pack("<H", zlib.crc32(h) & 0xffff) + h
    out = b"Rar!\x1a\x07\x00" + block(0x73, 0, bytes(6))
    for name, d in members:
        f = struct.pack("<IIBIIBBHI", len(d), len(d), 2, zlib.crc32(d), 0x59210000, 29, 0x30, len(name), 0x20)
        out += block(0x74, 0x8000, f + name.encode()) + d
    return out + block(0x7b, 0x4000, b"")

inner = [("readme.txt", b"hello\n" * 20), ("eicar.com", eicar)]
z = zip_of(inner)
archives = {
    "zip": [z, zip_of(inner, zipfile.ZIP_STORED), zip_of([("in.zip", z), ("b.txt", b"x")]),
            zip_of([("mail.eml", mails[0][1] if mails else b"From: a\n\nhi\n")])],
    "gzip": [gzip.compress(eicar), gzip.compress(z), gzip.compress(b"a") + gzip.compress(b"b"),
             gzip.compress(bytes(200000))],
    "bzip2": [bz2.compress(eicar), bz2.compress(bytes(100000)), bz2.compress(b"a") + bz2.compress(b"b")],
    "tar": [tar_of(inner), tar_of([("x/" + "long" * 40, b"deep"), ("z.zip", z)])],
    "tnef": [tnef_of(inner), tnef_of([("C:\\x\\report.exe", b"MZdata")]),
             tnef_of([("REPORT~1.TXT", eicar)]) + tnef_attr(2, 0x00069005, mapi_long_name("report.exe"))],
    "7z": [sevenz_of(inner), sevenz_of(inner, lzma2=False), sevenz_of([("a.zip", z)])],
    "xz": [lzma.compress(eicar), lzma.compress(tar_of(inner)), lzma.compress(b"a") + lzma.compress(b"b"),
           lzma.compress(bytes(200000))],
    "cab": [cab_of(inner), cab_of(inner, 0), cab_of(inner, 3 | 16 << 8),
            cab_of([("dir\\big.txt", b"line of text\n" * 6000), ("a.zip", z)])],
}
archives["rar"] = [rar5_of(inner), rar4_of(inner), rar5_of([("Invoice.pdf.exe", bytes(40))], method=3),
                   rar4_of([("a.zip", z)])]
archives["iso"] = [iso_of(inner), iso_of(inner, joliet=False),
                   iso_of([("a.zip", z), ("Setup Invoice.exe", b"MZ" + bytes(100))])]
if os.path.exists("/usr/share/clamav-testfiles/clam.cab"):
    archives["cab"].append(open("/usr/share/clamav-testfiles/clam.cab", "rb").read())
for kind, items in archives.items():
    for i, data in enumerate(items):
        put("unpack_" + kind, f"seed-{i}", data)

# archives inside messages for the whole-scan target
import base64
def mail_with(name, data):
    b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return ("From: a@example.org\r\nTo: b@example.net\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
            f"see attached\r\n--b\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "--b--\r\n")
for kind, items in archives.items():
    put("scan", f"archive-{kind}", mail_with("a." + kind, items[0]))
    put("mime", f"archive-{kind}", mail_with("a." + kind, items[0]))

# signature databases
md5 = hashlib.md5(eicar).hexdigest()
sha256 = hashlib.sha256(eicar).hexdigest()
put("sig_hdb", "seed-0", f"{md5}:{len(eicar)}:Eicar.Hdb\n{sha256}:*:Eicar.Hsb:73\n")
put("sig_hdb", "seed-1", "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n# comment\nbad line\n")
hexed = eicar[:20].hex()
put("sig_ndb", "seed-0", f"Eicar.Ndb:0:*:{hexed}\nT.Wild:0:0,40:58354f2150??4041{{1-4}}50\n"
    "T.Alt:3:*:68(65|61)6c6c6f*776f726c64\nT.Nocase:0:EOF-10:414243[2-4]44\n")
put("sig_ndb", "seed-1", "T.Ep:1:EP+0:4d5a\nT.Sect:1:SE1:90909090\nT.Neg:0:*:41!(42)43\n")
put("sig_ldb", "seed-0", f"Eicar.Ldb;Engine:51-255,Target:0;0&1;{eicar[:8].hex()};{eicar[-8:].hex()}::i\n"
    "T.Count;Target:0;(0|1)>2,1;68656c6c6f;776f726c64::w\n"
    "T.Pcre;Target:0;0&1;636c69636b;0/click\\s+https?:\\/\\//i\n")
put("sig_ldb", "seed-1", "T.Meta;Target:0;((0&1)|2)=0;414141;424242;434343\n")
def cvd(files, compress=True):
    t = tar_of(files)
    body = gzip.compress(t) if compress else t
    head = f"ClamAV-VDB:29 Nov 2026 05-00 +0000:1:{len(files)}:90:{hashlib.md5(body).hexdigest()}:x:fuzz:1764392400"
    return head.encode().ljust(512, b" ") + body
dbs = [("fuzz.ndb", f"Eicar.Ndb:0:*:{hexed}\n".encode()),
       ("fuzz.hdb", f"{md5}:{len(eicar)}:Eicar.Hdb\n".encode()),
       ("fuzz.ldb", f"Eicar.Ldb;Target:0;0;{eicar[:8].hex()}\n".encode())]
put("sig_cvd", "seed-0", cvd(dbs))
put("sig_cvd", "seed-1", cvd(dbs, compress=False))

# rules: small hand-written files plus slices of the installed SpamAssassin rules
put("rules_cf", "seed-0", r"""required_score 5
header   T_SUBJ   Subject =~ /\bprobe\b/i
describe T_SUBJ   Subject says probe
score    T_SUBJ   1.5
body     T_CLICK  /click\s+http/
rawbody  T_RAW    /hello world/
uri      T_URI    m{^https?://example\.com/}
full     T_FULL   /MIME-Version/
meta     T_META   (T_SUBJ && T_CLICK) || !T_URI
score    T_META   2.0
header   T_EXISTS exists:X-Mailer
header   T_FROM   From:addr =~ /\@example\.org$/
tflags   T_FULL   noautolearn
body     T_EVAL   eval:check_for_faraway_charset()
ifplugin Mail::SpamAssassin::Plugin::Bayes
body     T_IF     /never/
endif
""")
sa = "/usr/share/spamassassin"
if os.path.isdir(sa):
    for f in ("20_head_tests.cf", "20_body_tests.cf", "20_meta_tests.cf", "20_uri_tests.cf",
              "72_active.cf", "50_scores.cf"):
        p = os.path.join(sa, f)
        if os.path.exists(p):
            lines = open(p, "rb").read().splitlines(keepends=True)
            for i in range(0, min(len(lines), 400), 100):
                put("rules_cf", f"{f}-{i}", b"".join(lines[i:i + 100]))

# configuration
put("config_toml", "seed-0", """[limits]
max_levels = 8
max_files = 100
min_quota = 102400
max_object_size = 1048576
max_time_ms = 30000
max_headers = 500

[policy]
tag_level = 2.0
tag2_level = 6.3
kill_level = 6.9
""")
put("config_toml", "seed-1", """[banned]
defaults = true

[signatures]
builtin = true
stop_on_first = true

[rules]
builtin = false
""")
put("config_toml", "seed-2", "")

# the structured target reads arbitrary bytes as a grammar; any bytes are valid seeds
for name, data in mails[:8]:
    put("structured", name, data)
PY
for d in corpus/*/; do echo "$(basename "$d"): $(ls "$d" | wc -l) seeds"; done

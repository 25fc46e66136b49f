//! Random bytes behind every container magic: the unpackers must neither panic nor run away.

use mailwarden::archive::{Budget, Limits, Unpack, unpacker_for};
use mailwarden::{Object, Origin};
use proptest::prelude::*;

const MAGICS: &[&[u8]] = &[
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b\x08",
    b"BZh91AY&SY",
    b"\x78\x9f\x3e\x22",
    b"7z\xbc\xaf\x27\x1c\x00\x04",
    b"\xfd7zXZ\x00",
    b"Rar!\x1a\x07\x00",
];

fn unpack_once(data: Vec<u8>) {
    let limits = Limits::default();
    let mut budget = Budget::new(&limits, data.len() as u64);
    let object = Object {
        depth: 1,
        name: Some("x".into()),
        ..Object::new("1", Origin::MimePart, data)
    };
    if let Some(u) = unpacker_for(object.detected) {
        let mut out = Unpack {
            budget: &mut budget,
            children: Vec::new(),
            findings: Vec::new(),
            unsupported_unchecked: true,
        };
        u.unpack(&object, &mut out);
        assert!(out.children.len() <= limits.max_files as usize);
    }
    assert!(budget.used() <= budget.quota());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_behind_magic_never_panic(
        magic in 0..MAGICS.len(),
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        tail_eocd in any::<bool>(),
    ) {
        let mut data = MAGICS[magic].to_vec();
        data.extend_from_slice(&body);
        if tail_eocd {
            // A zip end record with random counts and offsets.
            data.extend_from_slice(b"PK\x05\x06");
            data.extend_from_slice(&body[..body.len().min(18)]);
            data.resize(data.len() + 18usize.saturating_sub(body.len()), 0xff);
        }
        unpack_once(data);
    }

    #[test]
    fn random_tar_headers_never_panic(body in proptest::collection::vec(any::<u8>(), 512..3072)) {
        let mut data = body;
        data[257..263].copy_from_slice(b"ustar\0");
        unpack_once(data);
    }
}

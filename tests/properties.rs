//! Property tests: arbitrary bytes never panic and always give a verdict; MIME-shaped input
//! (built from structural pieces) likewise, and scanning it twice gives the same report.

use mailwarden::{Category, Engine, Envelope};
use proptest::prelude::*;

fn engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(Engine::with_defaults)
}

/// Pieces that reach deep MIME structure quickly.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"Content-Type: multipart/mixed; boundary=\"b\"\n".to_vec()),
        Just(b"Content-Type: multipart/mixed; boundary=b; boundary=c\n".to_vec()),
        Just(b"Content-Type: message/rfc822\n".to_vec()),
        Just(b"Content-Type: text/html\n".to_vec()),
        Just(b"Content-Transfer-Encoding: base64\n".to_vec()),
        Just(b"Content-Transfer-Encoding: quoted-printable\n".to_vec()),
        Just(b"--b\n".to_vec()),
        Just(b"--b--\n".to_vec()),
        Just(b"--c\n".to_vec()),
        Just(b"begin 644 x\n".to_vec()),
        Just(b"end\n".to_vec()),
        Just(b"=ybegin name=y\n".to_vec()),
        Just(b"<a href=\"data:;base64,QUJD\">".to_vec()),
        Just(b"(This file must be converted with BinHex 4.0)\n:".to_vec()),
        Just(b"=3D=\n".to_vec()),
        Just(b"QUJDRA==\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_give_a_verdict(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let report = engine().scan(&data, &Envelope::new());
        prop_assert!(report.verdict.reply.code >= 200);
        prop_assert!(!report.objects.is_empty());
    }

    #[test]
    fn mime_shaped_input_is_deterministic(pieces in proptest::collection::vec(piece(), 0..64)) {
        let data: Vec<u8> = pieces.concat();
        let a = engine().scan(&data, &Envelope::new());
        let b = engine().scan(&data, &Envelope::new());
        prop_assert_eq!(&a, &b);
        prop_assert!(a.objects.len() <= engine().limits().max_files as usize + 1);
        if a.category == Category::Clean {
            prop_assert!(a.unchecked().next().is_none());
        }
    }
}

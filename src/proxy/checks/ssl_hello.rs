//! `option ssl-hello-chk` (manual §4.2): an SSLv3 ClientHello is sent once
//! the connection is up, and any TLS record in answer proves the server
//! speaks SSL/TLS: a handshake (0x16, a ServerHello) or an alert (0x15,
//! which a server refusing SSLv3 sends). HAProxy 2.6 runs it as a tcp-check
//! expecting at least 5 bytes whose first is 0x15 or 0x16, and words its
//! results "Layer6".

use super::Eval;

/// The SSLv3 ClientHello (RFC 6101 §5.6.1.2), its `gmt_unix_time` set to
/// `unix_secs`: 39 legacy suites (0x0001..=0x001b, 0x002f..=0x003a), NULL
/// compression, no session id, no extension. What a server answers it
/// with is all the check looks at.
pub(super) fn client_hello(unix_secs: u32) -> Vec<u8> {
    let suites: Vec<u16> = (0x0001..=0x001b).chain(0x002f..=0x003a).collect();
    let mut body = vec![0x03, 0x00];
    body.extend(unix_secs.to_be_bytes());
    // The 28 random bytes: HAProxy puts its name there, no secret.
    body.extend(b"POLLUXSSLCHK\nPOLLUXSSLCHK\n\0\0");
    body.push(0); // session id length
    body.extend(((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // one compression method: NULL
    let mut hs = vec![0x01]; // client_hello
    hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut rec = vec![0x16, 0x03, 0x00]; // handshake record, SSLv3
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

/// Judge the answer so far (`last`: nothing more will come).
pub(super) fn eval(rx: &[u8], last: bool) -> Eval {
    if rx.is_empty() && last {
        return Eval::Fail(
            "Layer6 invalid response, info: \"TCPCHK got an empty response at step 2\"".into(),
        );
    }
    // HAProxy's `min-recv 5`: a record header, unless the server closed.
    if rx.len() < 5 && !last {
        return Eval::Wait;
    }
    match rx.first() {
        Some(0x15 | 0x16) => Eval::Pass(Some("Layer6 check passed".into())),
        _ => Eval::Fail("Layer6 invalid response".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hello_is_one_well_formed_sslv3_record() {
        let h = client_hello(0x5f00_0001);
        // record: type, version, length; then the handshake header.
        assert_eq!(&h[..3], [0x16, 0x03, 0x00]);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
        assert_eq!(h[5], 0x01);
        let hs_len = u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize;
        assert_eq!(hs_len, h.len() - 9);
        assert_eq!(h.len(), 5 + 0x79, "the same size as HAProxy's");
        assert_eq!(&h[9..11], [0x03, 0x00]);
        assert_eq!(&h[11..15], 0x5f00_0001u32.to_be_bytes());
        assert_eq!(&h[h.len() - 2..], [1, 0]);
    }

    #[test]
    fn a_tls_record_passes_and_anything_else_fails() {
        let pass = |rx: &[u8], last| matches!(eval(rx, last), Eval::Pass(_));
        assert!(pass(&[0x16, 3, 3, 0, 80], false));
        assert!(pass(&[0x15, 3, 3, 0, 2, 2, 40], false));
        assert!(matches!(eval(&[0x16, 3], false), Eval::Wait));
        assert!(pass(&[0x15, 3], true), "closed after a short alert");
        assert!(
            matches!(eval(b"HTTP/1.1 400", false), Eval::Fail(r) if r == "Layer6 invalid response")
        );
        assert!(matches!(eval(b"", true), Eval::Fail(r) if r.contains("empty response at step 2")));
    }
}

//! OCSP stapling as HAProxy does it from files: a DER OCSP response in
//! `CRT.ocsp`, beside the certificate, is stapled to every handshake that
//! serves that certificate. It is checked when loaded: a successful
//! response (RFC 6960 §4.2.1) whose single response names this
//! certificate's serial number; anything else is a configuration error
//! naming the file, never a stapled response that would fail the client.

/// A DER element: its tag, its contents and what follows it.
fn element(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = d.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |v, &b| (v << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The contents of the element with `tag` at the start of `d`.
fn expect(d: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, body, rest) = element(d)?;
    (t == tag).then_some((body, rest))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const ENUMERATED: u8 = 0x0a;
const OCTET_STRING: u8 = 0x04;

/// The serial number (its DER contents) of a certificate.
pub fn cert_serial(cert: &[u8]) -> Option<&[u8]> {
    let (cert, _) = expect(cert, SEQUENCE)?;
    let (tbs, _) = expect(cert, SEQUENCE)?;
    // [0] EXPLICIT version, when present.
    let tbs = match element(tbs)? {
        (0xa0, _, rest) => rest,
        _ => tbs,
    };
    expect(tbs, INTEGER).map(|(serial, _)| serial)
}

/// The serial numbers an OCSP response speaks for, if it is a successful
/// basic response.
fn response_serials(resp: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    Ok(singles(resp)?
        .into_iter()
        .map(|(_, serial)| serial)
        .collect())
}

/// The DER CertID of an OCSP response's first single response: what
/// HAProxy shows as the "OCSP Response Key".
pub fn cert_id(resp: &[u8]) -> Option<&[u8]> {
    singles(resp).ok()?.first().map(|(id, _)| *id)
}

/// A single response's CertID (DER, whole) and serial number.
type Single<'a> = (&'a [u8], &'a [u8]);

/// Each single response of a successful basic response.
fn singles(resp: &[u8]) -> Result<Vec<Single<'_>>, &'static str> {
    let bad = "not a DER OCSP response";
    let (resp, _) = expect(resp, SEQUENCE).ok_or(bad)?;
    let (status, rest) = expect(resp, ENUMERATED).ok_or(bad)?;
    if status != [0] {
        return Err("the OCSP response status is not 'successful'");
    }
    // responseBytes [0] EXPLICIT SEQUENCE { responseType OID, response OCTET STRING }
    let (bytes, _) = expect(rest, 0xa0).ok_or(bad)?;
    let (bytes, _) = expect(bytes, SEQUENCE).ok_or(bad)?;
    let (_, _, rest) = element(bytes).ok_or(bad)?;
    let (basic, _) = expect(rest, OCTET_STRING).ok_or(bad)?;
    // BasicOCSPResponse { tbsResponseData ResponseData, ... }
    let (basic, _) = expect(basic, SEQUENCE).ok_or(bad)?;
    let (data, _) = expect(basic, SEQUENCE).ok_or(bad)?;
    // ResponseData: [0] version?, responderID ([1] or [2]), producedAt, responses
    let mut rest = data;
    if let Some((0xa0, _, r)) = element(rest) {
        rest = r;
    }
    let (_, _, rest) = element(rest).ok_or(bad)?; // responderID
    let (_, _, rest) = element(rest).ok_or(bad)?; // producedAt
    let (mut list, _) = expect(rest, SEQUENCE).ok_or(bad)?;
    let mut serials = Vec::new();
    while !list.is_empty() {
        // SingleResponse { certID CertID, ... }; CertID { hashAlgorithm,
        // issuerNameHash, issuerKeyHash, serialNumber }
        let (single, next) = expect(list, SEQUENCE).ok_or(bad)?;
        let (id, after) = expect(single, SEQUENCE).ok_or(bad)?;
        let raw = &single[..single.len() - after.len()];
        let (_, _, r) = element(id).ok_or(bad)?;
        let (_, _, r) = element(r).ok_or(bad)?;
        let (_, _, r) = element(r).ok_or(bad)?;
        let (serial, _) = expect(r, INTEGER).ok_or(bad)?;
        serials.push((raw, serial));
        list = next;
    }
    Ok(serials)
}

/// Checks `resp` (read from `file`) as the OCSP response for `cert`.
pub fn check(resp: &[u8], cert: &[u8], file: &str) -> Result<(), String> {
    let serials = response_serials(resp)
        .map_err(|e| format!("unable to load OCSP response '{file}': {e}"))?;
    let serial = cert_serial(cert)
        .ok_or_else(|| format!("unable to load OCSP response '{file}': unreadable certificate"))?;
    if !serials.contains(&serial) {
        return Err(format!(
            "unable to load OCSP response '{file}': it is not about this certificate (serial number differs)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_is_refused_without_a_panic() {
        for d in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x03\x0a\x01\x01",
        ] {
            assert!(response_serials(d).is_err(), "{d:?}");
            assert!(cert_serial(d).is_none());
        }
        assert_eq!(
            response_serials(b"\x30\x03\x0a\x01\x01"),
            Err("the OCSP response status is not 'successful'")
        );
        // Lengths past the end of the input.
        assert!(element(b"\x04\x05ab").is_none());
        assert_eq!(element(b"\x04\x02ab!"), Some((4, &b"ab"[..], &b"!"[..])));
    }
}

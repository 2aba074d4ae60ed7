//! The few fields of an X.509 certificate the `ssl_c_*` fetches show, read
//! from its DER with a small reader (webpki keeps its parse private), and
//! shown the way HAProxy 2.6 shows them through OpenSSL: a DN as
//! `/C=FR/O=x/CN=y` (short names, raw value bytes), the serial as the
//! integer's magnitude bytes, dates as the raw `YYMMDDhhmmssZ`.

/// One DER element: its tag and content.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
}

/// Reads the element at the start of `*input`, moving past it.
fn next<'a>(input: &mut &'a [u8]) -> Option<Tlv<'a>> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    let (body, after) = rest.split_at(len);
    *input = after;
    Some(Tlv { tag, body })
}

/// What the fetches read from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo<'a> {
    /// X509_get_version() + 1: 1 for a v1 certificate, 3 for v3.
    pub version: i64,
    /// The serial's magnitude bytes (OpenSSL's ASN1_INTEGER data).
    pub serial: &'a [u8],
    pub issuer: Name<'a>,
    pub subject: Name<'a>,
    pub not_before: Time<'a>,
    pub not_after: Time<'a>,
    /// The SubjectPublicKeyInfo's contents.
    pub spki: &'a [u8],
}

/// A validity date: its tag (UTCTime or GeneralizedTime) and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time<'a> {
    tag: u8,
    raw: &'a [u8],
}

const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

impl<'a> Time<'a> {
    /// HAProxy's form, YYMMDDhhmmssZ: a UTCTime as it is (if before 2050),
    /// a GeneralizedTime of the 2000s without its century; else nothing.
    pub fn haproxy(&self) -> Option<&'a [u8]> {
        match self.tag {
            UTC_TIME if self.raw.len() >= 10 && self.raw[0] < b'5' => Some(self.raw),
            GENERALIZED_TIME if self.raw.len() >= 12 && self.raw.starts_with(b"20") => {
                Some(&self.raw[2..])
            }
            _ => None,
        }
    }
}

impl Time<'_> {
    /// OpenSSL's ASN1_TIME_print form: `Sep 13 21:20:24 2019 GMT`; the
    /// raw text when it is not a date.
    pub fn printed(&self) -> String {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let raw = String::from_utf8_lossy(self.raw).into_owned();
        let (year, rest) = match self.tag {
            UTC_TIME if raw.len() >= 12 => {
                let yy: u32 = raw[..2].parse().unwrap_or(0);
                (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &raw[2..])
            }
            GENERALIZED_TIME if raw.len() >= 14 => (raw[..4].parse().unwrap_or(0), &raw[4..]),
            _ => return raw,
        };
        let num = |a: usize| rest.get(a..a + 2).and_then(|d| d.parse::<usize>().ok());
        match (num(0), num(2), num(4), num(6), num(8)) {
            (Some(mo @ 1..=12), Some(d), Some(h), Some(mi), Some(sec)) => {
                let gmt = if rest.ends_with('Z') { " GMT" } else { "" };
                format!(
                    "{} {d:2} {h:02}:{mi:02}:{sec:02} {year}{gmt}",
                    MONTHS[mo - 1]
                )
            }
            _ => raw,
        }
    }
}

/// HAProxy's "Algorithm" of a certificate's key: `RSA2048`, `EC256`...;
/// None for other kinds (HAProxy shows nothing more then).
pub fn key_algorithm(info: &CertInfo<'_>) -> Option<String> {
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    const EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let mut s = info.spki;
    let alg = next(&mut s).filter(|a| a.tag == 0x30)?;
    let key = next(&mut s).filter(|k| k.tag == 0x03)?;
    let mut a = alg.body;
    let oid = next(&mut a).filter(|o| o.tag == 0x06)?;
    if oid.body == RSA {
        // BIT STRING: unused-bits byte, then RSAPublicKey { n, e }.
        let mut k = key.body.get(1..)?;
        let seq = next(&mut k).filter(|q| q.tag == 0x30)?;
        let mut q = seq.body;
        let n = next(&mut q).filter(|i| i.tag == 0x02)?;
        let n = match n.body.iter().position(|&b| b != 0) {
            Some(i) => &n.body[i..],
            None => return Some("RSA0".into()),
        };
        let bits = (n.len() - 1) * 8 + (8 - n[0].leading_zeros() as usize);
        return Some(format!("RSA{bits}"));
    }
    if oid.body == EC {
        let curve = next(&mut a).filter(|o| o.tag == 0x06)?;
        let bits = match curve.body {
            [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] => 256,
            [0x2b, 0x81, 0x04, 0x00, 0x22] => 384,
            [0x2b, 0x81, 0x04, 0x00, 0x23] => 521,
            _ => return None,
        };
        return Some(format!("EC{bits}"));
    }
    None
}

/// A distinguished name (the DER content of its SEQUENCE OF RDN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name<'a>(&'a [u8]);

/// One attribute of a name: its type's name as OpenSSL shows it, and the
/// value's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub field: std::borrow::Cow<'static, str>,
    pub value: &'a [u8],
}

impl<'a> Name<'a> {
    /// The attributes in the order they are encoded (multi-valued RDNs
    /// flattened, as OpenSSL's X509_NAME holds them); None if malformed.
    pub fn entries(&self) -> Option<Vec<Entry<'a>>> {
        let mut out = Vec::new();
        let mut rdns = self.0;
        while !rdns.is_empty() {
            let set = next(&mut rdns).filter(|t| t.tag == 0x31)?;
            let mut atvs = set.body;
            while !atvs.is_empty() {
                let atv = next(&mut atvs).filter(|t| t.tag == 0x30)?;
                let mut inner = atv.body;
                let oid = next(&mut inner).filter(|t| t.tag == 0x06)?;
                let value = next(&mut inner)?;
                out.push(Entry {
                    field: short_name(oid.body),
                    value: value.body,
                });
            }
        }
        Some(out)
    }

    /// HAProxy's one-line form: `/SN=value` for each attribute.
    pub fn oneline(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for e in self.entries()? {
            out.push(b'/');
            out.extend_from_slice(e.field.as_bytes());
            out.push(b'=');
            out.extend_from_slice(e.value);
        }
        Some(out)
    }

    /// The value of the `pos`-th attribute named `field` (case-insensitive),
    /// counting from 1, or from the end when `pos` is negative.
    pub fn entry(&self, field: &str, pos: i64) -> Option<&'a [u8]> {
        let entries = self.entries()?;
        let mut hits = entries
            .iter()
            .filter(|e| e.field.eq_ignore_ascii_case(field));
        let found = match pos {
            0 => None,
            p if p > 0 => hits.nth(usize::try_from(p - 1).ok()?),
            p => hits.rev().nth(usize::try_from(-(p + 1)).ok()?),
        };
        found.map(|e| e.value)
    }
}

/// Parses the fields the fetches need out of a DER certificate.
pub fn parse(der: &[u8]) -> Option<CertInfo<'_>> {
    let mut input = der;
    let cert = next(&mut input).filter(|t| t.tag == 0x30)?;
    let mut c = cert.body;
    let tbs = next(&mut c).filter(|t| t.tag == 0x30)?;
    let mut t = tbs.body;
    let mut first = next(&mut t)?;
    let mut version = 1;
    if first.tag == 0xa0 {
        let mut v = first.body;
        let int = next(&mut v).filter(|i| i.tag == 0x02)?;
        let n = int.body.iter().fold(0i64, |acc, &b| {
            acc.saturating_mul(256).saturating_add(i64::from(b))
        });
        version = n.saturating_add(1);
        first = next(&mut t)?;
    }
    if first.tag != 0x02 {
        return None;
    }
    // DER pads a positive integer whose high bit is set with a 0 byte.
    let mut serial = first.body;
    while serial.len() > 1 && serial[0] == 0 {
        serial = &serial[1..];
    }
    let _signature = next(&mut t).filter(|s| s.tag == 0x30)?;
    let issuer = next(&mut t).filter(|s| s.tag == 0x30)?;
    let validity = next(&mut t).filter(|s| s.tag == 0x30)?;
    let subject = next(&mut t).filter(|s| s.tag == 0x30)?;
    let mut v = validity.body;
    fn time<'a>(v: &mut &'a [u8]) -> Option<(u8, &'a [u8])> {
        next(v)
            .filter(|x| x.tag == UTC_TIME || x.tag == GENERALIZED_TIME)
            .map(|x| (x.tag, x.body))
    }
    let (nb_tag, nb) = time(&mut v)?;
    let (na_tag, na) = time(&mut v)?;
    let spki = next(&mut t).filter(|s| s.tag == 0x30)?;
    Some(CertInfo {
        spki: spki.body,
        version,
        serial,
        issuer: Name(issuer.body),
        subject: Name(subject.body),
        not_before: Time {
            tag: nb_tag,
            raw: nb,
        },
        not_after: Time {
            tag: na_tag,
            raw: na,
        },
    })
}

/// OpenSSL's short name of an attribute type, else its dotted OID.
fn short_name(oid: &[u8]) -> std::borrow::Cow<'static, str> {
    const X520: &[(u8, &str)] = &[
        (3, "CN"),
        (4, "SN"),
        (5, "serialNumber"),
        (6, "C"),
        (7, "L"),
        (8, "ST"),
        (9, "street"),
        (10, "O"),
        (11, "OU"),
        (12, "title"),
        (13, "description"),
        (15, "businessCategory"),
        (17, "postalCode"),
        (41, "name"),
        (42, "GN"),
        (43, "initials"),
        (44, "generationQualifier"),
        (46, "dnQualifier"),
        (65, "pseudonym"),
        (72, "role"),
        (97, "organizationIdentifier"),
    ];
    if let [0x55, 0x04, n] = oid {
        if let Some((_, s)) = X520.iter().find(|(k, _)| k == n) {
            return (*s).into();
        }
    }
    const OTHERS: &[(&[u8], &str)] = &[
        (
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
            "emailAddress",
        ),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
            "DC",
        ),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
            "UID",
        ),
        (
            &[
                0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x01,
            ],
            "jurisdictionL",
        ),
        (
            &[
                0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x02,
            ],
            "jurisdictionST",
        ),
        (
            &[
                0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03,
            ],
            "jurisdictionC",
        ),
    ];
    if let Some((_, s)) = OTHERS.iter().find(|(k, _)| *k == oid) {
        return (*s).into();
    }
    dotted(oid).into()
}

/// An OID's dotted decimal form.
fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u128> = Vec::new();
    let mut cur: u128 = 0;
    for &b in oid {
        cur = (cur << 7) | u128::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(cur);
            cur = 0;
        }
    }
    let mut out = String::new();
    if let Some(&first) = arcs.first() {
        let (a, b) = match first {
            f if f < 40 => (0, f),
            f if f < 80 => (1, f - 40),
            f => (2, f - 80),
        };
        out = format!("{a}.{b}");
    }
    for a in arcs.iter().skip(1) {
        out.push_str(&format!(".{a}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element with a short length.
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if body.len() < 128 {
            v.push(body.len() as u8);
        } else {
            v.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        v.extend_from_slice(body);
        v
    }

    fn atv(oid: &[u8], tag: u8, value: &str) -> Vec<u8> {
        tlv(
            0x31,
            &tlv(0x30, &[tlv(0x06, oid), tlv(tag, value.as_bytes())].concat()),
        )
    }

    fn name() -> Vec<u8> {
        [
            atv(&[0x55, 0x04, 0x06], 0x13, "FR"),
            atv(&[0x55, 0x04, 0x0b], 0x0c, "A"),
            atv(&[0x55, 0x04, 0x0b], 0x0c, "B"),
            atv(&[0x2a, 0x03, 0x04], 0x0c, "x"),
            atv(&[0x55, 0x04, 0x03], 0x0c, "c d"),
        ]
        .concat()
    }

    #[test]
    fn names_print_and_select_as_haproxy() {
        let der = name();
        let n = Name(&der);
        assert_eq!(n.oneline().unwrap(), b"/C=FR/OU=A/OU=B/1.2.3.4=x/CN=c d");
        assert_eq!(n.entry("ou", 1), Some(&b"A"[..]));
        assert_eq!(n.entry("OU", 2), Some(&b"B"[..]));
        assert_eq!(n.entry("OU", -1), Some(&b"B"[..]));
        assert_eq!(n.entry("OU", -2), Some(&b"A"[..]));
        assert_eq!(n.entry("OU", 3), None);
        assert_eq!(n.entry("OU", 0), None);
        assert_eq!(n.entry("1.2.3.4", 1), Some(&b"x"[..]));
        assert_eq!(Name(&der[..der.len() - 1]).oneline(), None);
    }

    /// An RSA SubjectPublicKeyInfo with a 2048-bit modulus.
    fn spki_rsa() -> Vec<u8> {
        let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        let alg = tlv(0x30, &[tlv(0x06, &oid), tlv(0x05, &[])].concat());
        let mut modulus = vec![0x00, 0x80];
        modulus.extend([0u8; 255]);
        let key = tlv(0x30, &[tlv(0x02, &modulus), tlv(0x02, &[1, 0, 1])].concat());
        let bits = [&[0u8][..], &key].concat();
        tlv(0x30, &[alg, tlv(0x03, &bits)].concat())
    }

    #[test]
    fn certificate_fields_are_read() {
        let n = name();
        let tbs = [
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[0x00, 0x91, 0x02]),
            tlv(0x30, &tlv(0x06, &[0x2a])),
            tlv(0x30, &n),
            tlv(
                0x30,
                &[
                    tlv(UTC_TIME, b"261207204547Z"),
                    tlv(GENERALIZED_TIME, b"20510101000000Z"),
                ]
                .concat(),
            ),
            tlv(0x30, &n),
            spki_rsa(),
        ]
        .concat();
        let cert = tlv(0x30, &tlv(0x30, &tbs));
        let c = parse(&cert).unwrap();
        assert_eq!(c.version, 3);
        assert_eq!(c.serial, &[0x91, 0x02]);
        assert_eq!(c.not_before.haproxy(), Some(&b"261207204547Z"[..]));
        assert_eq!(c.not_after.haproxy(), Some(&b"510101000000Z"[..]));
        assert_eq!(c.subject, c.issuer);
        assert_eq!(key_algorithm(&c).as_deref(), Some("RSA2048"));
        assert_eq!(c.not_before.printed(), "Dec  7 20:45:47 2026 GMT");
        assert_eq!(c.not_after.printed(), "Jan  1 00:00:00 2051 GMT");
        for cut in 0..cert.len() {
            assert!(parse(&cert[..cut]).is_none());
        }
        let late = Time {
            tag: UTC_TIME,
            raw: b"510101000000Z",
        };
        assert_eq!(late.haproxy(), None);
    }
}

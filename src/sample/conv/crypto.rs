//! The digest converters: `sha2([BITS])`, `digest(ALG)` and
//! `hmac(ALG,KEYVAR)` (HAProxy builds them with OpenSSL; here RustCrypto's
//! pure-Rust SHA-1 and SHA-2 and its HMAC). Algorithms are OpenSSL's names
//! for those hashes; any other OpenSSL digest is "not supported yet".

use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512, Sha512_224, Sha512_256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
}

/// `sha2(BITS)`: 224, 256 (the default), 384 or 512.
pub fn sha2_bits(bits: Option<i64>) -> Result<Alg, String> {
    Ok(match bits.unwrap_or(256) {
        224 => Alg::Sha224,
        256 => Alg::Sha256,
        384 => Alg::Sha384,
        512 => Alg::Sha512,
        n => {
            return Err(format!(
                "converter 'sha2': Unsupported number of bits: '{n}'."
            ))
        }
    })
}

/// An OpenSSL digest name (`sha256`, `SHA256`, `sha512-256`...).
pub fn alg(conv: &str, name: &str) -> Result<Alg, String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "sha1" | "sha-1" => Alg::Sha1,
        "sha224" | "sha2-224" | "sha-224" => Alg::Sha224,
        "sha256" | "sha2-256" | "sha-256" => Alg::Sha256,
        "sha384" | "sha2-384" | "sha-384" => Alg::Sha384,
        "sha512" | "sha2-512" | "sha-512" => Alg::Sha512,
        "sha512-224" | "sha2-512/224" | "sha512/224" => Alg::Sha512_224,
        "sha512-256" | "sha2-512/256" | "sha512/256" => Alg::Sha512_256,
        _ => {
            return Err(format!(
                "converter '{conv}': algorithm '{name}' is not supported yet (SHA-1 and SHA-2 are)"
            ))
        }
    })
}

pub fn digest(alg: Alg, data: &[u8]) -> Vec<u8> {
    match alg {
        Alg::Sha1 => Sha1::digest(data).to_vec(),
        Alg::Sha224 => Sha224::digest(data).to_vec(),
        Alg::Sha256 => Sha256::digest(data).to_vec(),
        Alg::Sha384 => Sha384::digest(data).to_vec(),
        Alg::Sha512 => Sha512::digest(data).to_vec(),
        Alg::Sha512_224 => Sha512_224::digest(data).to_vec(),
        Alg::Sha512_256 => Sha512_256::digest(data).to_vec(),
    }
}

pub fn hmac(alg: Alg, key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    macro_rules! run {
        ($d:ty) => {
            match Hmac::<$d>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        };
    }
    match alg {
        Alg::Sha1 => run!(Sha1),
        Alg::Sha224 => run!(Sha224),
        Alg::Sha256 => run!(Sha256),
        Alg::Sha384 => run!(Sha384),
        Alg::Sha512 => run!(Sha512),
        Alg::Sha512_224 => run!(Sha512_224),
        Alg::Sha512_256 => run!(Sha512_256),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|c| format!("{c:02x}")).collect()
    }

    #[test]
    fn known_answers() {
        // FIPS 180-2 "abc" and RFC 4231 test case 2.
        assert_eq!(
            hex(&digest(Alg::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&hmac(Alg::Sha256, b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(sha2_bits(Some(128)).is_err());
        assert!(alg("digest", "md5")
            .unwrap_err()
            .contains("not supported yet"));
    }
}

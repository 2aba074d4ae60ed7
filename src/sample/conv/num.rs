//! Numbers, masks and dates for the converters: HAProxy's saturating
//! arithmetic, IPv4/IPv6 masks, and `http_date`'s IMF-fixdate.

use super::{Arith, Unit};
use std::net::{Ipv4Addr, Ipv6Addr};

pub(super) fn mask4(s: &str) -> Option<Ipv4Addr> {
    if let Ok(bits) = s.parse::<u32>() {
        return (bits <= 32).then(|| Ipv4Addr::from(u32::MAX.checked_shl(32 - bits).unwrap_or(0)));
    }
    s.parse().ok()
}

pub(super) fn mask6(s: &str) -> Option<Ipv6Addr> {
    let bits = s.parse::<u32>().ok().filter(|&b| b <= 128)?;
    Some(Ipv6Addr::from(
        u128::MAX.checked_shl(128 - bits).unwrap_or(0),
    ))
}

pub(super) fn mask_v4(ip: Ipv4Addr, m: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip) & u32::from(m))
}

/// Saturating arithmetic as HAProxy's (a division by zero gives the
/// largest integer, a modulo by zero 0).
pub(super) fn arith(op: Arith, a: i64, b: i64) -> i64 {
    match op {
        Arith::Add => a.saturating_add(b),
        Arith::Sub => a.saturating_sub(b),
        Arith::Mul => a.saturating_mul(b),
        Arith::Div if b == 0 => i64::MAX,
        Arith::Div => a.checked_div(b).unwrap_or(i64::MAX),
        Arith::Mod if b == 0 => 0,
        Arith::Mod => a.checked_rem(b).unwrap_or(0),
        Arith::And => a & b,
        Arith::Or => a | b,
        Arith::Xor => a ^ b,
    }
}

/// `http_date`: an IMF-fixdate (RFC 9110 §5.6.7) of a Unix time in `unit`,
/// with the fraction of a second after a dot for ms/us.
pub(super) fn http_date(n: i64, unit: Unit) -> String {
    const DAY: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (secs, frac) = match unit {
        Unit::S => (n, None),
        Unit::Ms => (n / 1000, Some(n % 1000)),
        Unit::Us => (n / 1_000_000, Some(n % 1_000_000)),
    };
    // HAProxy keeps 55 bits so that the date is never negative.
    let t = secs & 0x007f_ffff_ffff_ffff;
    let (days, rem) = (t / 86400, t % 86400);
    let (y, m, d) = civil(days);
    let head = format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02}",
        DAY[(days % 7) as usize],
        d,
        MON[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    match frac {
        Some(f) => format!("{head}.{f} GMT"),
        None => format!("{head} GMT"),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(super) fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

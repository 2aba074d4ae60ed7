//! Calendar time through the C library, for what must print dates exactly
//! as HAProxy does (the `ltime`/`utime` converters call the same
//! `strftime` with the same `struct tm`): broken-down UTC or local time,
//! and `strftime` into a bounded buffer.

use std::ffi::CString;

/// `strftime(fmt)` of Unix time `t`, in UTC or in the local time zone.
/// None if the format holds a NUL, the time cannot be broken down, or the
/// result does not fit in `max` bytes (HAProxy's trash buffer size).
pub fn strftime(fmt: &str, t: i64, local: bool, max: usize) -> Option<Vec<u8>> {
    let cfmt = CString::new(fmt).ok()?;
    let tt = libc::time_t::try_from(t).ok()?;
    // SAFETY: an all-zero `tm` is a valid value of this plain C struct (its
    // pointer field, where there is one, is null and only written by libc).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals of the right types;
    // gmtime_r/localtime_r are the re-entrant forms and write only `tm`.
    let ok = unsafe {
        if local {
            !libc::localtime_r(&tt, &mut tm).is_null()
        } else {
            !libc::gmtime_r(&tt, &mut tm).is_null()
        }
    };
    if !ok {
        return None;
    }
    let mut buf = vec![0u8; max.max(1)];
    // SAFETY: `buf` is writable for `buf.len()` bytes, which is the size
    // passed; `cfmt` is NUL-terminated; `tm` was filled above.
    let n = unsafe {
        libc::strftime(
            buf.as_mut_ptr().cast::<libc::c_char>(),
            buf.len(),
            cfmt.as_ptr(),
            &tm,
        )
    };
    // 0 is also the length of an empty result: HAProxy returns it as is.
    buf.truncate(n);
    Some(buf)
}

//! Dropping privileges once the listeners are bound (`chroot`, `user`,
//! `group`, `uid`, `gid`), and resolving user and group names.

use std::ffi::CString;
use std::io;
use std::path::Path;

/// The uid and primary gid of user `name` (getpwnam_r, so NSS applies);
/// None when there is no such user.
pub fn lookup_user(name: &str) -> io::Result<Option<(u32, u32)>> {
    let cname = CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: passwd is plain old data; getpwnam_r fills it.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the sizes given; the strings that
    // `pw` points to live in `buf`, which we do not read after this call.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok((!out.is_null()).then_some((pw.pw_uid as u32, pw.pw_gid as u32)))
}

/// The gid of group `name` (getgrnam_r); None when there is no such group.
pub fn lookup_group(name: &str) -> io::Result<Option<u32>> {
    let cname = CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut buf = vec![0u8; 64 * 1024];
    // SAFETY: group is plain old data; getgrnam_r fills it.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the sizes given.
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &mut gr,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok((!out.is_null()).then_some(gr.gr_gid as u32))
}

/// chroot + chdir("/"), then the group (supplementary groups reduced to it),
/// then the user: the order that leaves no way back. Messages are HAProxy's
/// alerts.
pub fn drop_privileges(
    chroot: Option<&Path>,
    gid: Option<u32>,
    uid: Option<u32>,
) -> Result<(), String> {
    if let Some(dir) = chroot {
        rustix::process::chroot(dir)
            .and_then(|()| rustix::process::chdir("/"))
            .map_err(|e| format!("[pollux.main()] Cannot chroot({}): {e}.", dir.display()))?;
    }
    if let Some(gid) = gid {
        let groups = [gid as libc::gid_t];
        // SAFETY: one valid gid in a live array. libc's wrappers (unlike the
        // raw syscalls) apply the change to every thread of the process.
        if unsafe { libc::setgroups(1, groups.as_ptr()) } != 0 {
            return Err(format!(
                "[pollux.main()] Failed to drop supplementary groups: {}.",
                io::Error::last_os_error()
            ));
        }
        // SAFETY: plain syscall wrapper on an integer argument.
        if unsafe { libc::setgid(gid as libc::gid_t) } != 0 {
            return Err(format!(
                "[pollux.main()] Cannot set gid {gid}: {}.",
                io::Error::last_os_error()
            ));
        }
    }
    if let Some(uid) = uid {
        // SAFETY: plain syscall wrapper on an integer argument.
        if unsafe { libc::setuid(uid as libc::uid_t) } != 0 {
            return Err(format!(
                "[pollux.main()] Cannot set uid {uid}: {}.",
                io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_uid_0_and_unknown_names_are_none() {
        assert_eq!(lookup_user("root").unwrap().map(|u| u.0), Some(0));
        assert_eq!(lookup_user("no-such-user-pollux").unwrap(), None);
        assert_eq!(lookup_group("no-such-group-pollux").unwrap(), None);
    }
}

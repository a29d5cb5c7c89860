//! WASI file-system guest: symlinks (create, readlink, follow vs nofollow,
//! loops, links leading outside), hard links, rename and unlink, and
//! attempts to escape the preopened directory (`..`, absolute paths,
//! symlinks to /etc). Run with the scratch directory preopened as `/`.

use std::fs;

/// std's symlink is unstable on WASI: path_symlink under the preopen
/// (`link` is absolute, as the guest sees it).
fn symlink_path(target: &str, link: &str) -> std::io::Result<()> {
    let link = link.strip_prefix('/').unwrap_or(link);
    match unsafe { raw::path_symlink(target.as_ptr(), target.len(), DIR, link.as_ptr(), link.len()) } {
        0 => Ok(()),
        e => Err(std::io::Error::from_raw_os_error(e as i32)),
    }
}

/// The inode number WASI reports for `path` (compared, never printed).
fn ino(path: &str) -> Option<u64> {
    let mut b = [0u8; 64];
    match unsafe { raw::path_filestat_get(DIR, 1, path.as_ptr(), path.len(), b.as_mut_ptr()) } {
        0 => Some(u64::from_le_bytes(b[8..16].try_into().unwrap())),
        _ => None,
    }
}

fn kind(m: &fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_symlink() {
        "symlink"
    } else if t.is_dir() {
        "dir"
    } else if t.is_file() {
        "file"
    } else {
        "other"
    }
}

fn stat(what: &str, path: &str) {
    println!(
        "metadata {what} = {}",
        fs::metadata(path).map(|m| format!("{} {}", kind(&m), m.len())).unwrap_or_else(|e| show::<()>(Err(e)))
    );
    println!(
        "symlink_metadata {what} = {}",
        fs::symlink_metadata(path).map(|m| format!("{} {}", kind(&m), m.len())).unwrap_or_else(|e| show::<()>(Err(e)))
    );
}

fn symlinks() {
    fs::write("/target.txt", b"target data").unwrap();
    fs::create_dir("/tdir").unwrap();
    check("symlink to file", symlink_path("target.txt", "/link"));
    check("symlink to dir", symlink_path("tdir", "/dlink"));
    check("symlink dangling", symlink_path("nowhere", "/dangling"));
    check("symlink exists", symlink_path("target.txt", "/link"));
    check("read_link", fs::read_link("/link"));
    check("read_link of file", fs::read_link("/target.txt"));
    check("read_link missing", fs::read_link("/missing"));
    check("read through link", fs::read_to_string("/link"));
    check("write through link", fs::write("/link", b"via link"));
    check("read target", fs::read_to_string("/target.txt"));
    stat("link", "/link");
    stat("dlink", "/dlink");
    stat("dangling", "/dangling");
    stat("dlink/", "/dlink/");
    check("create through dir link", fs::write("/dlink/inner", b"i"));
    check("read inner", fs::read_to_string("/tdir/inner"));
    check("read dangling", fs::read("/dangling"));
    check("create through dangling", fs::write("/dangling", b"made"));
    check("read made", fs::read_to_string("/nowhere"));
    // Loops.
    check("symlink loop a", symlink_path("loop_b", "/loop_a"));
    check("symlink loop b", symlink_path("loop_a", "/loop_b"));
    check("open loop", fs::read("/loop_a"));
    stat("loop", "/loop_a");
    check("self loop", symlink_path("self", "/self"));
    check("open self", fs::read("/self"));
    check("open loop/x", fs::read("/loop_a/x"));
    // Raw: open a symlink without following it.
    println!("path_open nofollow on link = {}", show_raw(open_raw(DIR, "link", 0, 0, 2, 0)));
    println!(
        "path_open follow on link = {}",
        show_raw(open_raw(DIR, "link", 1, 0, 2, 0).map(|fd| unsafe { raw::fd_close(fd) }))
    );
    println!("path_open nofollow dir link = {}", show_raw(open_raw(DIR, "dlink", 0, 2, 0, 0)));
    println!("path_filestat_get nofollow = {}", show_raw(path_stat(DIR, false, "link").map(|s| (s.0, s.2))));
    println!("path_filestat_get follow = {}", show_raw(path_stat(DIR, true, "link").map(|s| (s.0, s.2))));
    println!("path_filestat_get nofollow dlink/ = {}", show_raw(path_stat(DIR, false, "dlink/").map(|s| (s.0, s.2))));
    println!("path_filestat_get nofollow ./link = {}", show_raw(path_stat(DIR, false, "./link").map(|s| (s.0, s.2))));
    println!("path_filestat_get bad flags = {}", show_raw(path_stat(DIR, false, "").map(|s| s.0)));
    let mut buf = [0u8; 4];
    let mut used = 0;
    let (lp, ll) = p("link");
    raw_ret("path_readlink short buffer", unsafe { raw::path_readlink(DIR, lp, ll, buf.as_mut_ptr(), 4, &mut used) });
    println!("readlink short = {used} {:?}", String::from_utf8_lossy(&buf[..used]));
    let (dp, dl) = p("dlink/");
    raw_ret("path_readlink trailing slash", unsafe { raw::path_readlink(DIR, dp, dl, buf.as_mut_ptr(), 4, &mut used) });
    check("remove symlink to dir", fs::remove_file("/dlink"));
    check("tdir still there", fs::metadata("/tdir").map(|m| m.is_dir()));
}

fn links_and_renames() {
    fs::write("/orig", b"orig").unwrap();
    check("hard_link", fs::hard_link("/orig", "/hard"));
    check("hard_link exists", fs::hard_link("/orig", "/hard"));
    check("hard_link missing", fs::hard_link("/nope", "/hard2"));
    check("hard_link dir", fs::hard_link("/tdir", "/tdir2"));
    check("nlink", path_stat(DIR, false, "orig").map(|s| s.1).map_err(|e| std::io::Error::from_raw_os_error(e as i32)));
    let same = ino("orig").is_some() && ino("orig") == ino("hard");
    println!("hard link same inode = {same}");
    let differ = ino("orig") != ino("target.txt");
    println!("other file other inode = {differ}");
    check("write via hard", fs::write("/hard", b"changed"));
    check("read orig", fs::read_to_string("/orig"));
    let (o, ol) = p("orig");
    let (h, hl) = p("hard3");
    raw_ret("path_link follow flag", unsafe { raw::path_link(DIR, 1, o, ol, DIR, h, hl) });
    let (l, ll) = p("link");
    let (h4, h4l) = p("hardlink_to_symlink");
    raw_ret("path_link of symlink", unsafe { raw::path_link(DIR, 0, l, ll, DIR, h4, h4l) });
    println!("hard link to symlink is = {}", show_raw(path_stat(DIR, false, "hardlink_to_symlink").map(|s| s.0)));
    check("unlink", fs::remove_file("/hard"));
    check("unlink again", fs::remove_file("/hard"));
    check(
        "nlink after unlink",
        path_stat(DIR, false, "orig").map(|s| s.1).map_err(|e| std::io::Error::from_raw_os_error(e as i32)),
    );
    check("rename file", fs::rename("/orig", "/renamed"));
    check("old name gone", fs::metadata("/orig").map(|_| ()));
    check("rename over file", fs::rename("/renamed", "/target.txt"));
    check("read renamed", fs::read_to_string("/target.txt"));
    check("rename missing", fs::rename("/nope", "/x"));
    fs::create_dir_all("/r1/sub").unwrap();
    fs::create_dir("/r2").unwrap();
    fs::create_dir("/r3").unwrap();
    check("rename dir over empty dir", fs::rename("/r2", "/r3"));
    check("rename dir over non-empty", fs::rename("/r3", "/r1"));
    check("rename file over dir", fs::rename("/target.txt", "/r3"));
    check("rename dir over file", fs::rename("/r3", "/target.txt"));
    check("rename into own child", fs::rename("/r1", "/r1/sub/x"));
    check("rename file with slash", fs::rename("/target.txt/", "/t2"));
    check("rename dir with slash", fs::rename("/r3/", "/r4/"));
    check("r4 is dir", fs::metadata("/r4").map(|m| m.is_dir()));
    check("rmdir trailing slash", fs::remove_dir("/r4/"));
    check("rmdir dot", fs::remove_dir("/r4/."));
    check("rmdir", fs::remove_dir("/r4"));
    check("unlink trailing slash", fs::remove_file("/target.txt/"));
    check("mkdir trailing slash", fs::create_dir("/m/"));
    check("mkdir dot", fs::create_dir("/m/."));
    check("mkdir dotdot", fs::create_dir("/m/.."));
}

fn escapes() {
    check("read ../", fs::read("/../etc/passwd"));
    check("read ../ deep", fs::read("/tdir/../../etc/passwd"));
    check("read dir/.. inside", fs::read_to_string("/tdir/../tdir/inner"));
    check("mkdir ../", fs::create_dir("/../escape_dir"));
    check("write ../", fs::write("/../escape_file", b"x"));
    check("metadata ../", fs::metadata("/.."));
    check("read_dir ../", fs::read_dir("/..").map(|_| ()));
    check("symlink to /etc", symlink_path("/etc", "/etc_link"));
    check("symlink to ../..", symlink_path("../../../../../../etc", "/up_link"));
    check("read via up_link", fs::read("/up_link/passwd"));
    check("metadata up_link", fs::metadata("/up_link"));
    check("symlink_metadata up_link", fs::symlink_metadata("/up_link").map(|m| kind(&m)));
    check("read_link up_link", fs::read_link("/up_link"));
    check("write via up_link", fs::write("/up_link/escaped", b"x"));
    check("mkdir via up_link", fs::create_dir("/up_link/escaped_dir"));
    check("remove via up_link", fs::remove_file("/up_link/passwd"));
    check("rename into up_link", fs::rename("/tdir/inner", "/up_link/stolen"));
    check("hard_link via up_link", fs::hard_link("/up_link/passwd", "/stolen"));
    check("symlink in up_link", symlink_path("x", "/up_link/new_link"));
    check("unlink up_link itself", fs::remove_file("/up_link"));
    // Raw absolute paths and `..` relative to the preopen.
    for path in ["/etc/passwd", "../etc/passwd", "..", "/", "tdir/../..", "tdir/../../etc"] {
        println!("path_open {path:?} = {}", show_raw(open_raw(DIR, path, 1, 0, 2, 0)));
        println!("path_filestat_get {path:?} = {}", show_raw(path_stat(DIR, true, path).map(|s| s.0)));
        let (pp, pl) = p(path);
        raw_ret(&format!("path_create_directory {path:?}"), unsafe { raw::path_create_directory(DIR, pp, pl) });
        raw_ret(&format!("path_unlink_file {path:?}"), unsafe { raw::path_unlink_file(DIR, pp, pl) });
        raw_ret(&format!("path_remove_directory {path:?}"), unsafe { raw::path_remove_directory(DIR, pp, pl) });
    }
    let (t, tl) = p("/etc/passwd");
    let (n, nl) = p("abs_link");
    raw_ret("path_symlink absolute target", unsafe { raw::path_symlink(t, tl, DIR, n, nl) });
    let (e, el) = p("");
    raw_ret("path_unlink_file empty", unsafe { raw::path_unlink_file(DIR, e, el) });
    println!("path_open empty = {}", show_raw(open_raw(DIR, "", 1, 0, 2, 0)));
    let bad = [0xffu8, 0xfe];
    raw_ret("path_unlink_file bad utf8", unsafe { raw::path_unlink_file(DIR, bad.as_ptr(), 2) });
    let nul = b"a\0b";
    raw_ret("path_unlink_file with NUL", unsafe { raw::path_unlink_file(DIR, nul.as_ptr(), 3) });
    let long = "x".repeat(300);
    println!("path_open long name = {}", show_raw(open_raw(DIR, &long, 1, 0, 2, 0)));
    let (u, ul) = p("up_link");
    raw_ret("path_unlink_file on file fd", unsafe { raw::path_unlink_file(0, u, ul) });
    raw_ret("path_unlink_file bad fd", unsafe { raw::path_unlink_file(77, u, ul) });
}

fn main() {
    symlinks();
    links_and_renames();
    escapes();
}

// Raw WASI calls and printing helpers shared by the wasi_fs* guests.
#[path = "../fs_common.rs"]
mod fs_common;
#[allow(unused_imports)]
use fs_common::*;

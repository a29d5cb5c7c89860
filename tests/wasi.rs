//! Differential tests of the WASI shim: every WASI guest runs twice, once
//! through `waligate run` (the shim over WALI, default policy) and once
//! on wasmtime-wasi's preview1 implementation in this process, with the
//! same arguments, environment, stdin and preopened directory contents.
//! Both runs must print the same bytes, exit the same way and leave the
//! same directory tree; each test also checks the exact transcript.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

/// The status a trapped guest exits with, in waligate and (as the wasmtime
/// CLI does) for the reference.
const TRAP: i32 = 134;

/// How one run ended: status, and what the guest itself wrote.
#[derive(Debug, PartialEq)]
struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

/// A directory tree: relative path -> what is there.
#[derive(Debug, PartialEq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Symlink(PathBuf),
    Other,
}

fn tree(root: &Path) -> BTreeMap<PathBuf, Node> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Node>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let node = if meta.is_dir() {
                walk(root, &path, out);
                Node::Dir
            } else if meta.is_symlink() {
                Node::Symlink(std::fs::read_link(&path).unwrap())
            } else if meta.is_file() {
                Node::File(std::fs::read(&path).unwrap())
            } else {
                Node::Other
            };
            out.insert(path.strip_prefix(root).unwrap().to_owned(), node);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::default)
}

/// Each guest compiled once per test binary (compiling is the slow part).
fn compiled(wasm: &Path) -> Module {
    static MODULES: OnceLock<std::sync::Mutex<std::collections::HashMap<PathBuf, Module>>> = OnceLock::new();
    let mut modules = MODULES.get_or_init(Default::default).lock().unwrap();
    modules.entry(wasm.to_path_buf()).or_insert_with(|| Module::from_file(engine(), wasm).unwrap()).clone()
}

/// Runs the guest on wasmtime-wasi preview1, with `dir` preopened as "/".
fn reference(wasm: &Path, argv: &[String], env: &[(&str, &str)], stdin: &[u8], dir: &Path) -> Outcome {
    let stdout = MemoryOutputPipe::new(1 << 24);
    let stderr = MemoryOutputPipe::new(1 << 24);
    let ctx = WasiCtxBuilder::new()
        .args(argv)
        .envs(env)
        .stdin(MemoryInputPipe::new(stdin.to_vec()))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .preopened_dir(dir, "/", FsPerms::ReadWrite)
        .unwrap()
        .build_p1();
    let mut store = Store::new(engine(), ctx);
    let mut linker: Linker<WasiP1Ctx> = Linker::new(engine());
    p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
    let module = compiled(wasm);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
    let status = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => exit.0,
            None => TRAP,
        },
    };
    drop(store);
    let text = |p: MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
    Outcome { status, stdout: text(stdout), stderr: text(stderr) }
}

/// Runs the guest through `waligate run --dir DIR::/ --env K=V... GUEST
/// ARGS...` with `stdin` piped in. The host's own report of a trap is
/// not the guest's output and is removed.
fn waligate_run(wasm: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8], dir: &Path) -> Outcome {
    let mut cmd = waligate();
    cmd.arg("run").arg("--dir").arg(format!("{}::/", dir.display()));
    for (k, v) in env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    cmd.arg(wasm).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn waligate");
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let status = out.status.code().unwrap_or(-1);
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if status == TRAP {
        let at = stderr.find("waligate: guest trapped: ").expect("waligate reports the trap");
        stderr.truncate(at);
    }
    Outcome { status, stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr }
}

/// Runs `guest` both ways (argv[0] is the module path as given to
/// waligate), each in a fresh directory prepared by `setup`, asserts the
/// runs agree, and returns what they did.
fn differential(guest: &str, args: &[&str], env: &[(&str, &str)], stdin: &[u8], setup: impl Fn(&Path)) -> Outcome {
    let wasm = wasi_guest(guest);
    let argv: Vec<String> =
        std::iter::once(wasm.to_str().unwrap().to_owned()).chain(args.iter().map(|a| a.to_string())).collect();
    let (ours_dir, ref_dir) = (scratch(), scratch());
    setup(ours_dir.path());
    setup(ref_dir.path());
    let ours = waligate_run(&wasm, args, env, stdin, ours_dir.path());
    let expected = reference(&wasm, &argv, env, stdin, ref_dir.path());
    assert_eq!(ours, expected, "waligate (left) and wasmtime-wasi (right) differ for {guest} {args:?}");
    assert_eq!(tree(ours_dir.path()), tree(ref_dir.path()), "directory trees differ for {guest} {args:?}");
    ours
}

fn nothing(_: &Path) {}

/// Runs the text module `wat` both ways in one scratch directory, asserts
/// the runs agree, and returns what they did.
fn differential_wat(name: &str, wat: &str) -> Outcome {
    let dir = scratch();
    let wasm = dir.path().join(name);
    std::fs::write(&wasm, wat).unwrap();
    let ours = waligate_run(&wasm, &[], &[], b"", dir.path());
    let argv = [wasm.to_str().unwrap().to_owned()];
    assert_eq!(ours, reference(&wasm, &argv, &[], b"", dir.path()), "waligate (left) and wasmtime-wasi (right) differ");
    ours
}

fn argv0(guest: &str) -> String {
    wasi_guest(guest).to_str().unwrap().to_owned()
}

/// The transcript `wasi_args` prints for these inputs.
fn args_transcript(args: &[&str], env: &[(&str, &str)]) -> String {
    let first = argv0("wasi_args");
    let all: Vec<&str> = std::iter::once(first.as_str()).chain(args.iter().copied()).collect();
    let mut out = String::new();
    for (i, a) in all.iter().enumerate() {
        out += &format!("arg {i}: {a:?}\n");
    }
    for (k, v) in env {
        out += &format!("env {k:?} = {v:?}\n");
    }
    let argsize: usize = all.iter().map(|a| a.len() + 1).sum();
    let entries: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let envsize: usize = entries.iter().map(|e| e.len() + 1).sum();
    out += &format!("args_sizes_get = 0: {} args, {argsize} bytes\n", all.len());
    out += &format!("environ_sizes_get = 0: {} vars, {envsize} bytes\n", env.len());
    let offsets = |items: Vec<usize>| {
        let mut at = 0;
        items
            .iter()
            .map(|n| {
                let o = at;
                at += n + 1;
                o
            })
            .collect::<Vec<_>>()
    };
    let buffer: String = entries.iter().map(|e| format!("{e}\0")).collect();
    out += &format!(
        "environ_get = 0: offsets {:?}, buffer {buffer:?}\n",
        offsets(entries.iter().map(String::len).collect())
    );
    out += &format!("args_get = 0: offsets {:?}\n", offsets(all.iter().map(|a| a.len()).collect()));
    out
}

#[test]
fn args_and_environment() {
    let args = ["plain", "", "héllo wörld", "日本語", "two  spaces"];
    let env = [("A", "1"), ("EMPTY", ""), ("UNI", "ünï ✓"), ("EQ", "x=y=z"), ("PATH", "/bin"), ("NL", "new\nline")];
    let run = differential("wasi_args", &args, &env, b"", nothing);
    assert_eq!(run.stdout, args_transcript(&args, &env));
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
}

#[test]
fn no_arguments_and_empty_environment() {
    let run = differential("wasi_args", &[], &[], b"", nothing);
    assert_eq!(run.stdout, args_transcript(&[], &[]));
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
}

#[test]
fn bad_pointers_trap_in_args_calls() {
    for mode in ["misaligned", "oob"] {
        let run = differential("wasi_args", &[mode], &[], b"", nothing);
        assert_eq!((run.status, run.stdout.as_str(), run.stderr.as_str()), (TRAP, "", ""), "{mode}");
    }
}

#[test]
fn clocks_random_yield_and_raise() {
    let host_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let run = differential("wasi_clock", &[&host_now.to_string()], &[], b"", nothing);
    let expected = "\
clock_res_get(0) = 0, in (0, 1ms]: true
clock_res_get(1) = 0, in (0, 1ms]: true
clock_res_get(2) = 8
clock_time_get(2) = 8
clock_res_get(3) = 8
clock_time_get(3) = 8
clock_time_get(realtime) = 0, within 60s of the host's: true
clock_time_get(monotonic) = 0 0, non-decreasing: true
monotonic advanced by >= 20ms across a 20ms sleep: true
realtime advanced across the sleep: true
random_get(0) = 0, 0 bytes
random_get(32) = 0 0, nonzero: true, different: true
random_get(1 MiB) = 0, zero bytes plausible: true
sched_yield returned
proc_raise(0) = 58
proc_raise(9) = 58
proc_raise(30) = 58
";
    assert_eq!(run.stdout, expected);
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
}

#[test]
fn invalid_clock_ids_and_signals_trap() {
    // wasmtime-wasi (wiggle) decodes enum arguments before the call and
    // traps on values outside the enum.
    for (call, n, status) in [("res-id", "1", 0), ("res-id", "4", TRAP), ("time-id", "0", 0), ("time-id", "1000", TRAP)]
    {
        let run = differential("wasi_clock", &[call, n], &[], b"", nothing);
        let stdout = if status == 0 { format!("{call} {n} = 0\n") } else { String::new() };
        assert_eq!((run.status, run.stdout, run.stderr.as_str()), (status, stdout, ""), "{call} {n}");
    }
    for (sig, status, stdout) in [("30", 0, "raise 30 = 58\n"), ("31", TRAP, ""), ("1000", TRAP, "")] {
        let run = differential("wasi_clock", &["raise", sig], &[], b"", nothing);
        assert_eq!((run.status, run.stdout.as_str(), run.stderr.as_str()), (status, stdout, ""), "raise {sig}");
    }
}

#[test]
fn bad_pointers_trap_in_clock_and_random() {
    for mode in ["misaligned", "oob"] {
        let run = differential("wasi_clock", &[mode], &[], b"", nothing);
        assert_eq!((run.status, run.stdout.as_str(), run.stderr.as_str()), (TRAP, "", ""), "{mode}");
    }
}

#[test]
fn exit_statuses() {
    for code in ["0", "1", "42", "125"] {
        let run = differential("wasi_exit", &[code], &[], b"", nothing);
        assert_eq!(run.status, code.parse::<i32>().unwrap());
        assert_eq!(run.stdout, format!("exit {code}\n"));
        assert_eq!(run.stderr, format!("stderr before exit {code}\n"));
    }
    let run = differential("wasi_exit", &["return"], &[], b"", nothing);
    assert_eq!((run.status, run.stdout.as_str()), (0, "exit return\n"));
}

#[test]
fn exit_statuses_from_126_trap() {
    // wasmtime-wasi refuses statuses outside [0, 126) with a trap.
    for code in ["126", "127", "255", "256", "-1"] {
        let run = differential("wasi_exit", &[code], &[], b"", nothing);
        assert_eq!(run.status, TRAP, "{code}");
        assert_eq!(run.stdout, format!("exit {code}\n"));
        assert_eq!(run.stderr, format!("stderr before exit {code}\n"));
    }
}

#[test]
fn a_panic_aborts_with_its_message() {
    let run = differential("wasi_exit", &["panic"], &[], b"", nothing);
    assert_eq!((run.status, run.stdout.as_str()), (TRAP, "exit panic\n"));
    assert!(run.stderr.starts_with("stderr before exit panic\n"), "{}", run.stderr);
    assert!(run.stderr.contains("deliberate"), "{}", run.stderr);
}

#[test]
fn poll_oneoff_clocks_and_files() {
    let run = differential("wasi_poll", &[], &[], b"", |d| std::fs::write(d.join("other.txt"), "kept").unwrap());
    let expected = "\
no subscriptions: errno 28
relative 20ms: 1 events
  userdata 7 error 0 type 0 nbytes 0 flags 0
  waited >= 20ms: true
relative realtime 10ms: 1 events
  userdata 8 error 0 type 0 nbytes 0 flags 0
  waited >= 10ms: true
10ms and 10s: 1 events
  userdata 1 error 0 type 0 nbytes 0 flags 0
  waited >= 10ms and < 5s: true
absolute monotonic +15ms: 1 events
  userdata 3 error 0 type 0 nbytes 0 flags 0
  waited >= 15ms: true
absolute realtime +15ms: 1 events
  userdata 4 error 0 type 0 nbytes 0 flags 0
  waited >= 14ms: true
absolute realtime in the past: 1 events
  userdata 5 error 0 type 0 nbytes 0 flags 0
  waited < 1s: true
zero timeouts: 2 events
  userdata 10 error 0 type 0 nbytes 0 flags 0
  userdata 11 error 0 type 0 nbytes 0 flags 0
clock id 2: errno 28
clock id 3: errno 28
clock id 9: errno 28
clock flags 2: errno 28
tag 3: errno 28
read fd 99: errno 8
write fd 99: errno 8
read stdout: errno 8
write stdin: errno 8
read preopen: errno 8
write preopen: errno 8
bad fd after a good clock: errno 8
write stdout, stderr and a 10s clock: 2 events
  userdata 21 error 0 type 2 nbytes 1 flags 0
  userdata 23 error 0 type 2 nbytes 1 flags 0
  waited < 5s: true
read file at its end: 1 events
  userdata 31 error 0 type 1 nbytes 1 flags 1
read file at its start: 1 events
  userdata 32 error 0 type 1 nbytes 1 flags 0
write file, clock 0: 1 events
  userdata 34 error 0 type 2 nbytes 1 flags 0
write file, stdout, 10s clock: 2 events
  userdata 36 error 0 type 2 nbytes 1 flags 0
  userdata 38 error 0 type 2 nbytes 1 flags 0
read back \"abc\"
read file after reading it all: 1 events
  userdata 35 error 0 type 1 nbytes 1 flags 1
";
    assert_eq!(run.stdout, expected);
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
}

#[test]
fn poll_oneoff_misaligned_subscriptions_trap() {
    let run = differential("wasi_poll", &["misaligned"], &[], b"", nothing);
    assert_eq!((run.status, run.stdout.as_str(), run.stderr.as_str()), (TRAP, "", ""));
}

fn stdin_transcript(input: &str) -> String {
    let event = "  userdata 100 error 0 type 1 nbytes 1 flags 0\n";
    format!("before reading: poll = 0, 1 events\n{event}stdin: {input:?}\nat end of input: poll = 0, 1 events\n{event}")
}

#[test]
fn poll_oneoff_on_stdin() {
    let input = "hello\nwörld\n";
    let run = differential("wasi_stdin", &[], &[], input.as_bytes(), nothing);
    assert_eq!(run.stdout, stdin_transcript(input));
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
}

#[test]
fn poll_oneoff_on_empty_stdin() {
    let run = differential("wasi_stdin", &[], &[], b"", nothing);
    assert_eq!(run.stdout, stdin_transcript(""));
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
}

#[test]
fn sock_calls_on_descriptors_that_are_not_sockets() {
    let run = differential("wasi_sock", &[], &[], b"", nothing);
    let mut expected = String::new();
    for (fd, errno) in [(0, 57), (1, 57), (3, 57), (99, 8)] {
        expected += &format!("sock_accept({fd}) = {errno}\n");
        expected += &format!("sock_recv({fd}) = ({errno}, 57005, 48879)\n");
        expected += &format!("sock_send({fd}) = ({errno}, 57005)\n");
        for how in [0, 1, 3] {
            expected += &format!("sock_shutdown({fd}, {how}) = {errno}\n");
        }
    }
    expected += "sock_send flags 0xffff = (8, 57005)\n";
    assert_eq!(run.stdout, expected);
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
}

#[test]
fn sock_flags_with_unknown_bits_trap() {
    for mode in ["bad-accept", "bad-recv", "bad-send", "bad-shutdown"] {
        let run = differential("wasi_sock", &[mode], &[], b"", nothing);
        assert_eq!((run.status, run.stdout.as_str(), run.stderr.as_str()), (TRAP, "", ""), "{mode}");
    }
}

// wasmtime-wasi's preview1 has no sockets at all, so what the shim does on
// a socket it was given is checked against the peer's view instead.

/// Runs `wasi_sock MODE` with `stdin` as its standard input, while `peer`
/// talks to it; returns the run and what the peer received.
fn with_socket_stdin(mode: &str, stdin: std::os::fd::OwnedFd, peer: impl FnOnce() -> Vec<u8>) -> (Run, Vec<u8>) {
    let child = waligate()
        .arg("run")
        .arg(wasi_guest("wasi_sock"))
        .arg(mode)
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let got = peer();
    let out = child.wait_with_output().unwrap();
    let run = Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (run, got)
}

/// Sends "ping", reads the answer until the guest shuts down its side,
/// then closes.
fn ping(mut s: UnixStream) -> Vec<u8> {
    s.write_all(b"ping").unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    got
}

const ECHO: &str = "\
sock_recv = 0, 4 bytes, roflags 0: \"ping\"
sock_send = 0, 10 bytes
sock_shutdown(WR) = 0
sock_recv at end = 0, 0 bytes, roflags 0
";

#[test]
fn sock_recv_send_shutdown_on_a_socket_stdin() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let (run, got) = with_socket_stdin("echo", ours.into(), || ping(theirs));
    assert_eq!(run.stdout, ECHO);
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
    assert_eq!(got, b"pong: ping");
}

#[test]
fn sock_accept_on_a_listening_stdin() {
    let dir = scratch();
    let path = dir.path().join("listener");
    let listener = UnixListener::bind(&path).unwrap();
    // What shutting down a listening socket does here, natively.
    let native = {
        let other = UnixListener::bind(dir.path().join("native")).unwrap();
        let r = unsafe { libc::shutdown(std::os::fd::AsRawFd::as_raw_fd(&other), libc::SHUT_RDWR) };
        if r == 0 { 0 } else { std::io::Error::last_os_error().raw_os_error().unwrap() }
    };
    let (run, got) = with_socket_stdin("accept", listener.into(), || ping(UnixStream::connect(&path).unwrap()));
    let native_wasi = match native {
        0 => 0,
        libc::ENOTCONN => 53,
        libc::EINVAL => 28,
        other => panic!("unexpected errno {other}"),
    };
    let expected = format!("sock_accept = 0, fd 3\n{ECHO}sock_shutdown(RD|WR) on the listener = {native_wasi}\n");
    assert_eq!(run.stdout, expected);
    assert_eq!((run.status, run.stderr.as_str()), (0, ""));
    assert_eq!(got, b"pong: ping");
}

/// Names an escape from the preopen would have created next to it or in /etc.
fn escape_marks(preopen: &Path) -> Vec<PathBuf> {
    let parent = preopen.parent().unwrap();
    ["escape_file", "escape_dir"].iter().map(|n| parent.join(n)).chain([PathBuf::from("/etc/escaped")]).collect()
}

#[test]
fn files_directories_and_readdir_cookies() {
    let out = differential("wasi_fs", &[], &[], b"", nothing);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("create+write = ()\nread = \"hello world\\n\"\n"), "{}", out.stdout);
}

#[test]
fn links_renames_and_escapes_touch_nothing_outside() {
    let dir = scratch();
    let wasm = wasi_guest("wasi_fs_links");
    let out = differential("wasi_fs_links", &[], &[], b"", nothing);
    assert_eq!(out.status, 0, "{}", out.stderr);
    // Every escape attempt reports an error; none landed outside.
    let escapes: Vec<&str> =
        out.stdout.lines().filter(|l| l.starts_with("write ../") || l.starts_with("mkdir ../")).collect();
    assert_eq!(escapes, ["mkdir ../ = EPERM", "write ../ = EPERM"]);
    let r = capture(waligate().arg("run").arg("--dir").arg(format!("{}::/", dir.path().display())).arg(&wasm));
    assert_eq!(r.stdout, out.stdout);
    for mark in escape_marks(dir.path()) {
        assert!(!mark.exists(), "{} was created", mark.display());
    }
}

#[test]
fn metadata_timestamps_fdstat_and_renumber() {
    let out = differential("wasi_fs_meta", &[], &[], b"", nothing);
    assert_eq!(out.status, 0, "{}", out.stderr);
}

#[test]
fn invalid_flags_and_enums_trap_like_the_reference() {
    for which in ["whence", "advice", "fdflags", "oflags", "lookupflags", "rights", "fstflags"] {
        let out = differential("wasi_fs_meta", &[which], &[], b"", nothing);
        assert_eq!(out.status, 134, "{which}: {}", out.stderr);
    }
}

#[test]
fn hello_with_a_data_directory() {
    let out = differential("wasi_hello", &["x"], &[("GREETING", "hi")], b"", |d| {
        std::fs::create_dir(d.join("data")).unwrap()
    });
    assert_eq!(out.status, 0);
    assert!(out.stdout.ends_with("read back: \"written by wasi\\n\"\nlisting: [\"greeting.txt\"]\n"), "{}", out.stdout);
}

#[test]
fn the_strict_profile_is_enough_for_the_wasi_layer() {
    for guest in ["wasi_fs", "wasi_fs_links", "wasi_fs_meta", "wasi_hello"] {
        let (a, b) = (scratch(), scratch());
        let run = |dir: &Path, policy: &str| {
            capture(
                waligate()
                    .args(["run", "--policy", policy, "--dir"])
                    .arg(format!("{}::/", dir.display()))
                    .arg(wasi_guest(guest)),
            )
        };
        let (strict, default) = (run(a.path(), "strict"), run(b.path(), "default"));
        assert_eq!((strict.status, strict.stderr.as_str()), (0, ""), "{guest}");
        assert_eq!(strict.stdout, default.stdout, "{guest}");
    }
}

/// A module's start function runs when it is instantiated; linked with the
/// shim, the application's runs after the shim's set-up, so its WASI calls
/// work as under wasmtime-wasi.
#[test]
fn a_start_function_may_call_wasi() {
    let ours = differential_wat(
        "start.wat",
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "early\n")
            (data (i32.const 32) "main\n")
            (func $say (param $at i32) (param $len i32)
                (i32.store (i32.const 64) (local.get $at))
                (i32.store (i32.const 68) (local.get $len))
                (drop (call $write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 72))))
            (func $early (call $say (i32.const 16) (i32.const 6)))
            (start $early)
            (func (export "_start") (call $say (i32.const 32) (i32.const 5))))"#,
    );
    assert_eq!((ours.status, ours.stdout.as_str()), (0, "early\nmain\n"));
}

/// An import the shim cannot satisfy is a load error naming it, and no
/// guest code runs: a WASI name that does not exist, and the shim's own
/// set-up, which the application must not be able to call again.
#[test]
fn an_unknown_wasi_import_is_a_load_error() {
    let dir = scratch();
    for name in ["path_teleport", "__waligate_init"] {
        let wasm = dir.path().join(format!("{name}.wat"));
        std::fs::write(
            &wasm,
            format!(
                r#"(module
                    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
                    (import "wasi_snapshot_preview1" "{name}" (func (result i32)))
                    (memory (export "memory") 1)
                    (func (export "_start") (unreachable)))"#
            ),
        )
        .unwrap();
        let out = capture(waligate().arg("run").arg(&wasm));
        assert_eq!(out.status, 125, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "waligate: cannot load {}: the application imports wasi_snapshot_preview1.{name}, \
                 which WASI preview1 does not define\n",
                wasm.display()
            )
        );
        assert_eq!(out.stdout, "");
    }
}

/// WASI has no NULL pointer: address 0 of the application's memory is an
/// address like any other (for iovec arrays, buffers and results), as
/// under wasmtime-wasi.
#[test]
fn address_zero_is_an_ordinary_address() {
    let ours = differential_wat(
        "zero.wat",
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
            (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "ab\n")
            (data (i32.const 16) "\00\00\00\00\03\00\00\00")
            (data (i32.const 32) "cd!\n")
            (func (export "_start") (local $errors i32)
                ;; A buffer at 0; the count written lands at 0.
                (local.set $errors (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 0)))
                (if (i32.ne (i32.load (i32.const 0)) (i32.const 3)) (then (call $exit (i32.const 10))))
                ;; The iovec array at 0.
                (i32.store (i32.const 0) (i32.const 32))
                (i32.store (i32.const 4) (i32.const 4))
                (local.set $errors (i32.or (local.get $errors)
                    (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 24))))
                ;; Results at 0.
                (local.set $errors (i32.or (local.get $errors) (call $now (i32.const 1) (i64.const 1) (i32.const 0))))
                (if (i64.eqz (i64.load (i32.const 0))) (then (call $exit (i32.const 11))))
                (local.set $errors (i32.or (local.get $errors) (call $random (i32.const 0) (i32.const 8))))
                (call $exit (local.get $errors))))"#,
    );
    assert_eq!((ours.status, ours.stdout.as_str()), (0, "ab\ncd!\n"));
}

/// A preopen the policy refuses to open stops the start before any of the
/// application's code runs, with a clear error.
#[test]
fn a_refused_preopen_stops_the_start() {
    let dir = scratch();
    let policy = dir.path().join("no-open.json");
    std::fs::write(
        &policy,
        r#"{"version": 1, "extends": "default", "rules": [{"id": "no-open", "syscalls": ["openat"], "action": "errno", "errno": "EACCES"}]}"#,
    )
    .unwrap();
    let hello = wasi_guest("wasi_hello");
    let out = capture(
        waligate()
            .arg("run")
            .arg("--policy")
            .arg(&policy)
            .arg("--dir")
            .arg(format!("{}::/", dir.path().display()))
            .arg(&hello),
    );
    assert_eq!((out.status, out.stdout.as_str()), (125, ""));
    let last = out.stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "waligate: cannot start {}: the WASI shim could not open its preopened directories (WASI errno 2)",
            hello.display()
        )
    );
}

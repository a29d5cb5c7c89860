//! A WASI hello: arguments, environment, and a file in the preopened
//! directory `/data` (if any).

use std::io::Write;

fn main() {
    println!("hello from WASI");
    for (i, a) in std::env::args().enumerate() {
        println!("arg {i}: {a}");
    }
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (k, v) in vars {
        println!("env {k}={v}");
    }
    if std::path::Path::new("/data").exists() {
        let path = "/data/greeting.txt";
        std::fs::File::create(path).and_then(|mut f| f.write_all(b"written by wasi\n")).unwrap();
        println!("read back: {:?}", std::fs::read_to_string(path).unwrap());
        let mut names: Vec<String> = std::fs::read_dir("/data")
            .map(|d| d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
            .unwrap_or_default();
        names.sort();
        println!("listing: {names:?}");
    }
    std::process::exit(match std::env::args().nth(1).as_deref() {
        Some("fail") => 3,
        _ => 0,
    });
}

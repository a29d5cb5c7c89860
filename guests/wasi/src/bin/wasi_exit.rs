//! Exits with the status in argv[1] (after writing to both streams), or
//! returns from main, or panics.

use std::io::Write;

fn main() {
    let how = std::env::args().nth(1).unwrap_or_default();
    println!("exit {how}");
    eprintln!("stderr before exit {how}");
    std::io::stdout().flush().unwrap();
    match how.as_str() {
        "return" => {}
        "panic" => panic!("deliberate"),
        code => std::process::exit(code.parse().unwrap()),
    }
}

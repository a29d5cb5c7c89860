fn main() {
    std::process::exit(waligate::cli::main());
}

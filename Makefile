# The two entry points of the README. Both install what they need.
.PHONY: setup example test

setup:
	rustup target add wasm32-unknown-unknown wasm32-wasip1

# Build everything and run the bundled example guest.
example: setup
	cargo build --release
	cd guests && cargo build --release
	./target/release/waligate run --env GREETING=hello guests/target/wasm32-unknown-unknown/release/hello.wasm world --flag

# Run every test (the test harness builds the guests itself).
test: setup
	cargo test --workspace --no-fail-fast

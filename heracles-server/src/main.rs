//! The Heracles REST server. The HTTP API arrives with the server issue; today the binary
//! only reports its version and says so.

fn main() {
    println!(
        "heracles-server {}: the REST API is not implemented yet; see README.md for what runs today",
        env!("CARGO_PKG_VERSION")
    );
}

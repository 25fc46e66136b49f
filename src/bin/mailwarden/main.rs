//! The `mailwarden` command-line tool.
fn main() {
    std::process::exit(2);
}

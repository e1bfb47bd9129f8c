//! The README's key table is generated from the keymap (config/client.toml
//! and the actions' descriptions), so it cannot drift from them. After a
//! change to either: `UPDATE_README=1 cargo test -p auction-screens --test
//! readme_keys` rewrites it.

use auction_screens::keymap::Keymap;

const BEGIN: &str =
    "<!-- keys: generated from config/client.toml by screens/tests/readme_keys.rs -->\n";
const END: &str = "<!-- keys: end -->";

#[test]
fn the_readme_key_table_is_the_keymaps() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let table = Keymap::defaults().markdown_table();
    let start = readme.find(BEGIN).expect("the README marks its key table") + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("the key table's end marker");
    if readme[start..end] == table {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(
            &path,
            format!("{}{table}{}", &readme[..start], &readme[end..]),
        )
        .unwrap();
        return;
    }
    panic!(
        "README.md's key table differs from the keymap; run `UPDATE_README=1 cargo test -p auction-screens --test readme_keys`:\n{table}"
    );
}

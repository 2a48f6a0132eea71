fn main() {
    spawn_build::compile().unwrap()
}

fn main() {
    println!("the benchmark harness is not written yet");
}

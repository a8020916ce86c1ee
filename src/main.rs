fn main() {
    println!("flightdeck");
}

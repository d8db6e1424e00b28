use cljit_runtime::*;

#[test]
fn smoke() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, std::fs::read("../examples/fib.wat").unwrap())?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let fib = instance.get_typed_func::<i32, i32>(&store, "fib")?;
    assert_eq!(fib.call(&mut store, 20)?, 6765);

    let m = Module::new(
        &engine,
        r#"(module (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s))"#,
    )?;
    let i = Instance::new(&mut store, &m, &[])?;
    let div = i.get_typed_func::<(i32, i32), i32>(&store, "div")?;
    assert_eq!(div.call(&mut store, (7, 2))?, 3);
    let e = div.call(&mut store, (7, 0)).unwrap_err();
    println!("{e}");
    assert_eq!(e.as_trap(), Some(Trap::IntegerDivisionByZero));
    assert_eq!(div.call(&mut store, (9, 3))?, 3);
    Ok(())
}
